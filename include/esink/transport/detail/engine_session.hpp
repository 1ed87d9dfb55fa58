#ifndef ESINK_TRANSPORT_DETAIL_ENGINE_SESSION_HPP
#define ESINK_TRANSPORT_DETAIL_ENGINE_SESSION_HPP

#include <esink/error.hpp>
#include <esink/protocol/detail/base64.hpp>
#include <esink/protocol/engineio/parser.hpp>
#include <esink/protocol/engineio/serializer.hpp>
#include <esink/protocol/socketio/parser.hpp>
#include <esink/transport/detail/http.hpp>
#include <esink/transport/detail/ws_connection.hpp>
#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/socket_namespace.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <websocketpp/server.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace esink {

template <class Config> class basic_server;

namespace detail {

/// The WebSocket connection type of a server: esink's own over plain TCP, websocketpp's over
/// TLS (where websocketpp owns the stream from the TLS handshake on).
template <class Config> struct ws_link {
  using type = typename websocketpp::server<Config>::connection_ptr;
};
template <> struct ws_link<plain_config> {
  using type = std::shared_ptr<ws_connection<basic_server<plain_config>>>;
};

/// How a session ends, which decides what a pending poll and the WebSocket are told.
enum class close_kind {
  client,    ///< The client sent a close packet: a pending poll gets `6` (noop).
  server,    ///< Our decision (disconnect, shutdown): a pending poll gets `1` (close).
  failure,   ///< Protocol error, timeout, slow consumer: the connection is dropped.
};

/// One Engine.IO session (protocol v4) with the Socket.IO client state built on it.
///
/// The session owns its transport: a held long-polling GET and an outbox while polling, the
/// WebSocket connection after a direct connect or an upgrade. Frames are shared with other
/// recipients and never copied per session.
///
/// @par Thread safety
/// Every member may be called from any thread. `mtx_` guards the transport state and the
/// outbox; `sio_mtx_` guards the Socket.IO sockets. User handlers run with neither held.
template <class Config>
class engine_session : public std::enable_shared_from_this<engine_session<Config>> {
public:
  using server_type = basic_server<Config>;
  using endpoint_type = websocketpp::server<Config>;
  using connection_ptr = typename endpoint_type::connection_ptr;  ///< An HTTP (polling) request.
  using ws_ptr = typename ws_link<Config>::type;                   ///< A WebSocket connection.
  using socket_type = basic_socket<Config>;
  using socket_ptr = std::shared_ptr<socket_type>;
  using raw_handler = std::function<void(engine_session&, std::string_view data, bool binary)>;

  /// What runs on top of Engine.IO: Socket.IO, or a raw message handler.
  enum class kind { socketio, raw };
  enum class transport_kind { polling, websocket };

  engine_session(server_type& server, std::string sid, kind k, const raw_handler* raw, transport_kind t,
                 handshake hs)
      : server_(server), sid_(std::move(sid)), kind_(k), raw_(raw), transport_(t), handshake_(std::move(hs)),
        ping_timer_(server.io_context()), pong_timer_(server.io_context()),
        connect_timer_(server.io_context()), upgrade_timer_(server.io_context()) {}

  /// The Engine.IO session id.
  const std::string& id() const noexcept { return sid_; }

  /// `polling` or `websocket`: the transport packets currently go out on.
  std::string_view transport_name() const {
    std::lock_guard<std::mutex> lk(mtx_);
    return transport_ == transport_kind::polling ? "polling" : "websocket";
  }

  /// Sends one Engine.IO message packet (for raw Engine.IO users).
  void send_message(std::string data, bool binary) {
    if (!binary) data.insert(data.begin(), protocol::engineio::to_char(protocol::engineio::packet_type::message));
    outgoing_frame f = make_frame(std::move(data), binary);
    send_frames(&f, 1);
  }

  /// Sends every frame of `p`, in order and without interleaving with other packets.
  /// `direct`: the caller sends to few connections, so writing from its thread (when this
  /// connection has nothing queued) beats a hop to the connection's I/O thread.
  void send(const encoded_packet& p, bool direct = false) { send_frames(p.frames().data(), p.frames().size(), direct); }

