#ifndef ESINK_TRANSPORT_DETAIL_HTTP_CONNECTION_HPP
#define ESINK_TRANSPORT_DETAIL_HTTP_CONNECTION_HPP

#include <esink/transport/detail/http.hpp>
#include <esink/transport/detail/http_head.hpp>
#include <esink/transport/http.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/dispatch.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace esink::detail {

/// A plain-TCP connection whose requests to esink's own HTTP routes (/publish, /health,
/// /metrics, static files) are served with HTTP/1.1 keep-alive, which websocketpp 0.8.2 lacks.
///
/// Each request head is peeked, not read, so a request this fast path does not serve (Engine.IO
/// polling, a WebSocket upgrade, anything unusual) is still whole in the kernel's buffer when
/// the socket is handed to websocketpp, which then serves the connection from that request on.
/// Requests are served one at a time, in order; pipelined ones wait in the kernel.
///
/// @tparam Host provides
///   - `const http_handler* keepalive_route(const request_head&)`: the handler to serve the
///     request here, or null to hand the connection over;
///   - `void hand_off(asio::ip::tcp::socket)`: gives the connection to websocketpp;
///   - `bool upgrade(asio::ip::tcp::socket&, const request_head&)`: takes the socket (and
///     answers the handshake) when the request is a WebSocket handshake it accepts;
///   - `void add_cors(std::string_view origin, http_responder::headers&)`;
///   - `std::size_t keepalive_max_body()`.
template <class Host> class http_connection : public std::enable_shared_from_this<http_connection<Host>> {
public:
  /// Time a connection may sit idle between requests (Node's http default).
  static constexpr std::chrono::seconds idle_timeout{5};
  /// Time a client has to send a request body it announced.
  static constexpr std::chrono::seconds body_timeout{10};
  /// Longest head peeked (websocketpp's own limit); a longer one goes to websocketpp.
  static constexpr std::size_t max_head = 16000;
  /// The peek buffer an idle connection keeps: most heads fit; a longer one is peeked again
  /// into a buffer of `max_head`, which is given back after that request.
  static constexpr std::size_t small_head = 2048;

  http_connection(Host& host, asio::ip::tcp::socket socket)
      : host_(host), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    asio::error_code ec;
    socket_.non_blocking(true, ec);  // responses are first written directly, see respond()
  }

  void start() { wait_for_request(std::chrono::seconds(10)); }

