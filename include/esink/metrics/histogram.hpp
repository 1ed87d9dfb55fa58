#ifndef ESINK_METRICS_HISTOGRAM_HPP
#define ESINK_METRICS_HISTOGRAM_HPP

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace esink::metrics {

/// Observations counted in fixed buckets, with their sum (Prometheus histogram).
///
/// The upper bounds are fixed at construction; `+Inf` is implicit. Each bucket stores its own
/// count, the exposition accumulates them, so `_count` always equals the `+Inf` bucket.
///
/// @par Thread safety
/// `observe` from any thread: a short scan of the bounds and two relaxed atomic updates, no
/// allocation, no lock.
class histogram {
public:
  /// @throws std::invalid_argument unless `bounds` are finite and strictly increasing.
  explicit histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i] > bounds_[i - 1])))
        throw std::invalid_argument("histogram: bucket bounds must be finite and strictly increasing");
    }
    for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
  }
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts `v` in the first bucket whose bound is >= v (`le` semantics); NaN is ignored.
  void observe(double v) noexcept {
    if (std::isnan(v)) return;
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    double cur = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {}
  }

  const std::vector<double>& bounds() const noexcept { return bounds_; }

  /// Observations in bucket `i` alone (not cumulative); `i == bounds().size()` is the `+Inf` one.
  std::uint64_t bucket_count(std::size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }

  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) n += bucket_count(i);
    return n;
  }

private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace esink::metrics

#endif
