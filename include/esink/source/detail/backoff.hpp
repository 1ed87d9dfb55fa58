#ifndef ESINK_SOURCE_DETAIL_BACKOFF_HPP
#define ESINK_SOURCE_DETAIL_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace esink::detail {

/// Exponential reconnect backoff with full jitter, capped: delays grow `initial`, 2x, 4x ... up
/// to `max`, each drawn uniformly from [d/2, d] so that many esinks do not reconnect in step.
class backoff {
public:
  using duration = std::chrono::milliseconds;

  backoff(duration initial, duration max) noexcept
      : initial_(std::max(initial, duration(1))), max_(std::max(max, initial_)), next_(initial_) {}

  /// The delay before the next attempt; advances the schedule.
  duration next() noexcept {
    duration d = next_;
    next_ = std::min(max_, next_ * 2);
    seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;  // PCG step, no <random> state
    auto half = d.count() / 2;
    return duration(half + static_cast<long long>((seed_ >> 33) % static_cast<std::uint64_t>(d.count() - half + 1)));
  }

  /// Back to `initial` after a successful connection.
  void reset() noexcept { next_ = initial_; }

private:
  duration initial_, max_, next_;
  std::uint64_t seed_ = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
};

}  // namespace esink::detail

#endif
