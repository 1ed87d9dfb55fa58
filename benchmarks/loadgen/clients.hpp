#ifndef ESINK_BENCHMARKS_LOADGEN_CLIENTS_HPP
#define ESINK_BENCHMARKS_LOADGEN_CLIENTS_HPP

// Socket.IO v5 / Engine.IO v4 clients over raw WebSocket, many per thread on one epoll each.
// Per event the work is: frame header, event name, `"seq":` and `"ts":` found with memmem,
// one histogram bump and one byte of bookkeeping. No JSON parse, no allocation.

#include "histogram.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace loadgen {

inline std::uint64_t mono_us() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

/// Appends a masked client-to-server text (or pong) frame (RFC 6455 §5.2, §5.3).
inline void append_client_frame(std::string& out, std::string_view payload, unsigned opcode = 1) {
  static constexpr unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  out.push_back(static_cast<char>(0x80 | opcode));
  std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff));
  }
  out.append(reinterpret_cast<const char*>(key), 4);
  std::size_t base = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i) out[base + i] = static_cast<char>(out[base + i] ^ key[i & 3]);
}

/// Parses an unsigned decimal after `key` (e.g. `"seq":`), tolerating a quoted number.
inline bool find_number(const char* p, std::size_t n, std::string_view key, std::uint64_t& out) {
  const void* hit = memmem(p, n, key.data(), key.size());
  if (!hit) return false;
  const char* q = static_cast<const char*>(hit) + key.size();
  const char* end = p + n;
  if (q < end && *q == '"') ++q;
  if (q >= end || *q < '0' || *q > '9') return false;
  std::uint64_t v = 0;
  while (q < end && *q >= '0' && *q <= '9') v = v * 10 + static_cast<std::uint64_t>(*q++ - '0');
  out = v;
  return true;
}

/// Steps of a run: the producer publishes the first sequence number of each step, and
/// clients attribute every event to the step its row was committed in.
struct step_table {
  static constexpr unsigned max_steps = 32;
  std::atomic<std::uint64_t> first_seq[max_steps] = {};
  std::atomic<unsigned> started{0};

  unsigned find(std::uint64_t seq) const noexcept {
    unsigned n = started.load(std::memory_order_acquire);
    while (n > 1 && first_seq[n - 1].load(std::memory_order_relaxed) > seq) --n;
    return n == 0 ? 0 : n - 1;
  }
};

/// What all client threads count together.
struct client_totals {
  std::atomic<std::uint64_t> connected{0};
  std::atomic<std::uint64_t> connect_failed{0};
  std::atomic<std::uint64_t> auth_refused{0};
  std::atomic<std::uint64_t> dropped{0};  ///< ready clients the server disconnected
  std::atomic<std::uint64_t> protocol_errors{0};
  std::string first_error;  ///< written once, under `error_once`
  std::atomic<bool> error_once{false};

  void note_error(const std::string& what) {
    bool expected = false;
    if (error_once.compare_exchange_strong(expected, true)) first_error = what;
  }
};

/// Settings shared by every client.
struct client_config {
  sockaddr_in server{};
  std::string host_header;
  std::string path = "/socket.io/";
  unsigned source_addrs = 8;  ///< 127.0.0.2 ... 127.0.0.(1+N), each with its own port range
  std::string token_prefix = "tok";
  unsigned users = 1;
  unsigned slow_clients = 0;  ///< the first N clients stop reading once connected
  unsigned max_inflight = 256;  ///< handshakes in progress per thread
  unsigned steps = 1;
  std::size_t max_seq = 0;  ///< per-client delivery counters are sized to this
};

/// One client connection. Kept small: 100,000 of them must fit next to the server.
struct client {
  enum class state : std::uint8_t { idle, connecting, http, eio_open, sio_connect, ready, stalled, closed, failed };
  int fd = -1;
  std::uint32_t user = 0;
  state st = state::idle;
  std::string partial;  ///< bytes of a frame that spans reads; usually empty
  /// Per sequence number: low nibble counts `changes` events, high nibble the other events.
  std::vector<std::uint8_t> got;
  std::uint32_t unknown_seq = 0;  ///< events whose seq was never committed
  std::uint32_t events_without_seq = 0;
};