  /// Sends `a`, then `b`: one write when both go directly (two text packets, typically).
  void send(const encoded_packet& a, const encoded_packet& b, bool direct = false) {
    constexpr std::size_t max = 4;
    const auto &fa = a.frames(), &fb = b.frames();
    if (fa.size() + fb.size() > max) {  // attachments: each packet on its own, in order
      send_frames(fa.data(), fa.size(), direct);
      send_frames(fb.data(), fb.size(), direct);
      return;
    }
    outgoing_frame both[max];
    std::size_t n = 0;
    for (const auto& f : fa) both[n++] = f;
    for (const auto& f : fb) both[n++] = f;
    send_frames(both, n, direct);
  }

  /// Ends the session from the server side.
  void close() { close(make_error_code(error::server_shutting_down), "forced server close", close_kind::server); }

  // ---- Used by the server ----

  void start(ws_ptr ws) {
    std::lock_guard<std::mutex> lk(mtx_);
    if (ws) {
      ws_ = std::move(ws);
      ws_->session = this->shared_from_this();
      ws_->probe = false;
      ws_buffered_ = ws_->get_buffered_amount();
    }
    schedule_ping();
    if (kind_ == kind::socketio) {
      connect_timer_.expires_after(server_.options().connect_timeout);
      connect_timer_.async_wait([w = this->weak_from_this()](const std::error_code& ec) {
        auto self = w.lock();
        if (ec || !self) return;
        std::unique_lock<std::mutex> lk(self->sio_mtx_);
        bool idle = self->sockets_.empty() && self->connecting_.empty();
        lk.unlock();
        if (idle) self->close(make_error_code(error::ping_timeout), "connect timeout", close_kind::failure);
      });
    }
  }

  /// A long-polling GET (protocol v4 §"HTTP long-polling": one pending GET at a time).
  void on_poll(const connection_ptr& con) {
    std::unique_lock<std::mutex> lk(mtx_);
    if (closed_ || transport_ != transport_kind::polling) {
      lk.unlock();
      server_.respond_engine_error(con, closed_ ? error::unknown_sid : error::bad_request, false);
      return;
    }
    if (pending_get_) {
      // Two GETs at once break the protocol: reject the newcomer and end the session.
      lk.unlock();
      server_.respond_engine_error(con, error::bad_request, false);
      close(make_error_code(error::duplicate_poll), "transport error", close_kind::failure);
      return;
    }
    if (!outbox_.empty()) {
      auto frames = take_outbox();
      lk.unlock();
      respond_poll(con, frames, false);
      return;
    }
    if (upgrading_) {
      // The client is pausing polling to finish the upgrade: let this poll return.
      lk.unlock();
      respond_poll(con, {control_frame(protocol::engineio::packet_type::noop)}, false);
      return;
    }
    con->defer_http_response();
    pending_get_ = con;
  }

  /// A long-polling POST carrying a payload of packets.
  void on_post(const connection_ptr& con) {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      if (closed_ || transport_ != transport_kind::polling) {
        server_.respond_engine_error(con, closed_ ? error::unknown_sid : error::bad_request, false);
        return;
      }
    }
    const std::string& body = con->get_request_body();
    protocol::engineio::limits lim;
    lim.max_payload = server_.options().max_payload;
    if (body.size() > lim.max_payload) {
      server_.respond(con, 413, "text/plain; charset=UTF-8", "payload too large", false);
      close(make_error_code(error::payload_too_large), "transport error", close_kind::failure);
      return;
    }
    // Validate first, then answer, then act: handlers may run long and the client waits.
    std::error_code ec;
    protocol::engineio::parse_payload(body, [](const protocol::engineio::packet&) {}, ec, lim);
    if (ec) {
      server_.respond_engine_error(con, error::bad_request, false);
      close(ec, "parse error", close_kind::failure);
      return;
    }
    server_.respond(con, 200, "text/html", "ok", false);
    protocol::engineio::parse_payload(
        body, [this](const protocol::engineio::packet& p) { on_packet(p, false); }, ec, lim);
  }

