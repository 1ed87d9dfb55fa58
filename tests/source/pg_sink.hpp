#ifndef ESINK_TESTS_SOURCE_PG_SINK_HPP
#define ESINK_TESTS_SOURCE_PG_SINK_HPP

// A sink for source tests (PostgreSQL and SQLite): records events, waits for counts.

#include <esink/source/change_event.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <system_error>
#include <vector>

namespace esink_test {

struct recording_sink {
  template <class Ack> explicit recording_sink(Ack ack) : ack_(std::move(ack)) {}
  recording_sink() = default;

  void on_change(esink::change_event&& e) {
    std::uint64_t id = e.id;
    {
      std::lock_guard<std::mutex> l(m);
      events.push_back(std::move(e));
    }
    cv.notify_all();
    if (ack_) ack_(id);
  }
  void on_status(std::error_code ec) {
    std::lock_guard<std::mutex> l(m);
    statuses.push_back(ec);
    cv.notify_all();
  }
  /// Waits until at least `n` events arrived or `timeout` passed; returns the count seen.
  std::size_t wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> l(m);
    cv.wait_for(l, timeout, [&] { return events.size() >= n; });
    return events.size();
  }
  std::vector<esink::change_event> take() {
    std::lock_guard<std::mutex> l(m);
    return std::move(events);
  }
  std::size_t size() {
    std::lock_guard<std::mutex> l(m);
    return events.size();
  }

  std::mutex m;
  std::condition_variable cv;
  std::vector<esink::change_event> events;
  std::vector<std::error_code> statuses;

private:
  std::function<void(std::uint64_t)> ack_;
};

}  // namespace esink_test

#endif
