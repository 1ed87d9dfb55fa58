#ifndef ESINK_TRANSPORT_DETAIL_WS_CONNECTION_HPP
#define ESINK_TRANSPORT_DETAIL_WS_CONNECTION_HPP

#include <esink/protocol/detail/base64.hpp>
#include <esink/transport/detail/asio_config.hpp>
#include <esink/transport/detail/http_head.hpp>
#include <esink/transport/detail/ws_frame.hpp>
#include <esink/transport/detail/ws_reader.hpp>
#include <esink/transport/encoded_packet.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <websocketpp/close.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/sha1/sha1.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace esink::detail {

/// The `Sec-WebSocket-Key` of a WebSocket opening handshake that esink answers itself (RFC 6455
/// §4.2.1), or nothing: a GET over HTTP/1.1 without a body, `Upgrade: websocket`, `Connection:
/// upgrade`, version 13 and a key of 16 bytes. Anything else is left to websocketpp, which
/// answers it with the precise error (426 for another version, 400 otherwise).
inline std::optional<std::string_view> ws_handshake_key(const request_head& h) {
  using http_head_detail::has_token;
  using http_head_detail::iequals;
  if (h.method != "GET" || h.http10 || h.content_length != 0) return std::nullopt;
  bool upgrade = false, connection = false, version = false;
  std::optional<std::string_view> key;
  for (const auto& [name, value] : h.headers) {
    if (iequals(name, "Upgrade")) upgrade = upgrade || has_token(value, "websocket");
    else if (iequals(name, "Connection")) connection = connection || has_token(value, "upgrade");
    else if (iequals(name, "Sec-WebSocket-Version")) version = value == "13";
    else if (iequals(name, "Sec-WebSocket-Key")) {
      if (key) return std::nullopt;  // two keys: which one would the answer be for?
      key = value;
    }
  }
  std::string decoded;
  if (!upgrade || !connection || !version || !key || !protocol::detail::base64_decode(*key, decoded) ||
      decoded.size() != 16)
    return std::nullopt;
  return key;
}

/// The server's `101 Switching Protocols` for `key` (RFC 6455 §4.2.2, step 5).
inline std::string ws_accept_response(std::string_view key) {
  std::string in(key);
  in += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[20];
  websocketpp::sha1::calc(in.data(), in.size(), digest);
  std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  protocol::detail::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest), out);
  out += "\r\n\r\n";
  return out;
}

/// An open WebSocket connection over plain TCP, esink's own (RFC 6455, server side): what
/// websocketpp's connection did for esink in a fraction of its memory. An idle connection holds
/// its socket and a few words of state: no read buffer (reads go through a per-thread buffer
/// once the socket is readable) and no timer (one exists only while closing).
///
/// The methods used by an Engine.IO session have websocketpp's names and meanings, so one
/// session type serves both this and websocketpp's TLS connections.
///
/// @par Thread safety
/// Everything runs on the connection's executor (a strand), except `get_buffered_amount` and
/// `try_write_now`, which may be called from any thread.
///
/// @tparam Host provides `on_ws_message(const std::shared_ptr<ws_connection>&, const
///   std::string&, bool binary)` and `on_ws_closed(const std::shared_ptr<ws_connection>&)`,
///   the latter called once, when the TCP connection is gone.
template <class Host>
class ws_connection : public ws_connection_slot, public std::enable_shared_from_this<ws_connection<Host>> {
public:
  using executor_type = asio::ip::tcp::socket::executor_type;

  /// How long a close handshake may take before the connection is dropped.
  static constexpr std::chrono::seconds close_timeout{3};

  /// `response` (the 101) goes out first, with whatever is sent before start().
  ws_connection(Host& host, asio::ip::tcp::socket socket, std::size_t max_message, std::string response)
      : host_(host), socket_(std::move(socket)), fd_(socket_.native_handle()), executor_(socket_.get_executor()),
        reader_(max_message) {
    auto m = std::make_shared<ws_message>(nullptr, websocketpp::frame::opcode::text, 0);
    m->get_raw_payload() = std::move(response);
    m->set_prepared(true);
    queue(std::move(m));
  }

