#ifndef ESINK_BENCHMARKS_LOADGEN_PRODUCERS_HPP
#define ESINK_BENCHMARKS_LOADGEN_PRODUCERS_HPP

// Where the events come from: rows committed to PostgreSQL or MariaDB, `broadcast` emits to
// socketio_echo, or POST /publish. Every row carries its sequence number and the monotonic
// time (us) taken just before the statement that commits it was sent.

#include "clients.hpp"

#include <libpq-fe.h>
#include <mysql.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loadgen {

/// One row to commit: `owner` 0 means the row is for everyone (a `"*"` table).
struct row {
  std::uint64_t seq;
  std::uint32_t owner;
};

/// Commits rows somewhere the server under test will see them.
class producer {
public:
  virtual ~producer() = default;
  virtual bool open(std::string& err) = 0;
  /// Commits `rows` as one statement/transaction stamped with `ts_us`.
  virtual bool send(const std::vector<row>& rows, std::uint64_t ts_us, std::string& err) = 0;
};

inline std::string row_pad(std::size_t row_bytes) {
  // {"id":..,"seq":..,"ts":..,"owner":..,"pad":"..."} is ~75 bytes without the pad.
  return std::string(row_bytes > 80 ? row_bytes - 75 : 5, 'x');
}

/// Rows as a multi-row INSERT (one statement, one commit, one notification per row).
inline std::string insert_sql(const std::string& table, const std::vector<row>& rows, std::uint64_t ts,
                              const std::string& pad) {
  std::string sql = "INSERT INTO " + table + " (seq, ts, owner, pad) VALUES ";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i) sql += ',';
    sql += '(';
    sql += std::to_string(rows[i].seq);
    sql += ',';
    sql += std::to_string(ts);
    sql += ',';
    sql += std::to_string(rows[i].owner);
    sql += ",'";
    sql += pad;
    sql += "')";
  }
  return sql;
}

class pg_producer final : public producer {
public:
  pg_producer(std::string url, std::string table, std::size_t row_bytes)
      : url_(std::move(url)), table_(std::move(table)), pad_(row_pad(row_bytes)) {}
  ~pg_producer() override {
    if (conn_) PQfinish(conn_);
  }
  bool open(std::string& err) override {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      err = std::string("postgres: ") + PQerrorMessage(conn_);
      return false;
    }
    return true;
  }
  bool send(const std::vector<row>& rows, std::uint64_t ts, std::string& err) override {
    PGresult* r = PQexec(conn_, insert_sql(table_, rows, ts, pad_).c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) err = std::string("postgres insert: ") + PQresultErrorMessage(r);
    PQclear(r);
    return ok;
  }

private:
  std::string url_, table_, pad_;
  PGconn* conn_ = nullptr;
};

class mysql_producer final : public producer {
public:
  mysql_producer(std::string host, unsigned port, std::string user, std::string password, std::string db,
                 std::string table, std::size_t row_bytes)
      : host_(std::move(host)), user_(std::move(user)), password_(std::move(password)), db_(std::move(db)),
        table_(std::move(table)), pad_(row_pad(row_bytes)), port_(port) {}
  ~mysql_producer() override {
    if (conn_) mysql_close(conn_);
  }
  bool open(std::string& err) override {
    conn_ = mysql_init(nullptr);
    if (!mysql_real_connect(conn_, host_.c_str(), user_.c_str(), password_.c_str(), db_.c_str(), port_, nullptr,
                            0)) {
      err = std::string("mariadb: ") + mysql_error(conn_);
      return false;
    }
    return true;
  }
  bool send(const std::vector<row>& rows, std::uint64_t ts, std::string& err) override {
    std::string sql = insert_sql(table_, rows, ts, pad_);
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
      err = std::string("mariadb insert: ") + mysql_error(conn_);
      return false;
    }
    return true;
  }

private:
  std::string host_, user_, password_, db_, table_, pad_;
  unsigned port_;
  MYSQL* conn_ = nullptr;
};

/// A blocking Socket.IO client that emits `broadcast` (socketio_echo relays it to every socket).
/// A second thread drains what the server sends back to it and answers pings.
class echo_producer final : public producer {
public:
  echo_producer(sockaddr_in server, std::string host_header, std::string path, std::size_t row_bytes)
      : server_(server), host_(std::move(host_header)), path_(std::move(path)), pad_(row_pad(row_bytes)) {}
  ~echo_producer() override {
    stop_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    if (drain_.joinable()) drain_.join();
    if (fd_ >= 0) close(fd_);
  }
  bool open(std::string& err) override {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
      err = std::string("echo producer connect: ") + std::strerror(errno);
      return false;
    }
    std::string req = "GET " + path_ + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + host_ +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                      "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    write_all(req);
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        err = "echo producer: no upgrade response";
        return false;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    in.erase(0, in.find("\r\n\r\n") + 4);
    std::string frame;
    if (!read_frame(in, frame) || frame.empty() || frame[0] != '0') {
      err = "echo producer: no Engine.IO open packet";
      return false;
    }
    send_frame("40");
    while (read_frame(in, frame)) {
      if (frame.rfind("40", 0) == 0) break;
    }
    pending_ = std::move(in);
    drain_ = std::thread([this] { drain(); });
    return true;
  }
  bool send(const std::vector<row>& rows, std::uint64_t ts, std::string&) override {
    std::string out;
    for (const row& r : rows) {
      std::string p = "42[\"broadcast\",{\"seq\":" + std::to_string(r.seq) + ",\"ts\":" + std::to_string(ts) +
                      ",\"pad\":\"" + pad_ + "\"}]";
      append_client_frame(out, p);
    }
    std::lock_guard<std::mutex> lk(write_mtx_);
    return write_all(out);
  }

