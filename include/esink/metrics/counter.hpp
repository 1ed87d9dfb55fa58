#ifndef ESINK_METRICS_COUNTER_HPP
#define ESINK_METRICS_COUNTER_HPP

#include <atomic>
#include <cstdint>

namespace esink::metrics {

/// A monotonically increasing count (events, bytes, failures).
///
/// @par Thread safety
/// Every member from any thread; `inc` is one relaxed atomic add, no allocation, no lock.
class counter {
public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace esink::metrics

#endif