  /// Starts writing and reading. On the connection's executor.
  void start() {
    write_frame();
    read_next();
  }

  /// Queues a framed message (`ws_message` with header and payload); write_frame() sends it.
  std::error_code send(const ws_message_ptr& m) {
    std::lock_guard<std::mutex> lk(write_mtx_);
    if (state_ != state::open) return make_error_code(std::errc::not_connected);
    queue(m);
    return {};
  }

  /// Frames `payload` as one message and sends it.
  std::error_code send(std::string_view payload, websocketpp::frame::opcode::value op) {
    {
      std::lock_guard<std::mutex> lk(write_mtx_);
      if (state_ != state::open) return make_error_code(std::errc::not_connected);
      queue(frame(op, payload));
    }
    write_frame();
    return {};
  }

  /// Starts writing whatever is queued (nothing while a write is in flight: its completion
  /// picks up the rest). Writes directly when the socket takes it all, which it usually does.
  void write_frame() {
    bool done;
    {
      std::lock_guard<std::mutex> lk(write_mtx_);
      done = write_locked();
    }
    if (done) finish();
  }

  /// Writes `frames` at once, from the calling thread, when nothing is queued or being
  /// written (so nothing sent earlier can be overtaken); false when the caller should queue
  /// them instead. Saves the hop to an I/O thread for a few recipients; a broadcast is better
  /// off queueing, so that frames for one connection pile up into one write. Any thread.
  bool try_write_now(const outgoing_frame* frames, std::size_t count) {
    constexpr std::size_t max_frames = 4;
    if (count > max_frames) return false;
    std::lock_guard<std::mutex> lk(write_mtx_);
    if (state_ != state::open) return true;  // closing: the frames have nowhere to go, as with send()
    if (writing_ || !queue_.empty()) return false;
    iovec iov[2 * max_frames];
    std::size_t n = 0, total = 0;
    for (std::size_t i = 0; i < count; ++i) {
      for (const std::string* s : {&frames[i].ws->get_header(), &frames[i].ws->get_payload()}) {
        if (s->empty()) continue;
        iov[n].iov_base = const_cast<char*>(s->data());
        iov[n++].iov_len = s->size();
        total += s->size();
      }
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    ssize_t sent;
    do sent = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      // The connection is broken: end it on its strand, as a failed write there would.
      asio::post(executor_, [self = this->shared_from_this()] { self->finish(); });
      return true;
    }
    std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    if (done == total) return true;
    // The socket took part of it: the rest waits in the queue for the strand to write it.
    std::string rest;
    rest.reserve(total - done);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t skip = std::min(done, iov[i].iov_len);
      done -= skip;
      rest.append(static_cast<const char*>(iov[i].iov_base) + skip, iov[i].iov_len - skip);
    }
    auto m = std::make_shared<ws_message>(nullptr, websocketpp::frame::opcode::binary, 0);
    m->get_raw_payload() = std::move(rest);
    m->set_prepared(true);
    queue(std::move(m));
    asio::post(executor_, [self = this->shared_from_this()] { self->write_frame(); });
    return true;
  }

  /// Bytes queued or being written. Any thread.
  std::size_t get_buffered_amount() const noexcept { return buffered_.load(std::memory_order_relaxed); }

  /// The strand every other member runs on.
  const executor_type* get_strand() const noexcept { return &executor_; }

  /// Starts the closing handshake (RFC 6455 §7.1.2): frames queued before still go out first.
  void close(websocketpp::close::status::value code, const std::string& reason, std::error_code&) {
    if (state_ != state::open) return;
    begin_close(code, reason, close_timeout);
  }

  /// Drops the connection at once, without a close frame (the peer is not reading).
  void terminate(std::error_code&) { finish(); }