/// A thread of clients: one epoll, level-triggered, one shared read buffer.
class client_thread {
public:
  client_thread(const client_config& cfg, std::vector<client>& clients, const step_table& steps,
                client_totals& totals)
      : cfg_(cfg), clients_(clients), steps_(steps), totals_(totals), rbuf_(1u << 20) {
    for (unsigned i = 0; i < cfg.steps; ++i) {
      hist_.push_back(std::make_unique<histogram>());
      step_events_.push_back(std::make_unique<std::atomic<std::uint64_t>>(0));
      step_last_us_.push_back(std::make_unique<std::atomic<std::uint64_t>>(0));
    }
    ep_ = epoll_create1(EPOLL_CLOEXEC);
  }
  ~client_thread() {
    if (ep_ >= 0) close(ep_);
  }
  client_thread(const client_thread&) = delete;
  client_thread& operator=(const client_thread&) = delete;

  void assign(std::uint32_t index) { mine_.push_back(index); }

  /// Runs until `stop`: opens this thread's clients (at most `max_inflight` handshakes at a
  /// time), then serves them.
  void run(const std::atomic<bool>& stop) {
    clockid_t cid;
    if (pthread_getcpuclockid(pthread_self(), &cid) == 0) {
      cpu_clock_ = cid;
      has_clock_.store(true, std::memory_order_release);
    }
    epoll_event evs[512];
    while (!stop.load(std::memory_order_relaxed)) {
      while (inflight_ < cfg_.max_inflight && next_ < mine_.size()) start(mine_[next_++]);
      int n = epoll_wait(ep_, evs, 512, 20);
      for (int i = 0; i < n; ++i) on_ready(evs[i].data.u32, evs[i].events);
    }
  }

  /// Closes every socket of this thread (after `run` returned).
  void close_all() {
    for (std::uint32_t i : mine_) {
      client& c = clients_[i];
      if (c.fd >= 0) close(c.fd);
      c.fd = -1;
    }
  }

