#ifndef ESINK_AUTH_DETAIL_WORKER_POOL_HPP
#define ESINK_AUTH_DETAIL_WORKER_POOL_HPP

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace esink::detail {

struct no_state {};

/// A few threads, each owning one `State` (e.g. a database connection) built on the thread,
/// running jobs from a bounded queue.
template <class State = no_state> class worker_pool {
public:
  using job = std::function<void(State&)>;
  using factory = std::function<State()>;

  worker_pool(std::size_t threads, std::size_t max_queued, factory make = [] { return State{}; })
      : max_queued_(max_queued) {
    if (threads == 0) threads = 1;
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this, make] {
        State state = make();
        run(state);
      });
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() { stop(); }

  /// Queues `j`; false when the queue is full or the pool stopped (the job will not run).
  bool post(job j) {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      if (stopped_ || jobs_.size() >= max_queued_) return false;
      jobs_.push_back(std::move(j));
    }
    cv_.notify_one();
    return true;
  }

  /// Drops queued jobs, waits for running ones, joins the threads.
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      if (stopped_ && threads_.empty()) return;
      stopped_ = true;
      jobs_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    threads_.clear();
  }

private:
  void run(State& state) {
    for (;;) {
      job j;
      {
        std::unique_lock<std::mutex> lk(mtx_);
        cv_.wait(lk, [this] { return stopped_ || !jobs_.empty(); });
        if (stopped_) return;
        j = std::move(jobs_.front());
        jobs_.pop_front();
      }
      j(state);
    }
  }

  std::size_t max_queued_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace esink::detail

#endif
