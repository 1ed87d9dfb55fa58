#ifndef ESINK_TESTS_TRANSPORT_TEST_CLIENT_HPP
#define ESINK_TESTS_TRANSPORT_TEST_CLIENT_HPP

// Blocking raw HTTP and WebSocket clients: the tests speak the wire protocol byte for byte,
// so nothing in the client can paper over a server mistake.

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>
#include <cerrno>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace esink_test {

struct http_response {
  int status = 0;
  std::string headers;
  std::string body;
};

inline void set_receive_timeout(asio::ip::tcp::socket& s, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(t.count() / 1000);
  tv.tv_usec = static_cast<long>((t.count() % 1000) * 1000);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

inline asio::ip::tcp::socket connect_to(asio::io_context& ioc, std::uint16_t port) {
  asio::ip::tcp::socket s(ioc);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  set_receive_timeout(s, std::chrono::milliseconds(5000));
  return s;
}

/// Sends one request and reads the response until the server closes (it always does).
inline http_response http(std::uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body = {}, std::string_view extra_headers = {}) {
  asio::io_context ioc;
  auto s = connect_to(ioc, port);
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                    std::string(extra_headers);
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  asio::write(s, asio::buffer(req));
  std::string raw;
  asio::error_code ec;
  asio::read(s, asio::dynamic_buffer(raw), ec);
  http_response r;
  auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

/// A WebSocket client that frames by hand (RFC 6455) and can stop reading at will.
class ws_client {
public:
  struct frame {
    int opcode = 0;  // 1 text, 2 binary, 8 close
    std::string payload;
  };

  ws_client(std::uint16_t port, std::string_view target) : socket_(connect_to(ioc_, port)) {
    std::string req = "GET " + std::string(target) +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(socket_, asio::buffer(req));
    std::string head;
    asio::error_code ec;
    asio::read_until(socket_, asio::dynamic_buffer(buffer_), "\r\n\r\n", ec);
    auto end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) throw std::runtime_error("no handshake response");
    status_ = std::stoi(buffer_.substr(9, 3));
    buffer_.erase(0, end + 4);
  }

  int handshake_status() const noexcept { return status_; }

  void send_text(std::string_view s) { send(1, s); }
  void send_binary(std::string_view s) { send(2, s); }

  /// The next frame, or nothing when the timeout passes or the connection ends.
  std::optional<frame> read(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    set_receive_timeout(socket_, timeout);
    if (!fill(2)) return std::nullopt;
    auto b0 = static_cast<unsigned char>(buffer_[0]);
    auto b1 = static_cast<unsigned char>(buffer_[1]);
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7f;
    if (len == 126) {
      if (!fill(4)) return std::nullopt;
      len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      header = 4;
    } else if (len == 127) {
      if (!fill(10)) return std::nullopt;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(buffer_[i]);
      header = 10;
    }
    if (!fill(header + len)) return std::nullopt;
    frame f{b0 & 0x0f, buffer_.substr(header, len)};
    buffer_.erase(0, header + len);
    if (f.opcode == 8) closed_ = true;
    return f;
  }

  /// The next text or binary frame, skipping pings ("2") the server sends meanwhile.
  std::optional<frame> read_data(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    for (;;) {
      auto f = read(timeout);
      if (!f || f->opcode != 1 || f->payload != "2") return f;
    }
  }

  /// True once the server closed: a close frame or the end of the stream.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
      if (!read(std::chrono::milliseconds(200)) && eof_) return true;
    }
    return closed_;
  }

  bool closed() const noexcept { return closed_ || eof_; }

private:
  void send(int opcode, std::string_view payload) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    const unsigned char mask[4] = {1, 2, 3, 4};
    if (payload.size() < 126) {
      f.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xffff) {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(payload.size() >> 8));
      f.push_back(static_cast<char>(payload.size() & 0xff));
    } else {
      f.push_back(static_cast<char>(0x80 | 127));
      for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<char>((payload.size() >> shift) & 0xff));
    }
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    asio::error_code ec;
    asio::write(socket_, asio::buffer(f), ec);
  }

  bool fill(std::size_t n) {
    while (buffer_.size() < n) {
      char tmp[65536];
      // Plain recv: asio's blocking read would turn the SO_RCVTIMEO timeout into an endless poll.
      ssize_t got = ::recv(socket_.native_handle(), tmp, sizeof tmp, 0);
      if (got <= 0) {
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof_ = true;
        return false;
      }
      buffer_.append(tmp, static_cast<std::size_t>(got));
    }
    return true;
  }

  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  std::string buffer_;
  int status_ = 0;
  bool closed_ = false;
  bool eof_ = false;
};

}  // namespace esink_test

#endif