private:
  using self_ptr = std::shared_ptr<http_connection>;

  using clock = std::chrono::steady_clock;

  // A peeking receive rather than a wait: Asio tries it at once and, unlike async_wait, never
  // re-registers the socket with epoll for it.
  void wait_for_request(clock::duration timeout) {
    set_deadline(timeout);
    if (head_buf_.capacity() > small_head) std::string().swap(head_buf_);
    head_buf_.resize(small_head);
    socket_.async_receive(asio::buffer(head_buf_), asio::socket_base::message_peek,
                          [self = this->shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            self->on_peeked(ec, n);
                          });
  }

  // One lazy timer per connection: a request only moves `deadline_` (re-arming an Asio timer
  // costs a timerfd update per request); the timer, when it fires, closes the connection if
  // the deadline has passed and otherwise sleeps until it.
  void set_deadline(clock::duration timeout) {
    deadline_ = clock::now() + timeout;
    if (!timer_armed_ || timer_.expiry() > deadline_ + std::chrono::milliseconds(100)) arm_timer();
  }

  void clear_deadline() { deadline_ = clock::time_point::max(); }

  void arm_timer() {
    timer_armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = this->shared_from_this()](const asio::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // re-armed, or closing
      self->timer_armed_ = false;
      if (ec || self->deadline_ == clock::time_point::max()) return;  // busy: the next wait re-arms
      if (clock::now() >= self->deadline_) return self->close();
      self->arm_timer();
    });
  }

  void close() {
    asio::error_code ec;
    clear_deadline();
    timer_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  /// Ends the connection without losing the response: closing a socket with unread input
  /// sends a reset, which can destroy the response before the client reads it. So: FIN
  /// first, then discard input until the client closes or for at most a second.
  void linger_close() {
    asio::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) return close();
    set_deadline(std::chrono::seconds(1));
    discard_input();
  }

  void discard_input() {
    head_buf_.resize(4096);
    socket_.async_read_some(asio::buffer(head_buf_), [self = this->shared_from_this()](const asio::error_code& ec,
                                                                                     std::size_t) {
      if (ec) return self->close();
      self->discard_input();
    });
  }

  void on_peeked(const asio::error_code& ec, std::size_t n) {
    clear_deadline();
    // An error here is mostly the client closing (or resetting) between requests.
    if (ec || n == 0 || !socket_.is_open()) return close();
    request_head head;
    head_parse parsed = parse(n, head);
    if (parsed == head_parse::incomplete && n == head_buf_.size()) {
      // A long head: peek again with room for the longest one allowed.
      head_buf_.resize(max_head);
      const ssize_t again = ::recv(socket_.native_handle(), head_buf_.data(), head_buf_.size(), MSG_PEEK | MSG_DONTWAIT);
      if (again > 0) n = static_cast<std::size_t>(again);
      parsed = parse(n, head);
    }
    if (parsed == head_parse::incomplete) return peek_again_soon();
    head_retry_ = std::chrono::milliseconds(0);
    if (parsed == head_parse::complete && head.upgrade) {
      // A WebSocket handshake esink answers itself takes the socket; any other upgrade (or a
      // refused handshake, which websocketpp answers with the precise error) goes on below.
      if (host_.upgrade(socket_, head)) return release();
    }
    const http_handler* route = nullptr;
    if (parsed == head_parse::complete && !head.upgrade) route = host_.keepalive_route(head);
    if (!route) {
      release();
      return host_.hand_off(std::move(socket_));
    }

    request_ = http_request{};
    auto [path, query] = split_target(head.target);
    request_.method = std::string(head.method);
    request_.path = std::string(path);
    request_.query = std::string(query);
    request_.headers.reserve(head.headers.size());
    for (const auto& [k, v] : head.headers) request_.headers.emplace_back(std::string(k), std::string(v));
    route_ = route;
    keep_alive_ = head.keep_alive;
    const std::size_t head_bytes = head.head_bytes, body_bytes = head.content_length;

    // The body bytes already peeked, at most the announced length (the rest, if any, belongs
    // to the next request).
    const std::size_t have_body = body_bytes > host_.keepalive_max_body()
                                      ? 0
                                      : std::min(body_bytes, n - head_bytes);
    request_.body.assign(head_buf_.data() + head_bytes, have_body);
    // Consume exactly the head and that part of the body: the kernel holds them (we just peeked
    // them), and whatever follows is the rest of the body or the next request.
    std::size_t got = 0;
    while (got < head_bytes + have_body) {
      ssize_t r = ::recv(socket_.native_handle(), head_buf_.data(), head_bytes + have_body - got, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return close();
      got += static_cast<std::size_t>(r);
    }
    if (body_bytes > host_.keepalive_max_body()) {
      // Refused before reading it; the connection cannot be reused as the body may follow.
      keep_alive_ = false;
      return respond(413, "application/json",
                     "{\"code\":413,\"message\":\"Payload Too Large\",\"limit\":" +
                         std::to_string(host_.keepalive_max_body()) + "}",
                     {});
    }
    if (have_body == body_bytes) return dispatch();
    request_.body.resize(body_bytes);
    if (head.expect_continue && have_body == 0) {
      static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::error_code wec;
      asio::write(socket_, asio::buffer(cont.data(), cont.size()), wec);  // 25 bytes into an idle socket
      if (wec) return close();
    }
    set_deadline(body_timeout);
    asio::async_read(socket_, asio::buffer(request_.body.data() + have_body, body_bytes - have_body),
                     [self = this->shared_from_this()](const asio::error_code& rec, std::size_t) {
                       self->clear_deadline();
                       if (rec) return self->close();
                       self->dispatch();
                     });
  }

  head_parse parse(std::size_t n, request_head& head) const {
    return parse_request_head(std::string_view(head_buf_.data(), n), head, max_head, std::size_t(-1), 100, true);
  }

  // Nothing of this object is needed once the socket moves on: let the timer go now rather
  // than at its deadline (it holds the object, buffer included, until then).
  void release() {
    clear_deadline();
    timer_.cancel();
    if (retry_timer_) retry_timer_->cancel();
    std::string().swap(head_buf_);
  }

  // Part of a head is in: the rest is on its way (a head across TCP segments, a slow client).
  // A peek would find the same bytes at once, so look again after a short pause, backing off
  // to 50 ms, for at most the body timeout. The whole head must be in before the request goes
  // to the WebSocket code or to websocketpp, which both read it from the kernel.
  void peek_again_soon() {
    // A peer that stopped sending will never finish its head (a peek cannot see the FIN
    // behind the bytes it returns; poll can).
    pollfd p{socket_.native_handle(), POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return close();
    if (head_retry_.count() == 0) {
      head_deadline_ = clock::now() + body_timeout;
      head_retry_ = std::chrono::milliseconds(1);
    } else {
      if (clock::now() >= head_deadline_) return close();
      head_retry_ = std::min<std::chrono::milliseconds>(head_retry_ * 2, std::chrono::milliseconds(50));
    }
    if (!retry_timer_) retry_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    retry_timer_->expires_after(head_retry_);
    retry_timer_->async_wait([self = this->shared_from_this()](const asio::error_code& ec) {
      if (ec || !self->socket_.is_open()) return;
      self->socket_.async_receive(asio::buffer(self->head_buf_), asio::socket_base::message_peek,
                                  [self](const asio::error_code& e, std::size_t n) { self->on_peeked(e, n); });
    });
  }

  void dispatch() {
    origin_ = std::string(request_.header("Origin"));
    auto self = this->shared_from_this();
    // The handler may answer from any thread; the answer is written on this connection's strand
    // (at once when the handler answers before returning).
    (*route_)(request_, http_responder([self](int status, std::string type, std::string body,
                                              http_responder::headers extra) {
                asio::dispatch(self->socket_.get_executor(),
                           [self, status, type = std::move(type), body = std::move(body),
                            extra = std::move(extra)]() mutable {
                             self->respond(status, type, body, std::move(extra));
                           });
              }));
  }

  void respond(int status, const std::string& type, const std::string& body, http_responder::headers extra) {
    if (!socket_.is_open()) return;
    host_.add_cors(origin_, extra);
    std::string& out = out_;
    out.clear();
    out.reserve(160 + body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += status_reason(status);
    out += "\r\n";
    for (const auto& [k, v] : extra) {
      // The framing headers are ours to set.
      if (http_head_detail::iequals(k, "Content-Length") || http_head_detail::iequals(k, "Connection") ||
          http_head_detail::iequals(k, "Content-Type") || http_head_detail::iequals(k, "Transfer-Encoding"))
        continue;
      out.append(k).append(": ").append(v).append("\r\n");
    }
    if (!type.empty() && status != 204 && status != 304) out.append("Content-Type: ").append(type).append("\r\n");
    if (status != 204 && status != 304) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out += keep_alive_ ? "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n" : "Connection: close\r\n\r\n";
    if (status != 204 && status != 304) out += body;
    request_ = http_request{};
    // Most responses fit the socket's send buffer: write directly, and wait for the socket
    // only for what does not.
    asio::error_code ec;
    std::size_t sent = socket_.write_some(asio::buffer(out_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    if (ec) return close();
    if (sent == out_.size()) return written();
    asio::async_write(socket_, asio::buffer(out_.data() + sent, out_.size() - sent),
                      [self = this->shared_from_this()](const asio::error_code& wec, std::size_t) {
                        if (wec) return self->close();
                        self->written();
                      });
  }

  void written() {
    if (!keep_alive_) return linger_close();
    wait_for_request(idle_timeout);
  }

  Host& host_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::unique_ptr<asio::steady_timer> retry_timer_;  ///< Only for a head that came in pieces.
  std::chrono::milliseconds head_retry_{0};
  clock::time_point head_deadline_;
  std::string head_buf_;
  http_request request_;
  const http_handler* route_ = nullptr;
  std::string origin_;
  std::string out_;
  bool keep_alive_ = true;
  bool timer_armed_ = false;
  clock::time_point deadline_ = clock::time_point::max();
};

}  // namespace esink::detail

#endif
