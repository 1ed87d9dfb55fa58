#ifndef ESINK_BENCHMARKS_LOADGEN_HISTOGRAM_HPP
#define ESINK_BENCHMARKS_LOADGEN_HISTOGRAM_HPP

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace loadgen {

/// Log-linear latency histogram in microseconds: exact below 1,024 us, then 512 sub-buckets
/// per power of two (0.2 % precision), so percentiles need no stored samples.
///
/// @par Thread safety
/// One writer (`record`); any thread may read while it writes (counts are relaxed atomics,
/// written with a plain load+store so recording costs no locked instruction).
class histogram {
public:
  static constexpr unsigned sub_bits = 9;
  static constexpr std::uint64_t sub = std::uint64_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = 2 * sub + 44 * sub;

  histogram() : counts_(new std::atomic<std::uint64_t>[bucket_count]) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  void record(std::uint64_t us) noexcept {
    bump(counts_[index(us)]);
    bump(total_);
    if (us > max_.load(std::memory_order_relaxed)) max_.store(us, std::memory_order_relaxed);
  }

  std::uint64_t total() const noexcept { return total_.load(std::memory_order_relaxed); }
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  std::uint64_t count_at(std::size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }

  static std::size_t index(std::uint64_t v) noexcept {
    if (v < 2 * sub) return static_cast<std::size_t>(v);
    unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    unsigned shift = msb - sub_bits;
    std::size_t i = 2 * sub + (shift - 1) * sub + static_cast<std::size_t>((v >> shift) - sub);
    return std::min(i, bucket_count - 1);
  }

  /// Largest value that falls in bucket `i`.
  static std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i < 2 * sub) return i;
    std::size_t shift = (i - 2 * sub) / sub + 1;
    std::uint64_t m = (i - 2 * sub) % sub + sub;
    return ((m + 1) << shift) - 1;
  }

private:
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> max_{0};
};

/// Percentiles over several histograms (one per thread), optionally with `missing` samples
/// that never arrived and therefore count as later than any recorded one.
struct latency_summary {
  std::uint64_t count = 0;
  std::uint64_t missing = 0;
  std::uint64_t p50 = 0, p95 = 0, p99 = 0, max = 0;  ///< microseconds; UINT64_MAX: not arrived
};

inline latency_summary summarize(const std::vector<const histogram*>& parts, std::uint64_t missing = 0) {
  latency_summary s;
  s.missing = missing;
  std::vector<std::uint64_t> merged(histogram::bucket_count, 0);
  for (const histogram* h : parts) {
    for (std::size_t i = 0; i < histogram::bucket_count; ++i) merged[i] += h->count_at(i);
    s.max = std::max(s.max, h->max());
  }
  for (std::uint64_t c : merged) s.count += c;
  std::uint64_t all = s.count + missing;
  if (all == 0) return s;
  auto at = [&](double q) -> std::uint64_t {
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(all) + 0.999999);
    rank = std::max<std::uint64_t>(rank, 1);
    if (rank > s.count) return UINT64_MAX;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < merged.size(); ++i) {
      seen += merged[i];
      if (seen >= rank) return std::min(histogram::upper_bound(i), s.max);
    }
    return s.max;
  };
  s.p50 = at(0.50);
  s.p95 = at(0.95);
  s.p99 = at(0.99);
  if (missing) s.max = UINT64_MAX;
  return s;
}

}  // namespace loadgen

#endif
