#ifndef ESINK_TESTS_AUTH_UTIL_HPP
#define ESINK_TESTS_AUTH_UTIL_HPP

#include <esink/auth/user.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace esink_test {

/// Collects auth answers and lets a test wait for a number of them.
struct answers {
  struct answer {
    std::error_code ec;
    esink::user u;
    std::thread::id thread;
  };
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<answer> got;

  esink::auth_handler handler() {
    return [this](std::error_code ec, esink::user u) {
      std::lock_guard<std::mutex> lk(mtx);
      got.push_back({ec, std::move(u), std::this_thread::get_id()});
      cv.notify_all();
    };
  }
  bool wait(std::size_t n, std::chrono::seconds t = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lk(mtx);
    return cv.wait_for(lk, t, [&] { return got.size() >= n; });
  }
};

}  // namespace esink_test

#endif
