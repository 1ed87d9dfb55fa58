#ifndef ESINK_TRANSPORT_SOCKET_HPP
#define ESINK_TRANSPORT_SOCKET_HPP

#include <esink/protocol/socketio/packet.hpp>
#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/message.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace esink {

template <class Config> class basic_namespace;
namespace detail {
template <class Config> class engine_session;
}

/// What a namespace's connect hook and its sockets know of the client's handshake.
struct handshake {
  /// The CONNECT packet's payload (`auth` of the client); an empty object when none.
  boost::json::value auth = boost::json::object{};
  /// Query string of the Engine.IO handshake request, still percent-encoded.
  std::string query;
  /// `Origin` header of the handshake request, empty when absent.
  std::string origin;
  /// Peer address, as `ip:port`.
  std::string remote_address;
};

/// The answer to a connection request. Call `accept` or `reject` once, from any thread,
/// possibly long after the hook returned (e.g. after a database lookup on another thread).
/// Copies share one answer: only the first call counts.
class connect_reply {
public:
  using function_type = std::function<void(bool accepted, boost::json::value)>;

  explicit connect_reply(function_type f) : state_(std::make_shared<state>(std::move(f))) {}

  /// Admits the client. `data` becomes the socket's `data()` before the connection handler runs.
  void accept(boost::json::value data = nullptr) const { answer(true, std::move(data)); }

  /// Refuses the client with CONNECT_ERROR `{"message": message[, "data": data]}`.
  void reject(std::string_view message, boost::json::value data = nullptr) const {
    boost::json::object o;
    o["message"] = message;
    if (!data.is_null()) o["data"] = std::move(data);
    answer(false, std::move(o));
  }

private:
  struct state {
    explicit state(function_type f) : fn(std::move(f)) {}
    std::atomic<bool> answered{false};
    function_type fn;
  };

  void answer(bool ok, boost::json::value v) const {
    if (!state_->answered.exchange(true)) state_->fn(ok, std::move(v));
  }

  std::shared_ptr<state> state_;
};

template <class Config> class basic_socket;

/// Sends the acknowledgement a client asked for with its event; does nothing when the client
/// asked for none (test with `operator bool`). Only the first call sends.
template <class Config> class basic_ack_sender {
public:
  basic_ack_sender() = default;
  basic_ack_sender(std::weak_ptr<basic_socket<Config>> s, std::optional<std::uint64_t> id)
      : socket_(std::move(s)), id_(id), sent_(std::make_shared<std::atomic<bool>>(false)) {}

  explicit operator bool() const noexcept { return id_.has_value(); }

  void operator()(const message& m = {}) const {
    if (!id_ || sent_->exchange(true)) return;
    if (auto s = socket_.lock()) s->send_ack(*id_, m);
  }

private:
  std::weak_ptr<basic_socket<Config>> socket_;
  std::optional<std::uint64_t> id_;
  std::shared_ptr<std::atomic<bool>> sent_;
};

/// One client's connection to one namespace, as a Socket.IO server socket.
///
/// @tparam Config the websocketpp configuration of the server (plain or TLS).
///
/// @par Thread safety
/// All members may be called from any thread. Handlers run on an I/O thread, one event of a
/// socket at a time in arrival order; they must not block.
template <class Config>
class basic_socket : public std::enable_shared_from_this<basic_socket<Config>> {
public:
  using ack_sender = basic_ack_sender<Config>;
  using event_handler = std::function<void(basic_socket&, message&, ack_sender)>;
  using disconnect_handler = std::function<void(basic_socket&, std::string_view reason)>;
  using ack_callback = std::function<void(message&)>;

  basic_socket(std::string id, basic_namespace<Config>& nsp, std::weak_ptr<detail::engine_session<Config>> session,
               handshake hs, boost::json::value data)
      : id_(std::move(id)), nsp_(nsp), session_(std::move(session)), handshake_(std::move(hs)),
        data_(std::move(data)) {}