private:
  using self_ptr = std::shared_ptr<ws_connection>;
  enum class state : std::uint8_t { open, closing, closed };

  static ws_message_ptr frame(websocketpp::frame::opcode::value op, std::string_view payload) {
    auto m = std::make_shared<ws_message>(nullptr, op, 0);
    std::string header = ws_frame_header(false, payload.size());
    header[0] = static_cast<char>(0x80 | op);
    m->set_header(header);
    m->get_raw_payload().assign(payload.data(), payload.size());
    m->set_prepared(true);
    return m;
  }

  // With write_mtx_ held.
  void queue(ws_message_ptr m) {
    buffered_.fetch_add(m->get_header().size() + m->get_payload().size(), std::memory_order_relaxed);
    queue_.push_back(std::move(m));
  }

  // With write_mtx_ held, on the strand: writes what is queued, directly as far as the socket
  // takes it, with Asio for the rest. True when the connection is done (a write failed, or
  // both close frames have crossed): the caller then finishes it, outside the lock.
  bool write_locked() {
    while (!writing_ && !queue_.empty() && state_ != state::closed) {
      writing_ = true;
      in_flight_.swap(queue_);
      buffers_.clear();
      std::size_t total = 0;
      for (const auto& m : in_flight_) {
        for (const std::string* s : {&m->get_header(), &m->get_payload()}) {
          if (s->empty()) continue;
          buffers_.emplace_back(s->data(), s->size());
          total += s->size();
        }
      }
      asio::error_code ec;
      std::size_t sent = socket_.write_some(buffers_, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear(), sent = 0;
      if (ec) {
        written_locked(total);
        return true;
      }
      if (sent == total) {
        if (written_locked(total)) return true;
        continue;
      }
      // Skip what went out, then let Asio wait for room for the rest.
      std::size_t skip = sent, first = 0;
      while (skip >= buffers_[first].size()) skip -= buffers_[first++].size();
      buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(first));
      buffers_.front() += skip;
      asio::async_write(socket_, buffers_,
                        [self = this->shared_from_this(), total](const asio::error_code& e, std::size_t) {
                          bool done;
                          {
                            std::lock_guard<std::mutex> lk(self->write_mtx_);
                            done = self->written_locked(total) || e || self->write_locked();
                          }
                          if (done) self->finish();
                        });
      return false;
    }
    return false;
  }

  // With write_mtx_ held: the write in flight is over. True when the close handshake is done.
  bool written_locked(std::size_t bytes) {
    writing_ = false;
    buffered_.fetch_sub(std::min(bytes, buffered_.load(std::memory_order_relaxed)), std::memory_order_relaxed);
    in_flight_.clear();
    if (in_flight_.capacity() > 64) std::vector<ws_message_ptr>().swap(in_flight_);
    if (buffers_.capacity() > 64) std::vector<asio::const_buffer>().swap(buffers_);
    if (state_ == state::closed || !close_queued_ || !queue_.empty() || close_written_) return false;
    close_written_ = true;
    // After a protocol error the peer's bytes mean nothing: FIN, then drain until it closes.
    if (failed_) {
      asio::error_code e;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, e);
    }
    // The server closes the TCP connection first once both close frames crossed (§7.1.1).
    return peer_closed_;
  }

  void begin_close(std::uint16_t code, std::string_view reason, std::chrono::steady_clock::duration timeout) {
    std::string payload;
    if (code != 1005) {
      payload.push_back(static_cast<char>(code >> 8));
      payload.push_back(static_cast<char>(code & 0xff));
      // A control frame carries at most 125 bytes; cut the reason on a character boundary.
      std::size_t n = std::min<std::size_t>(reason.size(), 123);
      while (n > 0 && n < reason.size() && (static_cast<unsigned char>(reason[n]) & 0xc0) == 0x80) --n;
      payload.append(reason.data(), n);
    }
    {
      std::lock_guard<std::mutex> lk(write_mtx_);
      state_ = state::closing;
      queue(frame(websocketpp::frame::opcode::close, payload));
      close_queued_ = true;
    }
    timer_ = std::make_unique<asio::steady_timer>(executor_);
    timer_->expires_after(timeout);
    timer_->async_wait([self = this->shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->finish();
    });
    write_frame();
  }

  // A peeking receive of one byte: Asio tries it at once (data already there is seen without
  // a trip through epoll) and the connection keeps no read buffer while it waits.
  void read_next() {
    socket_.async_receive(asio::buffer(&peek_, 1), asio::socket_base::message_peek,
                          [self = this->shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            self->on_readable(ec, n);
                          });
  }

  void on_readable(const asio::error_code& ec, std::size_t n) {
    if (state_ == state::closed) return;
    if (ec || n == 0) return finish();  // the peer closed or reset the connection
    static thread_local char buf[64 * 1024];
    std::size_t total = 0;
    for (;;) {
      asio::error_code rec;
      std::size_t got = socket_.read_some(asio::buffer(buf), rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) break;
      if (rec) return finish();
      if (!failed_) process(buf, got);
      if (state_ == state::closed) return;
      total += got;
      // Share the thread with other connections: the next peek finds whatever is left.
      if (got < sizeof buf || total >= 4 * sizeof buf) break;
    }
    read_next();
  }

  void process(const char* p, std::size_t n) {
    auto self = this->shared_from_this();
    while (n > 0 && state_ != state::closed && !failed_) {
      ws_reader::event ev;
      const std::size_t used = reader_.consume(p, n, ev);
      p += used;
      n -= used;
      switch (ev) {
        case ws_reader::event::none: break;
        case ws_reader::event::text:
        case ws_reader::event::binary:
          // Data arriving after our close frame is discarded (§7.1.2 lets us stop reading it).
          if (state_ == state::open) host_.on_ws_message(self, reader_.message(), ev == ws_reader::event::binary);
          reader_.release_message();
          break;
        case ws_reader::event::ping:
          if (state_ == state::open) send(reader_.control(), websocketpp::frame::opcode::pong);
          break;
        case ws_reader::event::pong: break;
        case ws_reader::event::close: return on_peer_close();
        case ws_reader::event::error: return on_protocol_error();
      }
    }
  }

  void on_peer_close() {
    peer_closed_ = true;
    if (state_ == state::open) {
      // Echo the status (§5.5.1); the TCP connection closes once the echo is written.
      begin_close(reader_.close_code(), {}, close_timeout);
      return;
    }
    if (close_written_) finish();
  }

  void on_protocol_error() {
    failed_ = true;
    if (state_ != state::open) return finish();
    begin_close(reader_.error_code(), reader_.error_reason(), std::chrono::seconds(1));
  }

  // On the strand. The socket is closed under write_mtx_, so a direct write from another
  // thread never reaches a descriptor number that has been reused.
  void finish() {
    {
      std::lock_guard<std::mutex> lk(write_mtx_);
      if (state_ == state::closed) return;
      state_ = state::closed;
      asio::error_code ec;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      socket_.close(ec);
      queue_.clear();
      buffered_.store(0, std::memory_order_relaxed);
    }
    if (timer_) timer_->cancel();
    host_.on_ws_closed(this->shared_from_this());
  }

  Host& host_;
  asio::ip::tcp::socket socket_;
  const int fd_;  ///< For direct writes from other threads; closed only under write_mtx_.
  executor_type executor_;
  ws_reader reader_;
  // The write side: touched on the strand and by try_write_now from any thread, under the
  // mutex (state_ is written under it too; the strand reads it freely).
  std::mutex write_mtx_;
  std::vector<ws_message_ptr> queue_;      ///< Waiting for the write in flight to finish.
  std::vector<ws_message_ptr> in_flight_;  ///< Being written.
  std::vector<asio::const_buffer> buffers_;
  std::atomic<std::size_t> buffered_{0};
  std::unique_ptr<asio::steady_timer> timer_;  ///< Only while closing.
  state state_ = state::open;
  bool writing_ = false;
  bool close_queued_ = false;
  bool close_written_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;
  char peek_ = 0;
};

}  // namespace esink::detail

#endif
