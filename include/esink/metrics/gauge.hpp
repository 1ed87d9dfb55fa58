#ifndef ESINK_METRICS_GAUGE_HPP
#define ESINK_METRICS_GAUGE_HPP

#include <atomic>

namespace esink::metrics {

/// A value that goes up and down (connected clients, queued events, lag in seconds).
///
/// @par Thread safety
/// Every member from any thread, lock-free.
class gauge {
public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) noexcept { add(d); }
  void dec(double d = 1) noexcept { add(-d); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  void add(double d) noexcept {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {}
  }

  std::atomic<double> value_{0};
};

}  // namespace esink::metrics

#endif