  /// The socket id sent to the client in the CONNECT answer.
  const std::string& id() const noexcept { return id_; }
  basic_namespace<Config>& nsp() const noexcept { return nsp_; }
  const handshake& client_handshake() const noexcept { return handshake_; }
  /// What the connect hook passed to `connect_reply::accept` (for example the user row).
  const boost::json::value& data() const noexcept { return data_; }
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }

  /// Calls `h` for every `event` the client emits; a later call replaces the handler.
  void on(std::string event, event_handler h) {
    std::lock_guard<std::mutex> lk(mtx_);
    handlers_[std::move(event)] = std::move(h);
  }

  /// Calls `h` once when the socket disconnects, with the Socket.IO reason string.
  void on_disconnect(disconnect_handler h) {
    std::lock_guard<std::mutex> lk(mtx_);
    disconnect_handlers_.push_back(std::move(h));
  }

  /// Emits `event` with `m`'s arguments to this client.
  void emit(std::string_view event, const message& m = {}) {
    send(encoded_packet::event(nsp_name(), event, m));
  }

  /// Emits `event` and calls `cb` with the client's acknowledgement.
  void emit_with_ack(std::string_view event, const message& m, ack_callback cb) {
    std::uint64_t id;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      id = next_ack_id_++;
      acks_.emplace(id, std::move(cb));
    }
    send(encoded_packet::event(nsp_name(), event, m, id));
  }

  /// Sends an already encoded packet (it must be encoded for this socket's namespace).
  /// `direct`: write from this thread when the connection is idle (see engine_session::send).
  void send(const encoded_packet_ptr& p, bool direct = true);
  /// Sends `a`, then `b`, with nothing in between (one write when written directly).
  void send(const encoded_packet_ptr& a, const encoded_packet_ptr& b, bool direct = true);

  /// Joins `room`; a room is a name that emits can target.
  void join(const std::string& room);
  /// Leaves `room`.
  void leave(const std::string& room);
  /// Rooms this socket is in.
  std::vector<std::string> rooms() const {
    std::lock_guard<std::mutex> lk(mtx_);
    return {rooms_.begin(), rooms_.end()};
  }

  /// Disconnects this socket from its namespace (the client sees `io server disconnect`).
  void disconnect();

  /// The namespace name, as written in packets.
  const std::string& nsp_name() const noexcept;

private:
  friend class basic_namespace<Config>;
  friend class detail::engine_session<Config>;
  friend class basic_ack_sender<Config>;

  void send_ack(std::uint64_t id, const message& m) {
    auto type = m.attachments.empty() ? protocol::socketio::packet_type::ack
                                      : protocol::socketio::packet_type::binary_ack;
    send(std::make_shared<const encoded_packet>(type, nsp_name(), id, boost::json::serialize(m.args),
                                                m.attachments));
  }

  // Called by the session on the I/O thread.
  void dispatch_event(std::string_view event, message& m, std::optional<std::uint64_t> ack_id) {
    event_handler h;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      auto it = handlers_.find(std::string(event));
      if (it == handlers_.end()) return;
      h = it->second;
    }
    h(*this, m, ack_sender(this->weak_from_this(), ack_id));
  }

  void dispatch_ack(std::uint64_t id, message& m) {
    ack_callback cb;
    {
      std::lock_guard<std::mutex> lk(mtx_);
      auto it = acks_.find(id);
      if (it == acks_.end()) return;
      cb = std::move(it->second);
      acks_.erase(it);
    }
    cb(m);
  }

  /// Marks the socket closed, leaves every room, runs the disconnect handlers once.
  void closed(std::string_view reason);

  std::string id_;
  basic_namespace<Config>& nsp_;
  std::weak_ptr<detail::engine_session<Config>> session_;
  handshake handshake_;
  boost::json::value data_;
  std::atomic<bool> connected_{true};

  mutable std::mutex mtx_;
  std::unordered_map<std::string, event_handler> handlers_;
  std::vector<disconnect_handler> disconnect_handlers_;
  std::unordered_map<std::uint64_t, ack_callback> acks_;
  std::uint64_t next_ack_id_ = 0;
  std::unordered_set<std::string> rooms_;
};

}  // namespace esink

#endif