  /// A WebSocket probe for this polling session opened (protocol v4 §"Upgrade").
  void on_probe_open(const ws_ptr& con) {
    std::unique_lock<std::mutex> lk(mtx_);
    if (closed_ || upgrading_ || transport_ != transport_kind::polling) {
      lk.unlock();
      std::error_code ec;
      con->close(websocketpp::close::status::protocol_error, "Bad request", ec);
      return;
    }
    upgrading_ = true;
    probe_ = con;
    con->session = this->shared_from_this();
    con->probe = true;
    upgrade_timer_.expires_after(server_.options().upgrade_timeout);
    upgrade_timer_.async_wait([w = this->weak_from_this()](const std::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) self->abandon_probe();
    });
  }

  /// A frame arrived on one of this session's WebSocket connections.
  void on_ws_message(const ws_ptr& con, const std::string& payload, bool binary) {
    protocol::engineio::limits lim;
    lim.max_payload = server_.options().max_payload;
    std::error_code ec;
    auto p = binary ? protocol::engineio::parse_binary_frame(payload)
                    : protocol::engineio::parse_text_frame(payload, ec, lim);
    if (con->probe) {
      on_probe_packet(con, p, ec);
      return;
    }
    if (ec) {
      close(ec, "parse error", close_kind::failure);
      return;
    }
    on_packet(p, true);
  }

  /// One of this session's WebSocket connections closed.
  void on_ws_closed(const ws_ptr& con) {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      if (con == probe_) {
        probe_.reset();
        upgrading_ = false;
        upgrade_timer_.cancel();
        return;
      }
      if (con != ws_) return;
    }
    close(make_error_code(error::transport_closed), "transport close", close_kind::failure);
  }

  /// Ends the session: answers a held poll, closes the WebSocket, disconnects every socket.
  void close(std::error_code why, std::string_view reason, close_kind how) {
    connection_ptr get;
    ws_ptr ws, probe;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      if (closed_) return;
      closed_ = true;
      get = std::move(pending_get_);
      ws = std::move(ws_);
      probe = std::move(probe_);
      outbox_.clear();
      // Frames already queued still go out before the close frame, unless the peer stopped
      // reading (a pending flush then finds nothing).
      if (how == close_kind::failure && why == error::slow_consumer) {
        pending_msgs_.clear();
        pending_buf_.clear();
        pending_bytes_ = 0;
      }
      ping_timer_.cancel();
      pong_timer_.cancel();
      connect_timer_.cancel();
      upgrade_timer_.cancel();
    }
    server_.remove_session(sid_, why);
    if (get) {
      auto t = how == close_kind::client ? protocol::engineio::packet_type::noop : protocol::engineio::packet_type::close;
      respond_poll(get, {control_frame(t)}, true);
    }
    auto code = how == close_kind::failure ? websocketpp::close::status::protocol_error
                                           : websocketpp::close::status::going_away;
    if (how == close_kind::client) code = websocketpp::close::status::normal;
    // A peer that stopped reading would never read a close frame either.
    bool cut = how == close_kind::failure && why == error::slow_consumer;
    for (auto* c : {&ws, &probe}) {
      if (!*c) continue;
      on_strand(*c, [con = *c, code, cut, text = std::string(reason)] {
        std::error_code ec;
        if (cut)
          con->terminate(ec);
        else
          con->close(code, text, ec);
      });
    }
    std::unordered_map<std::string, socket_ptr> sockets;
    {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      sockets.swap(sockets_);
      pending_binary_.reset();
    }
    for (auto& [nsp, s] : sockets) s->closed(reason);
  }

  /// Disconnects `s` from its namespace at the server's request.
  void disconnect_socket(socket_type& s) {
    {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      auto it = sockets_.find(s.nsp_name());
      if (it == sockets_.end() || it->second.get() != &s) return;
      sockets_.erase(it);
    }
    encoded_packet p(protocol::socketio::packet_type::disconnect, s.nsp_name(), std::nullopt, {});
    send(p);
    s.closed("server namespace disconnect");
  }

  bool is_closed() const {
    std::lock_guard<std::mutex> lk(mtx_);
    return closed_;
  }

