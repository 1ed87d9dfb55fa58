#ifndef ESINK_TRANSPORT_SOCKET_NAMESPACE_HPP
#define ESINK_TRANSPORT_SOCKET_NAMESPACE_HPP

#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/socket.hpp>

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace esink {

/// A Socket.IO namespace: its connect hook, its sockets and their rooms.
///
/// @tparam Config the websocketpp configuration of the server.
///
/// @par Thread safety
/// Set the hook and the connection handler before the server starts; everything else may be
/// called from any thread.
template <class Config> class basic_namespace {
public:
  using socket_type = basic_socket<Config>;
  using socket_ptr = std::shared_ptr<socket_type>;
  using connect_hook = std::function<void(const handshake&, connect_reply)>;
  using connection_handler = std::function<void(const socket_ptr&)>;

  explicit basic_namespace(std::string name) : name_(std::move(name)) {}
  basic_namespace(const basic_namespace&) = delete;
  basic_namespace& operator=(const basic_namespace&) = delete;

  const std::string& name() const noexcept { return name_; }

  /// Decides whether a client may connect (the Node server's middleware). Without a hook
  /// every client is accepted.
  void use(connect_hook h) { hook_ = std::move(h); }

  /// Called for every accepted socket, after the client has its CONNECT answer.
  void on_connection(connection_handler h) { on_connection_ = std::move(h); }

  /// Sends `p` (encoded for this namespace) to every socket of the namespace.
  void broadcast(const encoded_packet_ptr& p) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    for (const auto& [id, s] : sockets_) s->send(p, false);
  }

  /// Sends `a`, then `b`, to every socket: one pass, each socket gets both back to back.
  void broadcast(const encoded_packet_ptr& a, const encoded_packet_ptr& b) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    for (const auto& [id, s] : sockets_) s->send(a, b, false);
  }

  /// Sends `p` to every socket in `room`; costs O(members), not O(sockets).
  void send_to_room(const std::string& room, const encoded_packet_ptr& p) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    // A user's few connections are written from this thread; a large room's are left to the
    // I/O threads, where frames for one connection pile up into one write.
    const bool direct = it->second.size() <= direct_room_size;
    for (socket_type* s : it->second) s->send(p, direct);
  }

  /// Sends `a`, then `b`, to every socket in `room`: where written directly, both leave in
  /// one `sendmsg`.
  void send_to_room(const std::string& room, const encoded_packet_ptr& a, const encoded_packet_ptr& b) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    const bool direct = it->second.size() <= direct_room_size;
    for (socket_type* s : it->second) s->send(a, b, direct);
  }

  /// Rooms up to this size are written to from the sending thread (see send_to_room).
  static constexpr std::size_t direct_room_size = 4;

  /// Emits `event` to every socket of the namespace; encoded once.
  void emit(std::string_view event, const message& m = {}) const {
    broadcast(encoded_packet::event(name_, event, m));
  }

  /// Emits `event` to the members of `room`; encoded once.
  void emit_to(const std::string& room, std::string_view event, const message& m = {}) const {
    send_to_room(room, encoded_packet::event(name_, event, m));
  }

  /// Connected sockets.
  std::size_t size() const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    return sockets_.size();
  }

  /// Members of `room`.
  std::size_t room_size(const std::string& room) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    auto it = rooms_.find(room);
    return it == rooms_.end() ? 0 : it->second.size();
  }

  /// The socket with that id, or null.
  socket_ptr find(const std::string& id) const {
    std::shared_lock<std::shared_mutex> lk(mtx_);
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : it->second;
  }

private:
  friend class basic_socket<Config>;
  friend class detail::engine_session<Config>;

  void add(const socket_ptr& s) {
    std::unique_lock<std::shared_mutex> lk(mtx_);
    sockets_.emplace(s->id(), s);
  }

  void remove(socket_type& s, const std::vector<std::string>& rooms) {
    std::unique_lock<std::shared_mutex> lk(mtx_);
    for (const auto& r : rooms) erase_member(r, &s);
    sockets_.erase(s.id());
  }

  void add_member(const std::string& room, socket_type* s) {
    std::unique_lock<std::shared_mutex> lk(mtx_);
    rooms_[room].insert(s);
  }

  void remove_member(const std::string& room, socket_type* s) {
    std::unique_lock<std::shared_mutex> lk(mtx_);
    erase_member(room, s);
  }

  void erase_member(const std::string& room, socket_type* s) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    it->second.erase(s);
    if (it->second.empty()) rooms_.erase(it);
  }

  std::string name_;
  connect_hook hook_;
  connection_handler on_connection_;

  // Sends happen under the shared lock; a send never removes a socket inline (a failing
  // session closes itself on a posted handler), so this cannot deadlock.
  mutable std::shared_mutex mtx_;
  std::unordered_map<std::string, socket_ptr> sockets_;
  std::unordered_map<std::string, std::unordered_set<socket_type*>> rooms_;
};

template <class Config> const std::string& basic_socket<Config>::nsp_name() const noexcept {
  return nsp_.name();
}

template <class Config> void basic_socket<Config>::join(const std::string& room) {
  // Held across add_member so a concurrent close cannot miss this room (lock order:
  // socket, then namespace).
  std::lock_guard<std::mutex> lk(mtx_);
  if (!connected() || !rooms_.insert(room).second) return;
  nsp_.add_member(room, this);
}

template <class Config> void basic_socket<Config>::leave(const std::string& room) {
  std::lock_guard<std::mutex> lk(mtx_);
  if (rooms_.erase(room) == 0) return;
  nsp_.remove_member(room, this);
}

template <class Config> void basic_socket<Config>::closed(std::string_view reason) {
  std::vector<std::string> rooms;
  std::vector<disconnect_handler> handlers;
  {
    std::lock_guard<std::mutex> lk(mtx_);
    if (!connected_.exchange(false)) return;
    rooms.assign(rooms_.begin(), rooms_.end());
    rooms_.clear();
    handlers.swap(disconnect_handlers_);
    acks_.clear();
  }
  nsp_.remove(*this, rooms);
  for (auto& h : handlers) h(*this, reason);
}

}  // namespace esink

#endif
