#ifndef ESINK_SOURCE_DETAIL_WAKE_PIPE_HPP
#define ESINK_SOURCE_DETAIL_WAKE_PIPE_HPP

#include <cerrno>
#include <chrono>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace esink::detail {

/// A self-pipe that lets another thread interrupt a source thread blocked in `poll()`.
///
/// @par Thread safety
/// `notify()` may be called from any thread; `wait()` and `drain()` only from the owning thread.
class wake_pipe {
public:
  wake_pipe() {
    if (::pipe(fds_) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    for (int fd : fds_) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  wake_pipe(const wake_pipe&) = delete;
  wake_pipe& operator=(const wake_pipe&) = delete;
  ~wake_pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }

  /// Wakes the waiting thread (idempotent until drained).
  void notify() noexcept {
    char c = 1;
    [[maybe_unused]] auto n = ::write(fds_[1], &c, 1);
  }

  /// Empties the pipe.
  void drain() noexcept {
    char buf[64];
    while (::read(fds_[0], buf, sizeof buf) > 0) {}
  }

  /// Waits until `fd` (if >= 0) is ready for `events`, `notify()` was called, or `timeout`
  /// passes. Returns true when `fd` is ready (or failed: the caller's next read reports it).
  bool wait(int fd, std::chrono::milliseconds timeout, short events = POLLIN) noexcept {
    pollfd p[2] = {{fds_[0], POLLIN, 0}, {fd, events, 0}};
    int n = ::poll(p, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (n <= 0) return false;
    if (p[0].revents) drain();
    return fd >= 0 && (p[1].revents & (events | POLLERR | POLLHUP | POLLNVAL));
  }

private:
  int fds_[2];
};

}  // namespace esink::detail

#endif