private:
  bool write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  void send_frame(std::string_view payload) {
    std::string out;
    append_client_frame(out, payload);
    std::lock_guard<std::mutex> lk(write_mtx_);
    write_all(out);
  }
  /// Reads one whole frame's payload from `in` (refilled from the socket); false at EOF.
  bool read_frame(std::string& in, std::string& payload) {
    char buf[65536];
    for (;;) {
      if (in.size() >= 2) {
        std::size_t hdr = 2;
        std::uint64_t len = static_cast<unsigned char>(in[1]) & 0x7f;
        if (len == 126 && in.size() >= 4) {
          len = (static_cast<std::uint64_t>(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
          hdr = 4;
        } else if (len == 127 && in.size() >= 10) {
          len = 0;
          for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in[2 + i]);
          hdr = 10;
        } else if (len >= 126) {
          len = UINT64_MAX;
        }
        if (len != UINT64_MAX && in.size() >= hdr + len) {
          payload.assign(in, hdr, static_cast<std::size_t>(len));
          in.erase(0, hdr + static_cast<std::size_t>(len));
          return true;
        }
      }
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
  void drain() {
    std::string frame;
    while (!stop_ && read_frame(pending_, frame)) {
      if (frame == "2") send_frame("3");
    }
  }

  sockaddr_in server_;
  std::string host_, path_, pad_;
  int fd_ = -1;
  std::string pending_;
  std::mutex write_mtx_;
  std::thread drain_;
  std::atomic<bool> stop_{false};
};

/// A stand-in server for measuring the load generator alone: it accepts the clients itself,
/// answers the Engine.IO/Socket.IO handshake, and writes every row as a pre-encoded
/// `broadcast` event to every client, one write per client per batch. Whatever limits the
/// rate then is the clients' side.
class blast_producer final : public producer {
public:
  blast_producer() = default;
  ~blast_producer() override {
    stop_ = true;
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    for (int fd : fds_) close(fd);
  }
  /// Listens on 127.0.0.1 (port chosen by the kernel) and accepts in the background.
  bool listen(sockaddr_in& bound, std::string& err) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 4096) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      err = std::string("blast listen: ") + std::strerror(errno);
      return false;
    }
    bound = a;
    acceptor_ = std::thread([this] { accept_loop(); });
    return true;
  }
  bool open(std::string&) override { return true; }
  bool send(const std::vector<row>& rows, std::uint64_t ts, std::string& err) override {
    out_.clear();
    for (const row& r : rows) {
      std::string p = "42[\"broadcast\",{\"seq\":" + std::to_string(r.seq) + ",\"ts\":" + std::to_string(ts) + "}]";
      out_.push_back(static_cast<char>(0x81));
      out_.push_back(static_cast<char>(p.size()));  // < 126 bytes: one-byte length
      out_ += p;
    }
    std::lock_guard<std::mutex> lk(mtx_);
    for (int fd : fds_) {
      std::size_t off = 0;
      while (off < out_.size()) {
        ssize_t n = ::send(fd, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
          err = "blast: a client stopped reading";
          return false;
        }
        off += static_cast<std::size_t>(n);
      }
    }
    return true;
  }

private:
  void accept_loop() {
    auto frame = [](std::string p) { return std::string(1, '\x81') + static_cast<char>(p.size()) + p; };
    const std::string open_frame =
        frame(R"(0{"sid":"blast","upgrades":[],"pingInterval":600000,"pingTimeout":600000,"maxPayload":1})");
    const std::string connect_frame = frame(R"(40{"sid":"bl4st"})");
    while (!stop_) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stop_) return;
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      std::string reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" + open_frame;
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      if (recv(fd, buf, sizeof buf, 0) <= 0) {  // the client's CONNECT (40{...}), small
        close(fd);
        continue;
      }
      ::send(fd, connect_frame.data(), connect_frame.size(), MSG_NOSIGNAL);
      std::lock_guard<std::mutex> lk(mtx_);
      fds_.push_back(fd);
    }
  }

  int listen_fd_ = -1;
  std::thread acceptor_;
  std::atomic<bool> stop_{false};
  std::mutex mtx_;
  std::vector<int> fds_;
  std::string out_;
};

/// Outcome of the /publish request loop.
struct publish_stats {
  std::uint64_t sent = 0, ok = 0, rejected = 0, failed = 0;
  std::uint64_t connections = 0;  ///< TCP connections opened (more than `connections` without keep-alive)
  std::uint64_t first_status_other = 0;
  double seconds = 0;
  histogram latency;  ///< request round trip, us
};