  /// CPU seconds this thread has used so far (0 before it started).
  double cpu_seconds() const {
    if (!has_clock_.load(std::memory_order_acquire)) return 0;
    timespec ts{};
    if (clock_gettime(cpu_clock_, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }

  const histogram& step_histogram(unsigned step) const { return *hist_[step]; }
  std::uint64_t step_events(unsigned step) const { return step_events_[step]->load(std::memory_order_relaxed); }
  std::uint64_t step_last_us(unsigned step) const { return step_last_us_[step]->load(std::memory_order_relaxed); }
  std::uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  void start(std::uint32_t index) {
    client& c = clients_[index];
    c.user = index % cfg_.users + 1;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Several source addresses, port picked at connect time: 28k ports per address.
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | (2u + index % cfg_.source_addrs));
    if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      return fail(c, std::string("bind: ") + std::strerror(errno));
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&cfg_.server), sizeof cfg_.server) != 0 &&
        errno != EINPROGRESS)
      return fail(c, std::string("connect: ") + std::strerror(errno));
    c.st = client::state::connecting;
    ++inflight_;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u32 = index;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void fail(client& c, const std::string& why) {
    if (c.st == client::state::connecting || c.st == client::state::http || c.st == client::state::eio_open ||
        c.st == client::state::sio_connect)
      --inflight_;
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
    }
    c.st = client::state::failed;
    totals_.connect_failed.fetch_add(1, std::memory_order_relaxed);
    totals_.note_error(why);
  }

  void closed(client& c, const char* why) {
    if (c.st != client::state::ready) return fail(c, why);
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    c.st = client::state::closed;
    totals_.dropped.fetch_add(1, std::memory_order_relaxed);
    totals_.note_error(std::string("server closed a connected client: ") + why);
  }

  void send_all(client& c, const std::string& bytes) {
    // Client traffic is a few small frames; a full socket buffer here means a stuck server.
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(c.fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        totals_.note_error("client send buffer full");
        return;
      }
      return closed(c, "send failed");
    }
  }

  void send_text(client& c, std::string_view payload, unsigned opcode = 1) {
    out_.clear();
    append_client_frame(out_, payload, opcode);
    send_all(c, out_);
  }

  void on_ready(std::uint32_t index, std::uint32_t events) {
    client& c = clients_[index];
    if (c.fd < 0) return;
    if (c.st == client::state::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
      if (!(events & EPOLLOUT)) return;
      out_ = "GET " + cfg_.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + cfg_.host_header +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n";
      c.st = client::state::http;
      send_all(c, out_);
      if (c.fd < 0) return;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = index;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      return;
    }
    // Read until the socket is empty or 4 buffers were taken (fairness between clients).
    for (int round = 0; round < 4 && c.fd >= 0 && c.st != client::state::stalled; ++round) {
      std::size_t have = c.partial.size();
      if (have + 65536 > rbuf_.size()) rbuf_.resize(have + 65536);
      if (have) std::memcpy(rbuf_.data(), c.partial.data(), have);
      ssize_t n = recv(c.fd, rbuf_.data() + have, rbuf_.size() - have, 0);
      if (n == 0) return closed(c, "end of stream");
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        return closed(c, "read error");
      }
      bump(bytes_, static_cast<std::uint64_t>(n));
      std::size_t total = have + static_cast<std::size_t>(n);
      std::size_t used = consume(index, c, rbuf_.data(), total);
      if (c.fd < 0) return;
      if (used < total) {
        c.partial.assign(rbuf_.data() + used, total - used);
      } else {
        c.partial.clear();
        if (c.partial.capacity() > 65536) c.partial.shrink_to_fit();
      }
      if (static_cast<std::size_t>(n) < rbuf_.size() - have) return;
    }
  }

  /// Consumes whole HTTP/WebSocket units from `p`; returns the bytes used.
  std::size_t consume(std::uint32_t index, client& c, const char* p, std::size_t n) {
    std::size_t off = 0;
    if (c.st == client::state::http) {
      const void* end = memmem(p, n, "\r\n\r\n", 4);
      if (!end) {
        if (n > 16384) fail(c, "oversized HTTP response");
        return 0;
      }
      if (n < 12 || std::memcmp(p + 9, "101", 3) != 0) {
        fail(c, "upgrade refused: " + std::string(p, std::min<std::size_t>(n, 40)));
        return n;
      }
      off = static_cast<std::size_t>(static_cast<const char*>(end) - p) + 4;
      c.st = client::state::eio_open;
    }
    while (off + 2 <= n) {
      auto b0 = static_cast<unsigned char>(p[off]);
      auto b1 = static_cast<unsigned char>(p[off + 1]);
      std::size_t hdr = 2;
      std::uint64_t len = b1 & 0x7f;
      if (len == 126) {
        if (off + 4 > n) break;
        len = (static_cast<std::uint64_t>(static_cast<unsigned char>(p[off + 2])) << 8) |
              static_cast<unsigned char>(p[off + 3]);
        hdr = 4;
      } else if (len == 127) {
        if (off + 10 > n) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(p[off + 2 + i]);
        hdr = 10;
      }
      if (b1 & 0x80) {
        fail(c, "server sent a masked frame");
        return n;
      }
      if (off + hdr + len > n) break;
      const char* payload = p + off + hdr;
      off += hdr + static_cast<std::size_t>(len);
      unsigned opcode = b0 & 0x0f;
      if (opcode == 1) {
        if (!(b0 & 0x80)) {
          totals_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
          totals_.note_error("fragmented text frame (not expected from the server)");
          continue;
        }
        engineio(index, c, payload, static_cast<std::size_t>(len));
        if (c.fd < 0 || c.st == client::state::stalled) return n;
      } else if (opcode == 9) {
        send_text(c, std::string_view(payload, static_cast<std::size_t>(len)), 10);
        if (c.fd < 0) return n;
      } else if (opcode == 8) {
        closed(c, "close frame");
        return n;
      }
    }
    return off;
  }

  void engineio(std::uint32_t index, client& c, const char* p, std::size_t n) {
    if (n == 0) return;
    switch (p[0]) {
      case '0':  // OPEN: join namespace "/" with auth {token} (Socket.IO v5 CONNECT)
        if (c.st == client::state::eio_open) {
          c.st = client::state::sio_connect;
          std::string pkt = "40{\"token\":\"" + cfg_.token_prefix + std::to_string(c.user) + "\"}";
          send_text(c, pkt);
        }
        return;
      case '2':  // PING -> PONG
        send_text(c, "3");
        return;
      case '1':
        return closed(c, "engine.io close");
      case '4':
        break;
      default:
        return;
    }
    if (n < 2) return;
    switch (p[1]) {
      case '2':
        return on_event(c, p + 2, n - 2);
      case '0':
        if (c.st == client::state::sio_connect) {
          c.st = client::state::ready;
          --inflight_;
          totals_.connected.fetch_add(1, std::memory_order_relaxed);
          if (index < cfg_.slow_clients) {
            // The slow consumer: stays connected and never reads again.
            epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
            c.st = client::state::stalled;
          }
        }
        return;
      case '4':
        totals_.auth_refused.fetch_add(1, std::memory_order_relaxed);
        return fail(c, "connect_error: " + std::string(p, std::min<std::size_t>(n, 80)));
      case '1':
        return closed(c, "socket.io disconnect");
      default:
        return;
    }
  }

  void on_event(client& c, const char* p, std::size_t n) {
    // `["name",args...]`: the name decides the counter; seq and ts are found by key.
    if (n < 4 || p[0] != '[' || p[1] != '"') return;
    const char* name = p + 2;
    const char* name_end = static_cast<const char*>(std::memchr(name, '"', n - 2));
    if (!name_end) return;
    std::string_view ev(name, static_cast<std::size_t>(name_end - name));
    const char* rest = name_end + 1;
    std::size_t rest_n = n - static_cast<std::size_t>(rest - p);
    std::uint64_t seq = 0, ts = 0;
    if (!find_number(rest, rest_n, "\"seq\":", seq) || !find_number(rest, rest_n, "\"ts\":", ts)) {
      ++c.events_without_seq;
      return;
    }
    std::uint64_t now = mono_us();
    unsigned step = steps_.find(seq);
    hist_[step]->record(now > ts ? now - ts : 0);
    bump(*step_events_[step]);
    step_last_us_[step]->store(now, std::memory_order_relaxed);
    bump(events_);
    if (seq == 0 || seq > cfg_.max_seq) {
      ++c.unknown_seq;
      return;
    }
    if (c.got.size() <= seq) {
      std::size_t want = std::max<std::size_t>({seq + 1, c.got.size() * 2, 1024});
      c.got.resize(std::min<std::size_t>(want, cfg_.max_seq + 1), 0);
    }
    std::uint8_t& g = c.got[seq];
    if (ev == "changes") {
      if ((g & 0x0f) != 0x0f) ++g;
    } else if ((g >> 4) != 0x0f) {
      g = static_cast<std::uint8_t>(g + 0x10);
    }
  }

  const client_config& cfg_;
  std::vector<client>& clients_;
  const step_table& steps_;
  client_totals& totals_;
  int ep_ = -1;
  std::vector<std::uint32_t> mine_;
  std::size_t next_ = 0;
  unsigned inflight_ = 0;
  std::vector<char> rbuf_;
  std::string out_;
  std::vector<std::unique_ptr<histogram>> hist_;
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>>> step_events_;
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>>> step_last_us_;
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> bytes_{0};
  clockid_t cpu_clock_{};
  std::atomic<bool> has_clock_{false};
};

}  // namespace loadgen

#endif
