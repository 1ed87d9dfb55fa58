#ifndef ESINK_SERVICE_IMPL_SERVICE_HPP
#define ESINK_SERVICE_IMPL_SERVICE_HPP

#include <esink/service/detail/token.hpp>
#include <esink/transport/encoded_packet.hpp>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <exception>
#include <thread>
#include <utility>

namespace esink {

namespace detail {

template <class S> using error_message_t = decltype(std::string(std::declval<const S&>().error_message()));
template <class S> using connected_t = decltype(bool(std::declval<const S&>().connected()));

// Optional Transport members, used when present (transport/websocketpp.hpp has them all).
template <class T> using stop_accepting_t = decltype(std::declval<T&>().stop_accepting());
template <class T> using stop_grace_t = decltype(std::declval<T&>().stop(std::chrono::milliseconds()));
template <class T> using session_count_t = decltype(std::size_t(std::declval<const T&>().session_count()));
template <class T> using session_counts_t = decltype(std::declval<const T&>().session_counts().polling);
template <class T> using slow_disconnects_t =
    decltype(std::uint64_t(std::declval<const T&>().slow_consumer_disconnects()));
template <class N> using nsp_size_t = decltype(std::size_t(std::declval<const N&>().size()));
template <class N> using nsp_broadcast_pair_t = decltype(std::declval<const N&>().broadcast(
    std::declval<const encoded_packet_ptr&>(), std::declval<const encoded_packet_ptr&>()));
template <class N> using nsp_room_pair_t = decltype(std::declval<const N&>().send_to_room(
    std::declval<const std::string&>(), std::declval<const encoded_packet_ptr&>(),
    std::declval<const encoded_packet_ptr&>()));
template <class N> using nsp_room_size_t =
    decltype(std::size_t(std::declval<const N&>().room_size(std::declval<const std::string&>())));

/// Commit-to-send latency buckets, seconds: a LAN round trip to a minute of backlog.
inline std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string json_reply(int code, std::string_view message, std::string_view key = {}, std::string_view id = {}) {
  boost::json::object o;
  o["code"] = code;
  o["message"] = message;
  if (!key.empty()) o["key"] = key;
  if (!id.empty()) o["id"] = id;
  return boost::json::serialize(o);
}

}  // namespace detail

template <class Source, class Auth, class Router, class Transport>
service<Source, Auth, Router, Transport>::metric_set::metric_set()
    : clients(reg.add_gauge("esink_connected_clients", "Socket.IO clients connected to the namespace.")),
      users(reg.add_gauge("esink_connected_users", "Distinct users with at least one connected client.")),
      connections(reg.add_gauge("esink_connections", "Engine.IO connections by current transport.", {"transport"})),
      admitted(reg.add_counter("esink_clients_admitted_total", "Clients whose token was accepted.")),
      auth_failures(
          reg.add_counter("esink_auth_failures_total", "Clients refused: missing, unknown or invalid token.")),
      received(reg.add_counter("esink_events_received_total", "Changes handed over by the source, by table.",
                               {"source", "table"})),
      delivered(reg.add_counter("esink_events_delivered_total",
                                "Events sent to a user's clients, per recipient user; a broadcast counts once.",
                                {"origin"})),
      undeliverable(reg.add_counter("esink_events_undeliverable_total",
                                    "Changes with no routing rule or no recipient value.")),
      payload_bytes(reg.add_counter("esink_payload_bytes_total",
                                    "Bytes of event packets queued to client connections, as WebSocket frames.")),
      slow_disconnects(reg.add_counter("esink_slow_client_disconnects_total",
                                       "Clients cut off because their outgoing data exceeded the limit.")),
      publish(reg.add_counter("esink_publish_total", "Published events by interface and result.", {"via", "result"})),
      source_up(reg.add_gauge("esink_source_up", "1 when the source is connected and caught up, else 0.")),
      source_lag(reg.add_gauge("esink_source_lag_seconds",
                               "Age of the change being delivered while changes wait; 0 when none wait.")),
      queued(reg.add_gauge("esink_delivery_queue_events", "Changes read from the source and not yet delivered.")),
      latency(reg.add_histogram("esink_commit_to_send_seconds",
                                "From the database commit to the hand-over to the clients' connections.",
                                detail::latency_buckets())) {}

template <class Source, class Auth, class Router, class Transport>
service<Source, Auth, Router, Transport>::service(Source& source, Auth& auth, Router& router, Transport& transport,
                                                  service_options opt)
    : source_(source), auth_(auth), router_(router), transport_(transport), opt_(std::move(opt)),
      queue_(opt_.queue_capacity) {
  received_other_ = &metrics_.received.with({opt_.source_name, "other"});
  delivered_database_ = &metrics_.delivered.with({"database"});
  delivered_publish_ = &metrics_.delivered.with({"publish"});
  payload_bytes_ = &metrics_.payload_bytes.get();
  latency_ = &metrics_.latency.get();
  admitted_ = &metrics_.admitted.get();
  auth_failures_ = &metrics_.auth_failures.get();
  undeliverable_ = &metrics_.undeliverable.get();
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::wire() {
  if (wired_) return;
  wired_ = true;
  nsp_ = &transport_.of(opt_.nsp);

  // Admission is always granted at the Socket.IO level: the seed told refused clients why with
  // an `error` event and then disconnected them, and its clients listen for that.
  nsp_->use([this](const handshake& hs, connect_reply reply) {
    std::string token = detail::token_of(hs);
    // Logged with the reason and the address, never the token.
    auto refuse = [this, remote = hs.remote_address](const connect_reply& r, std::error_code ec, const char* why) {
      boost::json::object d;
      bool unauthorized = ec == error::unauthorized || !ec;
      d["code"] = unauthorized ? 401 : 500;
      d["message"] = unauthorized ? "Unauthorized" : "Internal Server Error";
      log(unauthorized ? log::level::info : log::level::warn, "client rejected",
          {{"reason", why}, {"code", unauthorized ? 401 : 500}, {"error", ec.message()}, {"remote", remote}});
      r.accept(std::move(d));
    };
    if (token.empty()) return refuse(reply, make_error_code(error::unauthorized), "no token");
    if (stopping_.load()) return refuse(reply, make_error_code(error::server_shutting_down), "shutting down");
    auth_.async_authenticate(std::move(token), [reply, refuse](std::error_code ec, user u) {
      if (ec) return refuse(reply, ec, ec == error::unauthorized ? "invalid token" : "authentication failed");
      boost::json::object d;
      d["code"] = 200;
      d["key"] = u.key;
      d["userId"] = std::move(u.id);
      reply.accept(std::move(d));
    });
  });
  nsp_->on_connection([this](const std::shared_ptr<socket_type>& s) { on_socket(s); });

  transport_.on_http("/publish", [this](const http_request& req, http_responder r) { on_publish_http(req, std::move(r)); });
  transport_.on_http("/ping", [](const http_request& req, http_responder r) {
    if (req.method != "GET" && req.method != "HEAD")
      return r(405, "text/plain; charset=utf-8", "Method Not Allowed", {{"Allow", "GET"}});
    r(200, "text/plain; charset=utf-8", "pong");
  });
  if (opt_.serve_metrics) wire_operations();
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::wire_operations() {
  metrics_.reg.on_collect([this] {
    if constexpr (detail::is_detected_v<detail::nsp_size_t, namespace_type>)
      metrics_.clients.get().set(static_cast<double>(nsp_->size()));
    metrics_.users.get().set(static_cast<double>(connected_users()));
    if constexpr (detail::is_detected_v<detail::session_counts_t, Transport>) {
      auto n = transport_.session_counts();
      metrics_.connections.with({"polling"}).set(static_cast<double>(n.polling));
      metrics_.connections.with({"websocket"}).set(static_cast<double>(n.websocket));
    }
    if constexpr (detail::is_detected_v<detail::slow_disconnects_t, Transport>) {
      auto& c = metrics_.slow_disconnects.get();
      std::uint64_t now = transport_.slow_consumer_disconnects();
      if (now > c.value()) c.inc(now - c.value());  // only the collector writes it
    }
    metrics_.source_up.get().set(source_healthy() ? 1 : 0);
    std::size_t queued = queue_.size();
    metrics_.queued.get().set(static_cast<double>(queued));
    std::int64_t commit = in_hand_commit_us_.load();
    double lag = queued && commit ? static_cast<double>(detail::now_us() - commit) / 1e6 : 0.0;
    metrics_.source_lag.get().set(lag < 0 ? 0 : lag);
  });
  // Created now so the exposition lists them before the first event.
  metrics_.slow_disconnects.get();
  for (const char* via : {"http", "socketio"})
    for (const char* result : {"accepted", "rejected"}) metrics_.publish.with({via, result});

  transport_.on_http("/metrics", [this](const http_request& req, http_responder r) {
    if (req.method != "GET" && req.method != "HEAD")
      return r(405, "text/plain; charset=utf-8", "Method Not Allowed", {{"Allow", "GET"}});
    if (opt_.metrics_token) {
      auto h = req.header("Authorization");
      constexpr std::string_view bearer = "Bearer ";
      if (h.size() <= bearer.size() || h.substr(0, bearer.size()) != bearer ||
          !constant_time_equal(h.substr(bearer.size()), *opt_.metrics_token))
        return r(401, "text/plain; charset=utf-8", "METRICS_TOKEN required: Authorization: Bearer <token>",
                 {{"WWW-Authenticate", "Bearer"}});
    }
    r(200, std::string(metrics::content_type), render_metrics());
  });
  transport_.on_http("/health", [this](const http_request& req, http_responder r) {
    if (req.method != "GET" && req.method != "HEAD")
      return r(405, "text/plain; charset=utf-8", "Method Not Allowed", {{"Allow", "GET"}});
    auto [ok, body] = health();
    r(ok ? 200 : 503, "application/json; charset=utf-8", std::move(body));
  });
}

template <class Source, class Auth, class Router, class Transport>
std::pair<bool, std::string> service<Source, Auth, Router, Transport>::health() const {
  bool connected = source_healthy();
  std::size_t queued = queue_.size();
  // Backpressure means the source is held back: it is not caught up even if it says so.
  bool caught_up = connected && queued < opt_.queue_capacity;
  bool stopping = stopping_.load();
  bool ok = caught_up && !stopping;
  boost::json::object o;
  o["status"] = stopping ? "stopping" : ok ? "ok" : "unavailable";
  o["source"] = connected ? "connected" : "disconnected";
  o["caughtUp"] = caught_up;
  o["queued"] = queued;
  o["clients"] = connected_users();
  o["uptimeSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_at_).count();
  return {ok, boost::json::serialize(o)};
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::start(std::error_code& ec) {
  ec.clear();
  message_.clear();
  if (running_) return;
  wire();
  transport_.start(ec);
  if (ec) {
    message_ = "cannot listen: " + ec.message();
    return;
  }
  delivery_ = std::thread([this] { run_delivery(); });
  source_.start(sink_, ec);
  if (ec) {
    if constexpr (detail::is_detected_v<detail::error_message_t, Source>) message_ = std::string(source_.error_message());
    if (message_.empty()) message_ = ec.message();
    queue_.close(true);
    delivery_.join();
    transport_.stop();
    return;
  }
  running_ = true;
  stopping_ = false;
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::stop(std::chrono::milliseconds timeout) {
  if (!running_) return;
  running_ = false;
  stopping_ = true;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto deadline = t0 + timeout;
  const std::uint64_t delivered_before = stats_.deliveries.load();
  const std::size_t queued = queue_.size();
  log(log::level::info, "shutdown started", {{"queued", queued}, {"clients", connected_users()},
                                             {"timeout_ms", static_cast<std::int64_t>(timeout.count())}});

  // 1. No new clients; the connected ones keep being served.
  if constexpr (detail::is_detected_v<detail::stop_accepting_t, Transport>) transport_.stop_accepting();
  // 2. Everything the source handed over is delivered and acknowledged. Closing the queue
  //    also releases a source blocked on it; what it hands over from now on is refused and
  //    never acknowledged, so the next start delivers it.
  queue_.close();
  if (delivery_.joinable()) delivery_.join();
  // 3. The source writes back the acknowledged position as it stops.
  source_.stop();
  // 4. A Socket.IO DISCONNECT to every client, queued behind the events it was sent: the
  //    client sees "io server disconnect" and closes its connection itself.
  disconnect_clients();
  const auto reserve = std::min<clock::duration>(timeout / 4, std::chrono::seconds(1));
  if constexpr (detail::is_detected_v<detail::session_count_t, Transport>) {
    while (transport_.session_count() > 0 && clock::now() < deadline - reserve)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auth_.stop();
  // 5. Whoever is left is closed by the transport (Engine.IO close).
  const std::size_t left = [&] {
    if constexpr (detail::is_detected_v<detail::session_count_t, Transport>) return transport_.session_count();
    return std::size_t(0);
  }();
  if constexpr (detail::is_detected_v<detail::stop_grace_t, Transport>) {
    auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    transport_.stop(std::max(rest, std::chrono::milliseconds(100)));
  } else {
    transport_.stop();
  }
  log(log::level::info, "shutdown complete",
      {{"delivered_during_shutdown", stats_.deliveries.load() - delivered_before},
       {"closed_by_server", left},
       {"ms", static_cast<std::int64_t>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count())}});
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::disconnect_clients() {
  std::vector<std::shared_ptr<socket_type>> all;
  {
    std::lock_guard<std::mutex> lk(users_mtx_);
    for (auto& [id, w] : sockets_)
      if (auto s = w.lock()) all.push_back(std::move(s));
  }
  for (auto& s : all) s->disconnect();  // the disconnect handler takes users_mtx_
}

template <class Source, class Auth, class Router, class Transport>
metrics::counter& service<Source, Auth, Router, Transport>::received_counter(const std::string& table) {
  auto it = received_by_table_.find(table);
  if (it != received_by_table_.end()) return *it->second;
  // Tables come from the configuration; the cap only guards against a source that invents names.
  constexpr std::size_t max_tables = 256;
  metrics::counter* c = received_other_;
  if (received_by_table_.size() < max_tables) c = &metrics_.received.with({opt_.source_name, table});
  received_by_table_.emplace(table, c);
  return *c;
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_change(event_type&& e) {
  metrics::counter& received = received_counter(e.table);  // found once per table, then no allocation
  if (!queue_.push(std::move(e))) return;  // stopping: never acknowledged, redelivered next start
  stats_.changes.fetch_add(1, std::memory_order_relaxed);
  received.inc();
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_status(std::error_code ec) {
  int was = source_status_.exchange(ec ? 1 : 0);
  if (was == (ec ? 1 : 0)) return;
  std::string why;
  if constexpr (detail::is_detected_v<detail::error_message_t, Source>) {
    if (ec) why = std::string(source_.error_message());
  }
  if (ec) {
    source_was_lost_ = true;
    log(log::level::error, "source lost", {{"source", opt_.source_name}, {"error", ec.message()}, {"detail", why}});
  } else {
    // A recovery is logged at the level of the loss, so production logs show both.
    log(source_was_lost_ ? log::level::warn : log::level::info,
        source_was_lost_ ? "source reconnected" : "source connected", {{"source", opt_.source_name}});
  }
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::run_delivery() {
  while (auto e = queue_.pop()) {
    auto id = e->id;
    if constexpr (std::is_same_v<event_type, change_event>) in_hand_commit_us_.store(e->commit_time_us);
    try {
      deliver(*e);
    } catch (const std::exception& ex) {
      // A change that cannot be serialized (out of memory) must not stop the stream.
      log(log::level::error, "change dropped", {{"table", e->table}, {"error", ex.what()}});
    }
    // Only now: the change is in every recipient's outgoing queue.
    source_.acknowledge(id);
  }
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::deliver(event_type& e) {
  thread_local route_result r;
  router_.route(e.table, e.row, r);
  if (!r.everyone && r.users.empty()) {
    stats_.undeliverable.fetch_add(1, std::memory_order_relaxed);
    undeliverable_->inc();
    return;
  }
  change_payload p;
  p.id = make_event_id();
  p.type = e.type;
  p.table = e.table;
  p.data = std::move(e.row);
  router_.filter(p.table, p.data);  // after routing: a filtered column may still route
  p.timestamp = e.commit_time_us ? e.commit_time_us / 1000 : now_ms();
  p.source = "database";
  p.version = 1;
  if (send(p, r.everyone, r.users, *delivered_database_) && e.commit_time_us) {
    double seconds = static_cast<double>(detail::now_us() - e.commit_time_us) / 1e6;
    latency_->observe(seconds < 0 ? 0 : seconds);  // a database clock ahead of ours
  }
}

template <class Source, class Auth, class Router, class Transport>
std::size_t service<Source, Auth, Router, Transport>::send(const change_payload& p, bool everyone,
                                                           const std::vector<std::string>& users,
                                                           metrics::counter& delivered) {
  serialized_payload sp(p);
  const std::string& nsp = nsp_->name();
  // Bytes per recipient connection, where the namespace can tell how many there are.
  auto count_bytes = [this](const encoded_packet_ptr& a, const encoded_packet_ptr& b, std::size_t members) {
    payload_bytes_->inc((a->wire_size() + b->wire_size()) * members);
  };
  if (everyone) {
    std::string text = sp.for_user("\"*\"");
    auto a = encoded_packet::event_raw(nsp, sp.table_json(), text);
    auto b = encoded_packet::event_raw(nsp, "\"changes\"", text);
    // The two events of a change leave together (one pass, one write per connection).
    if constexpr (detail::is_detected_v<detail::nsp_broadcast_pair_t, namespace_type>) {
      nsp_->broadcast(a, b);
    } else {
      nsp_->broadcast(a);
      nsp_->broadcast(b);
    }
    if constexpr (detail::is_detected_v<detail::nsp_size_t, namespace_type>) count_bytes(a, b, nsp_->size());
    stats_.deliveries.fetch_add(1, std::memory_order_relaxed);
    delivered.inc();
    return 1;
  }
  std::size_t n = 0;
  for (const auto& key : users) {
    std::string id_json;
    {
      std::lock_guard<std::mutex> lk(users_mtx_);
      auto it = users_.find(key);
      if (it == users_.end()) continue;  // nobody of this user is connected: nothing to serialize
      id_json = it->second.id_json;
    }
    std::string text = sp.for_user(id_json);
    std::string room = room_of(key);
    auto a = encoded_packet::event_raw(nsp, sp.table_json(), text);
    auto b = encoded_packet::event_raw(nsp, "\"changes\"", text);
    if constexpr (detail::is_detected_v<detail::nsp_room_pair_t, namespace_type>) {
      nsp_->send_to_room(room, a, b);
    } else {
      nsp_->send_to_room(room, a);
      nsp_->send_to_room(room, b);
    }
    if constexpr (detail::is_detected_v<detail::nsp_room_size_t, namespace_type>)
      count_bytes(a, b, nsp_->room_size(room));
    stats_.deliveries.fetch_add(1, std::memory_order_relaxed);
    delivered.inc();
    ++n;
  }
  return n;
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::publish(published_event e) {
  stats_.published.fetch_add(1, std::memory_order_relaxed);
  router_.filter(e.payload.table, e.payload.data);
  if (e.everyone) {
    send(e.payload, true, {}, *delivered_publish_);
    return;
  }
  send(e.payload, false, {e.user}, *delivered_publish_);
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::add_user(const std::string& key, const boost::json::value& id) {
  std::lock_guard<std::mutex> lk(users_mtx_);
  auto& u = users_[key];
  if (u.sockets++ == 0) u.id_json = boost::json::serialize(id);
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::remove_user(const std::string& key) {
  std::lock_guard<std::mutex> lk(users_mtx_);
  auto it = users_.find(key);
  if (it != users_.end() && --it->second.sockets == 0) users_.erase(it);
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_socket(const std::shared_ptr<socket_type>& s) {
  const auto& d = s->data();
  const auto* o = d.if_object();
  const boost::json::value* code = o ? o->if_contains("code") : nullptr;
  if (!code || !code->is_int64() || code->get_int64() != 200) {
    stats_.auth_failures.fetch_add(1, std::memory_order_relaxed);
    auth_failures_->inc();
    boost::json::object err;
    err["code"] = code && code->is_int64() ? code->get_int64() : 401;
    auto msg = o ? o->if_contains("message") : nullptr;
    err["message"] = msg && msg->is_string() ? msg->get_string() : boost::json::string("Unauthorized");
    message m;
    m.args.emplace_back(std::move(err));
    s->emit("error", m);
    s->disconnect();
    return;
  }
  stats_.connections.fetch_add(1, std::memory_order_relaxed);
  admitted_->inc();
  std::string key(o->at("key").get_string());
  const boost::json::value& id = o->at("userId");

  add_user(key, id);
  std::string sid(s->id());
  {
    std::lock_guard<std::mutex> lk(users_mtx_);
    sockets_[sid] = s;
  }
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto gone = [this, key, sid, once] {
    if (once->exchange(true)) return;
    remove_user(key);
    std::lock_guard<std::mutex> lk(users_mtx_);
    sockets_.erase(sid);
  };
  s->on_disconnect([gone](socket_type&, std::string_view) { gone(); });
  if constexpr (detail::is_detected_v<detail::connected_t, socket_type>) {
    // Closed before the handler was in place: it will never run.
    if (!s->connected()) {
      gone();
      return;
    }
  }
  if (stopping_.load()) {
    // Admitted while the shutdown's disconnects were going out: this one would be missed.
    s->disconnect();
    return;
  }

  boost::json::object hello;
  hello["sessionId"] = s->id();
  hello["userId"] = id;
  hello["code"] = 200;
  hello["message"] = "Connected";
  message m;
  m.args.emplace_back(std::move(hello));
  s->emit("connected", m);
  s->join(room_of(key));

  s->on("event", [this, key](socket_type& sock, message& msg, auto ack) {
    on_republish(sock, key, msg);
    if (ack) {
      message ok;
      ok.args.emplace_back(true);
      ack(ok);
    }
  });
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_republish(socket_type& s, const std::string& key, message& m) {
  auto fail = [&](int code, std::string text, std::string field) {
    metrics_.publish.with({"socketio", "rejected"}).inc();
    boost::json::object err;
    err["code"] = code;
    err["message"] = std::move(text);
    err["key"] = field.empty() ? boost::json::value(nullptr) : boost::json::value(field);
    message out;
    out.args.emplace_back(std::move(err));
    s.emit("error", out);
  };
  if (!opt_.allow_republishing) return fail(403, "republishing is disabled (ALLOW_REPUBLISHING is not true)", "");
  if (m.args.empty() || !m.args[0].is_object()) return fail(400, "expected the event as an object", "");
  published_event e;
  publish_error err;
  if (!validate_publish(m.args[0].get_object(), "socketio", false, e, err))
    return fail(err.status, err.message, err.key);
  if (e.everyone || (!e.user.empty() && e.user != key))
    return fail(400, "userId must be your own user id: republished events go to your own user", "userId");
  e.payload.source = "socketio";
  e.everyone = false;
  e.user = key;
  metrics_.publish.with({"socketio", "accepted"}).inc();
  publish(std::move(e));
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_publish_http(const http_request& req, http_responder responder) {
  constexpr const char* json = "application/json; charset=utf-8";
  auto respond = [&](int status, std::string type, std::string body, http_responder::headers h = {}) {
    metrics_.publish.with({"http", status == 200 ? "accepted" : "rejected"}).inc();
    responder(status, std::move(type), std::move(body), std::move(h));
  };
  try {
    if (req.method != "POST")
      return respond(405, json, detail::json_reply(405, "use POST"), {{"Allow", "POST"}});
    if (!opt_.security_token)
      return respond(403, json, detail::json_reply(403, "SECURITY_TOKEN is not configured: the publish API is disabled"));
    if (req.body.size() > opt_.max_publish_body)
      return respond(413, json,
                     detail::json_reply(413, "body larger than " + std::to_string(opt_.max_publish_body) + " bytes"));
    auto type = req.header("Content-Type");
    if (!type.empty() && type.find("json") == std::string_view::npos)
      return respond(415, json, detail::json_reply(415, "Content-Type must be application/json"));

    boost::json::parse_options po;
    po.max_depth = 64;
    boost::json::parser p(boost::json::storage_ptr(), po);
    boost::json::error_code jec;
    p.write(req.body, jec);
    if (jec) return respond(400, json, detail::json_reply(400, "body is not valid JSON: " + jec.message()));
    auto body = p.release();
    if (!body.is_object()) return respond(400, json, detail::json_reply(400, "body must be a JSON object"));
    const auto& o = body.get_object();

    auto tok = o.if_contains("securityToken");
    if (!tok || !tok->is_string() || !constant_time_equal(tok->get_string(), *opt_.security_token))
      return respond(401, json, detail::json_reply(401, "invalid securityToken", "securityToken"));

    published_event e;
    publish_error err;
    if (!validate_publish(o, opt_.default_source, true, e, err))
      return respond(err.status, json, detail::json_reply(err.status, err.message, err.key));
    std::string id = e.payload.id;
    publish(std::move(e));
    respond(200, json, detail::json_reply(200, "Created and sent to socket.io", {}, id));
  } catch (const std::exception& ex) {
    respond(500, json, detail::json_reply(500, std::string("internal error: ") + ex.what()));
  }
}

}  // namespace esink

#endif