/// Closed-loop POST /publish on `connections` keep-alive connections for `seconds`, or until
/// `max_requests`. Each accepted request commits the row `seq` (owner 0: `userId` `"*"`).
/// `on_sent` is called before a request leaves; `on_done(seq, accepted)` after its answer.
template <class OnSent, class OnDone>
void run_publish(const sockaddr_in& server, const std::string& host_header, unsigned connections, double seconds,
                 std::uint64_t max_requests, const std::string& token, const std::string& table, unsigned users,
                 bool broadcast, std::size_t row_bytes, std::uint64_t first_seq, publish_stats& st, OnSent on_sent,
                 OnDone on_done) {
  struct conn {
    int fd = -1;
    std::string in;
    std::uint64_t seq = 0, sent_us = 0;
    bool busy = false;
  };
  std::string pad = row_pad(row_bytes);
  std::vector<conn> conns(connections);
  std::vector<pollfd> pfds(connections);
  std::uint64_t next_seq = first_seq;
  std::uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next_user = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<std::uint32_t>(rng % users) + 1;
  };
  auto fire = [&](conn& c) {
    std::uint32_t owner = broadcast ? 0 : next_user();
    std::uint64_t seq = next_seq++;
    on_sent(seq, owner);
    std::uint64_t now = mono_us();
    std::string body = "{\"securityToken\":\"" + token + "\",\"type\":\"insert\",\"table\":\"" + table +
                       "\",\"userId\":\"" + (owner ? std::to_string(owner) : std::string("*")) +
                       "\",\"data\":{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(now) +
                       ",\"owner\":" + std::to_string(owner) + ",\"pad\":\"" + pad + "\"}}";
    std::string req = "POST /publish HTTP/1.1\r\nHost: " + host_header +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    c.seq = seq;
    c.sent_us = now;
    c.busy = true;
    ++st.sent;
    if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      ++st.failed;
      c.busy = false;
      on_done(seq, false);
    }
  };
  // A server that answers `Connection: close` gets a new connection per request (counted).
  auto reconnect = [&](unsigned i) {
    if (conns[i].fd >= 0) close(conns[i].fd);
    conns[i].in.clear();
    conns[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(conns[i].fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
      ++st.failed;
      close(conns[i].fd);
      conns[i].fd = -1;
    }
    ++st.connections;
    pfds[i].fd = conns[i].fd;
    pfds[i].events = POLLIN;
    return conns[i].fd >= 0;
  };
  for (unsigned i = 0; i < connections; ++i) reconnect(i);
  std::uint64_t start = mono_us();
  std::uint64_t deadline = start + static_cast<std::uint64_t>(seconds * 1e6);
  for (auto& c : conns)
    if (c.fd >= 0) fire(c);
  char buf[65536];
  for (;;) {
    bool any_busy = false;
    for (auto& c : conns) any_busy = any_busy || c.busy;
    if (!any_busy) break;
    if (mono_us() > deadline + 5000000) break;  // answers that never come: counted as failed
    int n = poll(pfds.data(), pfds.size(), 100);
    if (n <= 0) continue;
    for (unsigned i = 0; i < connections; ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      conn& c = conns[i];
      ssize_t r = recv(c.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (c.busy) {
          ++st.failed;
          on_done(c.seq, false);
        }
        c.busy = false;
        close(c.fd);
        c.fd = pfds[i].fd = -1;
        continue;
      }
      bool must_close = false;
      c.in.append(buf, static_cast<std::size_t>(r));
      for (;;) {
        auto hdr_end = c.in.find("\r\n\r\n");
        if (hdr_end == std::string::npos) break;
        std::size_t body = 0;
        auto cl = c.in.find("ontent-Length:");
        if (cl == std::string::npos || cl > hdr_end) cl = c.in.find("ontent-length:");
        if (cl != std::string::npos && cl < hdr_end) body = std::strtoull(c.in.c_str() + cl + 14, nullptr, 10);
        if (c.in.size() < hdr_end + 4 + body) break;
        int status = c.in.size() > 12 ? std::atoi(c.in.c_str() + 9) : 0;
        std::string head = c.in.substr(0, hdr_end);
        for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        must_close = head.find("connection: close") != std::string::npos;
        c.in.erase(0, hdr_end + 4 + body);
        if (!c.busy) continue;
        st.latency.record(mono_us() - c.sent_us);
        c.busy = false;
        if (status == 200) {
          ++st.ok;
          on_done(c.seq, true);
        } else {
          ++st.rejected;
          if (!st.first_status_other) st.first_status_other = static_cast<std::uint64_t>(status);
          on_done(c.seq, false);
        }
        if (mono_us() < deadline && st.sent < max_requests) {
          if (must_close && !reconnect(i)) break;
          fire(c);
        }
        if (must_close) break;
      }
    }
  }
  for (auto& c : conns) {
    if (c.busy) {
      ++st.failed;
      on_done(c.seq, false);
    }
    if (c.fd >= 0) close(c.fd);
  }
  st.seconds = static_cast<double>(mono_us() - start) / 1e6;
}

}  // namespace loadgen

#endif
