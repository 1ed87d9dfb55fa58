#ifndef ESINK_SERVICE_DETAIL_DELIVERY_QUEUE_HPP
#define ESINK_SERVICE_DETAIL_DELIVERY_QUEUE_HPP

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace esink::detail {

/// Bounded single-producer/single-consumer hand-off between the source's thread and the
/// delivery thread: `push` blocks while full (backpressure to the source, never loss),
/// `close` releases both sides.
template <class T> class delivery_queue {
public:
  explicit delivery_queue(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}

  /// Blocks while full; false once closed (the item was not queued).
  bool push(T item) {
    std::unique_lock<std::mutex> lk(mtx_);
    not_full_.wait(lk, [this] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    lk.unlock();
    not_empty_.notify_one();
    return true;
  }

  /// Blocks while empty; nullopt once closed and drained.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lk(mtx_);
    not_empty_.wait(lk, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    lk.unlock();
    not_full_.notify_one();
    return item;
  }

  /// Wakes everyone; later pushes fail, pops drain what is left. With `discard`, what is left is dropped.
  void close(bool discard = false) {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      closed_ = true;
      if (discard) items_.clear();
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lk(mtx_);
    return items_.size();
  }

private:
  const std::size_t capacity_;
  mutable std::mutex mtx_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace esink::detail

#endif
