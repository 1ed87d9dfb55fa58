#ifndef ESINK_TESTS_SERVICE_MOCK_TRANSPORT_HPP
#define ESINK_TESTS_SERVICE_MOCK_TRANSPORT_HPP

// An in-memory Transport (transport/concept.hpp) and Source: the service's whole behaviour
// without sockets or a database. Packets are kept as the text a client would receive.

#include <esink/source/change_event.hpp>
#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/http.hpp>
#include <esink/transport/message.hpp>
#include <esink/transport/socket.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace esink_test {

struct mock_namespace;

struct mock_ack {
  explicit operator bool() const { return false; }
  void operator()(const esink::message& = {}) const {}
};

struct mock_socket {
  using handler = std::function<void(mock_socket&, esink::message&, mock_ack)>;
  using disconnect_handler = std::function<void(mock_socket&, std::string_view)>;

  std::string id_;
  boost::json::value data_;
  mock_namespace* nsp = nullptr;
  std::map<std::string, handler> handlers;
  std::vector<disconnect_handler> on_close;
  std::vector<std::string> received;  // Engine.IO text of every packet, in order
  bool disconnected = false;

  const std::string& id() const { return id_; }
  const boost::json::value& data() const { return data_; }
  void join(const std::string& room);
  void emit(std::string_view event, const esink::message& m) {
    send(esink::encoded_packet::event("/", event, m));
  }
  void send(const esink::encoded_packet_ptr& p) {
    std::lock_guard<std::mutex> lk(mtx);
    received.push_back(p->frames().front().data());
  }
  void disconnect();
  void on(std::string event, handler h) { handlers[std::move(event)] = std::move(h); }
  void on_disconnect(disconnect_handler h) { on_close.push_back(std::move(h)); }

  /// The events received, as [name, payload] pairs.
  std::vector<std::pair<std::string, boost::json::value>> events() {
    std::lock_guard<std::mutex> lk(mtx);
    std::vector<std::pair<std::string, boost::json::value>> out;
    for (const auto& text : received) {
      auto v = boost::json::parse(std::string_view(text).substr(2));  // "42"
      auto& a = v.as_array();
      out.emplace_back(std::string(a[0].as_string()), a.size() > 1 ? a[1] : boost::json::value());
    }
    return out;
  }
  std::mutex mtx;
};

struct mock_namespace {
  std::string name_ = "/";
  std::function<void(const esink::handshake&, esink::connect_reply)> hook;
  std::function<void(const std::shared_ptr<mock_socket>&)> on_conn;
  std::map<std::string, std::set<mock_socket*>> rooms;
  std::vector<std::shared_ptr<mock_socket>> sockets;
  std::size_t room_sends = 0, broadcasts = 0;
  std::mutex mtx;

  const std::string& name() const { return name_; }
  void use(std::function<void(const esink::handshake&, esink::connect_reply)> h) { hook = std::move(h); }
  void on_connection(std::function<void(const std::shared_ptr<mock_socket>&)> f) { on_conn = std::move(f); }
  void send_to_room(const std::string& room, const esink::encoded_packet_ptr& p) const {
    auto* self = const_cast<mock_namespace*>(this);
    std::vector<mock_socket*> members;
    {
      std::lock_guard<std::mutex> lk(self->mtx);
      ++self->room_sends;
      auto it = rooms.find(room);
      if (it != rooms.end()) members.assign(it->second.begin(), it->second.end());
    }
    for (auto* s : members) s->send(p);
  }
  void broadcast(const esink::encoded_packet_ptr& p) const {
    auto* self = const_cast<mock_namespace*>(this);
    std::vector<std::shared_ptr<mock_socket>> all;
    {
      std::lock_guard<std::mutex> lk(self->mtx);
      ++self->broadcasts;
      all = sockets;
    }
    for (auto& s : all)
      if (!s->disconnected) s->send(p);
  }

  /// Runs the connect hook with `auth`, waits for its answer, then the connection handler.
  std::shared_ptr<mock_socket> connect(boost::json::value auth) {
    esink::handshake hs;
    hs.auth = std::move(auth);
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    boost::json::value data;
    esink::connect_reply reply([&](bool, boost::json::value v) {
      std::lock_guard<std::mutex> lk(m);
      data = std::move(v);
      done = true;
      cv.notify_all();
    });
    hook(hs, reply);
    {
      std::unique_lock<std::mutex> lk(m);
      cv.wait(lk, [&] { return done; });
    }
    auto s = std::make_shared<mock_socket>();
    s->id_ = "sid" + std::to_string(sockets.size());
    s->data_ = data;
    s->nsp = this;
    {
      std::lock_guard<std::mutex> lk(mtx);
      sockets.push_back(s);
    }
    on_conn(s);
    return s;
  }
};

inline void mock_socket::join(const std::string& room) {
  std::lock_guard<std::mutex> lk(nsp->mtx);
  nsp->rooms[room].insert(this);
}

inline void mock_socket::disconnect() {
  if (disconnected) return;
  disconnected = true;
  {
    std::lock_guard<std::mutex> lk(nsp->mtx);
    for (auto& [r, members] : nsp->rooms) members.erase(this);
  }
  for (auto& h : on_close) h(*this, "server namespace disconnect");
}

struct mock_transport {
  using socket_type = mock_socket;
  using namespace_type = mock_namespace;
  mock_namespace nsp;
  std::map<std::string, esink::http_handler> routes;
  bool started = false, fail_start = false;

  namespace_type& of(const std::string&) { return nsp; }
  void on_http(std::string path, esink::http_handler h) { routes[std::move(path)] = std::move(h); }
  void start(std::error_code& ec) {
    if (fail_start) ec = std::make_error_code(std::errc::address_in_use);
    else started = true;
  }
  void stop() { started = false; }
  std::uint16_t local_port() const { return 1234; }

  struct response {
    int status = 0;
    std::string type, body;
  };
  response http(std::string method, std::string path, std::string body,
                std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}}) {
    esink::http_request req;
    req.method = std::move(method);
    req.path = path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    response r;
    routes.at(path)(req, esink::http_responder([&](int s, std::string t, std::string b, auto) {
      r.status = s;
      r.type = std::move(t);
      r.body = std::move(b);
    }));
    return r;
  }
};

/// A Source the test drives: `push` calls the sink on the test's thread.
struct mock_source {
  using event_type = esink::change_event;
  std::function<void(esink::change_event&&)> push;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::uint64_t> acked;
  bool fail = false;

  template <class Sink> void start(Sink& sink, std::error_code& ec) {
    if (fail) {
      ec = esink::make_error_code(esink::error::source_unavailable);
      return;
    }
    push = [&sink](esink::change_event&& e) { sink.on_change(std::move(e)); };
    sink.on_status({});
  }
  void stop() {}
  void acknowledge(std::uint64_t id) {
    std::lock_guard<std::mutex> lk(mtx);
    acked.push_back(id);
    cv.notify_all();
  }
  std::string error_message() const { return "mock database refused"; }
  bool wait_acked(std::uint64_t id) {
    std::unique_lock<std::mutex> lk(mtx);
    return cv.wait_for(lk, std::chrono::seconds(10), [&] { return !acked.empty() && acked.back() >= id; });
  }
};

}  // namespace esink_test

#endif