private:
  // WebSocket connections are not safe to close from a thread other than their strand.
  template <class F> static void on_strand(const ws_ptr& con, F&& f) {
    if (auto strand = con->get_strand())
      asio::post(*strand, std::forward<F>(f));
    else
      f();
  }

  static outgoing_frame control_frame(protocol::engineio::packet_type t, std::string_view data = {}) {
    std::string s;
    protocol::engineio::append_packet(s, t, data);
    return make_frame(std::move(s), false);
  }

  std::vector<outgoing_frame> take_outbox() {
    std::vector<outgoing_frame> out;
    out.swap(outbox_);
    outbox_bytes_ = 0;
    return out;
  }

  void respond_poll(const connection_ptr& con, const std::vector<outgoing_frame>& frames, bool deferred) {
    std::string body;
    std::size_t n = 0;
    for (const auto& f : frames) n += f.binary ? f.data().size() * 4 / 3 + 6 : f.data().size() + 1;
    body.reserve(n);
    for (const auto& f : frames) {
      protocol::engineio::append_separator_if_needed(body);
      if (f.binary)
        protocol::engineio::append_binary_packet_for_payload(body, f.data());
      else
        body += f.data();
    }
    server_.respond(con, 200, "text/plain; charset=UTF-8", std::move(body), deferred);
  }

  void send_frames(const outgoing_frame* frames, std::size_t count, bool direct = false) {
    std::unique_lock<std::mutex> lk(mtx_);
    if (closed_) return;
    if (transport_ == transport_kind::websocket) {
      if constexpr (direct_writes) {
        // Nothing of this session is pending or being handed over, so a direct write cannot
        // overtake an earlier frame; the connection refuses if it still has bytes queued.
        // Only off the I/O threads (the delivery thread): on one, the post lets the other I/O
        // threads write while this one goes on (the /publish load runs 15 % faster so).
        if (direct && !flush_posted_ && handoff_bytes_ == 0 &&
            !server_.io_context().get_executor().running_in_this_thread() && ws_->try_write_now(frames, count))
          return;
      }
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < count; ++i) bytes += frames[i].wire_size();
      const std::size_t limit = server_.options().max_outgoing_bytes;
      if (pending_bytes_ + handoff_bytes_ + ws_buffered_ + bytes > limit) {
        // The cached figure only goes stale upwards (websocketpp drains it): ask again.
        ws_buffered_ = ws_->get_buffered_amount();
        if (pending_bytes_ + handoff_bytes_ + ws_buffered_ + bytes > limit) {
          lk.unlock();
          post_close(make_error_code(error::slow_consumer), "transport error");
          return;
        }
      }
      // Queued under the lock so the frames of one packet stay together and in order.
      for (std::size_t i = 0; i < count; ++i) queue_frame(frames[i]);
      pending_bytes_ += bytes;
      if (!flush_posted_) post_flush();
      return;
    }
    for (std::size_t i = 0; i < count; ++i) {
      outbox_.push_back(frames[i]);
      outbox_bytes_ += frames[i].data().size();
    }
    if (outbox_bytes_ > server_.options().max_outgoing_bytes) {
      lk.unlock();
      post_close(make_error_code(error::slow_consumer), "transport error");
      return;
    }
    if (pending_get_ && !upgrading_) {
      auto con = std::move(pending_get_);
      auto out = take_outbox();
      lk.unlock();
      respond_poll(con, out, true);
    }
  }

  // esink's own WebSocket connections (plain TCP) can be written from any thread.
  static constexpr bool direct_writes = std::is_same_v<Config, plain_config>;

  // Write batching. Frames for the WebSocket are copied into the session's pending buffer
  // (a few hundred bytes: cheaper than sharing the frame, whose reference count every
  // recipient's thread would bounce) and leave with the next flush: one post, one websocketpp
  // message and one `sendmsg` for whatever piled up meanwhile. Frames above `copy_limit`
  // are passed on shared. Called with mtx_ held.
  static constexpr std::size_t copy_limit = 16 * 1024;

  void queue_frame(const outgoing_frame& f) {
    if (f.wire_size() <= copy_limit) {
      pending_buf_ += f.ws->get_header();
      pending_buf_ += f.ws->get_payload();
      return;
    }
    if (!pending_buf_.empty()) {
      auto m = std::make_shared<ws_message>(nullptr, websocketpp::frame::opcode::text, 0);
      m->get_raw_payload().swap(pending_buf_);
      m->set_prepared(true);
      pending_msgs_.push_back(std::move(m));
    }
    pending_msgs_.push_back(f.ws);
  }

  void post_flush() {
    static_assert(Config::transport_config::enable_multithreading, "connections need a strand");
    flush_posted_ = true;
    asio::post(*ws_->get_strand(), [self = this->shared_from_this(), con = ws_] { self->flush(con); });
  }

  // On `con`'s strand: every flush of a session runs there, one after the other, before a
  // close posted later, so frames keep their order and precede the close frame.
  void flush(const ws_ptr& con) {
    ws_message_ptr buffer = spare_buffer();
    std::string& out = buffer->get_raw_payload();
    std::size_t bytes = 0;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      flush_posted_ = false;
      flushing_.swap(pending_msgs_);
      out.swap(pending_buf_);
      bytes = pending_bytes_;
      pending_bytes_ = 0;
      handoff_bytes_ += bytes;
    }
    // Both fail only when the connection is closing: the frames have nowhere to go then.
    bool sent = false;
    for (const auto& m : flushing_) sent |= !con->send(m);
    flushing_.clear();
    if (!out.empty()) sent |= !con->send(buffer);
    // `send` posts websocketpp's `write_frame` to this strand; running it here starts the
    // write one hop earlier (the posted one then finds nothing to do), so a batch costs the
    // delivering thread no more latency than a direct `send` did.
    if (sent) con->write_frame();
    std::lock_guard<std::mutex> lk(mtx_);
    handoff_bytes_ -= bytes;
    ws_buffered_ = con->get_buffered_amount();
  }

  // Two buffers per connection take turns: one in websocketpp's hands, one being filled.
  // websocketpp lets go of a message on this same strand, so a count of one means it is ours
  // again. A buffer grown by a burst is not kept, so idle connections stay small.
  ws_message_ptr spare_buffer() {
    static constexpr std::size_t keep_capacity = 4096;
    for (auto& b : spares_) {
      if (b && b.use_count() == 1) {
        std::string& s = b->get_raw_payload();
        if (s.capacity() > keep_capacity)
          std::string().swap(s);
        else
          s.clear();
        return b;
      }
    }
    auto b = std::make_shared<ws_message>(nullptr, websocketpp::frame::opcode::text, 0);
    b->set_prepared(true);
    // Both busy (a slow reader): the new one replaces the first, which websocketpp still holds.
    (spares_[0] && !spares_[1] ? spares_[1] : spares_[0]) = b;
    return b;
  }

  // Closing from a send path would re-enter namespace locks held by the sender.
  void post_close(std::error_code why, const char* reason) {
    asio::post(server_.io_context(), [w = this->weak_from_this(), why, reason] {
      if (auto self = w.lock()) self->close(why, reason, close_kind::failure);
    });
  }

  // Timers are only touched with mtx_ held: Asio timers are not thread-safe.
  void schedule_ping() {
    ping_timer_.expires_after(server_.options().ping_interval);
    ping_timer_.async_wait([w = this->weak_from_this()](const std::error_code& ec) {
      auto self = w.lock();
      if (ec || !self) return;
      {
        // Armed before the ping leaves: a pong may come back before send_frames returns.
        std::lock_guard<std::mutex> lk(self->mtx_);
        if (self->closed_) return;
        self->pong_timer_.expires_after(self->server_.options().ping_timeout);
        self->pong_timer_.async_wait([w](const std::error_code& ec2) {
          auto s = w.lock();
          if (ec2 || !s) return;
          s->close(make_error_code(error::ping_timeout), "ping timeout", close_kind::failure);
        });
      }
      auto ping = control_frame(protocol::engineio::packet_type::ping);
      self->send_frames(&ping, 1);
    });
  }

  void on_pong() {
    std::lock_guard<std::mutex> lk(mtx_);
    if (closed_) return;
    pong_timer_.cancel();
    schedule_ping();
  }

  void on_probe_packet(const ws_ptr& con, const protocol::engineio::packet& p, std::error_code ec) {
    using protocol::engineio::packet_type;
    if (!ec && p.type == packet_type::ping && p.data == "probe") {
      std::string pong;
      protocol::engineio::append_packet(pong, packet_type::pong, "probe");
      con->send(pong, websocketpp::frame::opcode::text);
      // Let a held poll return so the client can pause polling.
      std::unique_lock<std::mutex> lk(mtx_);
      if (pending_get_) {
        auto get = std::move(pending_get_);
        auto out = take_outbox();
        lk.unlock();
        if (out.empty()) out.push_back(control_frame(packet_type::noop));
        respond_poll(get, out, true);
      }
      return;
    }
    if (!ec && p.type == packet_type::upgrade) {
      connection_ptr get;
      std::vector<outgoing_frame> out;
      {
        std::lock_guard<std::mutex> lk(mtx_);
        if (closed_ || con != probe_) return;
        upgrade_timer_.cancel();
        transport_ = transport_kind::websocket;
        ws_ = std::move(probe_);
        ws_->probe = false;
        upgrading_ = false;
        get = std::move(pending_get_);
        out = take_outbox();
        // Whatever waited for the next poll now goes over the WebSocket, in order.
        ws_buffered_ = ws_->get_buffered_amount();
        for (const auto& f : out) {
          queue_frame(f);
          pending_bytes_ += f.wire_size();
        }
        if (pending_bytes_ && !flush_posted_) post_flush();
      }
      if (get) respond_poll(get, {control_frame(packet_type::noop)}, true);
      return;
    }
    if (!ec && p.type == packet_type::noop) return;
    abandon_probe();
  }

  void abandon_probe() {
    ws_ptr probe;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      probe = std::move(probe_);
      upgrading_ = false;
    }
    if (probe) {
      on_strand(probe, [probe] {
        std::error_code ec;
        probe->close(websocketpp::close::status::protocol_error, "upgrade failed", ec);
      });
    }
  }

  void on_packet(const protocol::engineio::packet& p, bool over_websocket) {
    using protocol::engineio::packet_type;
    switch (p.type) {
      case packet_type::ping: {
        auto f = control_frame(packet_type::pong, p.data);
        send_frames(&f, 1);
        return;
      }
      case packet_type::pong: on_pong(); return;
      case packet_type::message:
        if (kind_ == kind::raw) {
          if (raw_ && *raw_) (*raw_)(*this, p.data, p.binary);
        } else {
          on_socketio_message(p.data, p.binary);
        }
        return;
      case packet_type::close: close(make_error_code(error::transport_closed), "transport close", close_kind::client); return;
      case packet_type::noop: return;
      case packet_type::upgrade:
      case packet_type::open: break;
    }
    (void)over_websocket;
    close(make_error_code(error::bad_packet_type), "parse error", close_kind::failure);
  }

  // ---- Socket.IO (protocol v5) ----

  struct pending_binary {
    protocol::socketio::packet_type type;
    std::string nsp;
    std::optional<std::uint64_t> id;
    boost::json::value data;
    std::size_t expected = 0;
    std::vector<std::string> attachments;
  };

  void protocol_error(std::error_code ec) { close(ec, "parse error", close_kind::failure); }

  void on_socketio_message(std::string_view data, bool binary) {
    namespace sio = protocol::socketio;
    if (binary) {
      std::optional<pending_binary> done;
      {
        std::lock_guard<std::mutex> lk(sio_mtx_);
        if (!pending_binary_) {
          // fall through to the error below, without the lock
        } else {
          pending_binary_->attachments.emplace_back(data);
          if (pending_binary_->attachments.size() == pending_binary_->expected) {
            done = std::move(pending_binary_);
            pending_binary_.reset();
          }
          if (!done) return;
        }
      }
      if (!done) return protocol_error(make_error_code(error::unexpected_binary));
      dispatch(done->type, done->nsp, done->id, std::move(done->data), std::move(done->attachments));
      return;
    }
    bool awaiting_attachments = false;
    {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      awaiting_attachments = pending_binary_.has_value();
    }
    // A text packet before the awaited attachments breaks the BINARY_EVENT framing.
    if (awaiting_attachments) return protocol_error(make_error_code(error::bad_attachment_count));
    sio::limits lim;
    lim.max_attachments = server_.options().max_attachments;
    lim.max_depth = server_.options().max_json_depth;
    sio::packet p;
    std::error_code ec;
    sio::parse(data, p, ec, lim);
    if (ec) return protocol_error(ec);
    boost::json::value v;
    if (!sio::parse_data(p, v, ec, lim)) return protocol_error(ec ? ec : make_error_code(error::bad_json));
    if (sio::is_binary(p.type) && p.attachments > 0) {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      pending_binary_.emplace();
      pending_binary_->type = p.type;
      pending_binary_->nsp = std::string(p.nsp);
      pending_binary_->id = p.id;
      pending_binary_->data = std::move(v);
      pending_binary_->expected = p.attachments;
      return;
    }
    dispatch(p.type, p.nsp, p.id, std::move(v), {});
  }

  socket_ptr find_socket(std::string_view nsp) {
    std::lock_guard<std::mutex> lk(sio_mtx_);
    auto it = sockets_.find(std::string(nsp));
    return it == sockets_.end() ? nullptr : it->second;
  }

  void dispatch(protocol::socketio::packet_type type, std::string_view nsp, std::optional<std::uint64_t> id,
                boost::json::value v, std::vector<std::string> attachments) {
    namespace sio = protocol::socketio;
    if (type != sio::packet_type::connect) {
      // The client may send as soon as it has the CONNECT answer, which goes out before the
      // server's on_connection handler has registered the socket's handlers: hold the packet
      // until it has (Node's single thread gives this order for free).
      std::lock_guard<std::mutex> lk(sio_mtx_);
      const std::string name(nsp);
      if (connecting_.count(name) && sockets_.count(name)) {
        early_.push_back({type, name, id, std::move(v), std::move(attachments)});
        return;
      }
    }
    dispatch_ready(type, nsp, id, std::move(v), std::move(attachments));
  }

  void dispatch_ready(protocol::socketio::packet_type type, std::string_view nsp, std::optional<std::uint64_t> id,
                      boost::json::value v, std::vector<std::string> attachments) {
    namespace sio = protocol::socketio;
    switch (type) {
      case sio::packet_type::connect: return on_connect(nsp, std::move(v));
      case sio::packet_type::disconnect: {
        socket_ptr s;
        {
          std::lock_guard<std::mutex> lk(sio_mtx_);
          auto it = sockets_.find(std::string(nsp));
          if (it == sockets_.end()) return;
          s = std::move(it->second);
          sockets_.erase(it);
        }
        // The Engine.IO session stays open, as with the reference server: the client may
        // connect to a namespace again.
        s->closed("client namespace disconnect");
        return;
      }
      case sio::packet_type::event:
      case sio::packet_type::binary_event: {
        auto s = find_socket(nsp);
        if (!s) return protocol_error(make_error_code(error::not_connected));
        auto& arr = v.as_array();
        std::string name(arr.front().as_string());
        message m;
        m.args.reserve(arr.size() - 1);
        for (std::size_t i = 1; i < arr.size(); ++i) m.args.push_back(std::move(arr[i]));
        m.attachments = std::move(attachments);
        s->dispatch_event(name, m, id);
        return;
      }
      case sio::packet_type::ack:
      case sio::packet_type::binary_ack: {
        auto s = find_socket(nsp);
        if (!s) return protocol_error(make_error_code(error::not_connected));
        message m;
        m.args = std::move(v.as_array());
        m.attachments = std::move(attachments);
        s->dispatch_ack(*id, m);
        return;
      }
      case sio::packet_type::connect_error: break;
    }
    protocol_error(make_error_code(error::bad_packet_type));
  }

  void on_connect(std::string_view nsp_name, boost::json::value auth) {
    namespace sio = protocol::socketio;
    auto* nsp = server_.find_namespace(nsp_name);
    if (!nsp) {
      boost::json::object err;
      err["message"] = "Invalid namespace";
      send(encoded_packet(sio::packet_type::connect_error, nsp_name, std::nullopt, boost::json::serialize(err)));
      return;
    }
    {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      if (sockets_.count(nsp->name()) || !connecting_.insert(nsp->name()).second) return;
    }
    handshake hs = handshake_;
    hs.auth = auth.is_object() ? std::move(auth) : boost::json::value(boost::json::object{});
    connect_reply reply([w = this->weak_from_this(), nsp, hs](bool ok, boost::json::value v) {
      if (auto self = w.lock()) self->finish_connect(*nsp, hs, ok, std::move(v));
    });
    if (nsp->hook_)
      nsp->hook_(hs, reply);
    else
      reply.accept();
  }

  void finish_connect(basic_namespace<Config>& nsp, const handshake& hs, bool ok, boost::json::value v) {
    namespace sio = protocol::socketio;
    if (!ok) {
      {
        std::lock_guard<std::mutex> lk(sio_mtx_);
        connecting_.erase(nsp.name());
      }
      send(encoded_packet(sio::packet_type::connect_error, nsp.name(), std::nullopt, boost::json::serialize(v)));
      return;
    }
    auto s = std::make_shared<socket_type>(random_id(), nsp, this->weak_from_this(), hs, std::move(v));
    {
      std::lock_guard<std::mutex> lk(sio_mtx_);
      if (is_closed()) {
        connecting_.erase(nsp.name());
        return;
      }
      // The namespace stays in connecting_ until on_connection has run: packets the client
      // sends once it has the CONNECT answer wait for the handlers it registers (see dispatch).
      sockets_[nsp.name()] = s;
    }
    {
      std::lock_guard<std::mutex> lk(mtx_);
      connect_timer_.cancel();
    }
    boost::json::object ack;
    ack["sid"] = s->id();
    // The CONNECT answer goes out before the socket can receive any broadcast.
    send(encoded_packet(sio::packet_type::connect, nsp.name(), std::nullopt, boost::json::serialize(ack)));
    nsp.add(s);
    if (nsp.on_connection_) nsp.on_connection_(s);
    // Now the packets that arrived meanwhile, in order; more may arrive while they run.
    for (;;) {
      std::vector<early_packet> ready;
      {
        std::lock_guard<std::mutex> lk(sio_mtx_);
        for (auto it = early_.begin(); it != early_.end();) {
          if (it->nsp == nsp.name()) {
            ready.push_back(std::move(*it));
            it = early_.erase(it);
          } else {
            ++it;
          }
        }
        if (ready.empty()) {
          connecting_.erase(nsp.name());
          if (early_.empty()) std::vector<early_packet>().swap(early_);
          return;
        }
      }
      for (auto& e : ready) dispatch_ready(e.type, e.nsp, e.id, std::move(e.data), std::move(e.attachments));
    }
  }

  /// A packet for a socket whose on_connection handler is still running.
  struct early_packet {
    protocol::socketio::packet_type type;
    std::string nsp;
    std::optional<std::uint64_t> id;
    boost::json::value data;
    std::vector<std::string> attachments;
  };

  server_type& server_;
  const std::string sid_;
  const kind kind_;
  const raw_handler* raw_;

  mutable std::mutex mtx_;
  transport_kind transport_;
  bool closed_ = false;
  bool upgrading_ = false;
  connection_ptr pending_get_;
  ws_ptr ws_;
  ws_ptr probe_;
  std::vector<outgoing_frame> outbox_;
  std::size_t outbox_bytes_ = 0;
  // WebSocket write batching (see queue_frame): frames waiting for the flush (copied bytes,
  // then large frames shared, in order), the bytes a flush is handing to websocketpp,
  // websocketpp's queue as of the last flush.
  std::vector<ws_message_ptr> pending_msgs_;
  std::string pending_buf_;
  std::size_t pending_bytes_ = 0;
  std::size_t handoff_bytes_ = 0;
  std::size_t ws_buffered_ = 0;
  bool flush_posted_ = false;
  // Only touched by flush, on the connection's strand.
  std::vector<ws_message_ptr> flushing_;
  ws_message_ptr spares_[2];

  handshake handshake_;
  asio::steady_timer ping_timer_;
  asio::steady_timer pong_timer_;
  asio::steady_timer connect_timer_;
  asio::steady_timer upgrade_timer_;

  std::mutex sio_mtx_;
  std::unordered_map<std::string, socket_ptr> sockets_;
  std::unordered_set<std::string> connecting_;  ///< CONNECT not answered yet, or on_connection running.
  std::vector<early_packet> early_;
  std::optional<pending_binary> pending_binary_;
};

}  // namespace detail

template <class Config> void basic_socket<Config>::send(const encoded_packet_ptr& p, bool direct) {
  if (!connected()) return;
  if (auto s = session_.lock()) s->send(*p, direct);
}

template <class Config>
void basic_socket<Config>::send(const encoded_packet_ptr& a, const encoded_packet_ptr& b, bool direct) {
  if (!connected()) return;
  if (auto s = session_.lock()) s->send(*a, *b, direct);
}

template <class Config> void basic_socket<Config>::disconnect() {
  if (auto s = session_.lock()) s->disconnect_socket(*this);
}

}  // namespace esink

#endif
