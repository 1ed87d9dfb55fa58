#ifndef ESINK_SERVICE_IMPL_SERVICE_HPP
#define ESINK_SERVICE_IMPL_SERVICE_HPP

#include <esink/service/detail/token.hpp>
#include <esink/transport/encoded_packet.hpp>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <exception>
#include <utility>

namespace esink {

namespace detail {

template <class S> using error_message_t = decltype(std::string(std::declval<const S&>().error_message()));
template <class S> using connected_t = decltype(bool(std::declval<const S&>().connected()));

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
service<Source, Auth, Router, Transport>::service(Source& source, Auth& auth, Router& router, Transport& transport,
                                                  service_options opt)
    : source_(source), auth_(auth), router_(router), transport_(transport), opt_(std::move(opt)),
      queue_(opt_.queue_capacity) {}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::wire() {
  if (wired_) return;
  wired_ = true;
  nsp_ = &transport_.of(opt_.nsp);

  // Admission is always granted at the Socket.IO level: the seed told refused clients why with
  // an `error` event and then disconnected them, and its clients listen for that.
  nsp_->use([this](const handshake& hs, connect_reply reply) {
    std::string token = detail::token_of(hs);
    auto refuse = [](const connect_reply& r, std::error_code ec) {
      boost::json::object d;
      bool unauthorized = ec == error::unauthorized || !ec;
      d["code"] = unauthorized ? 401 : 500;
      d["message"] = unauthorized ? "Unauthorized" : "Internal Server Error";
      r.accept(std::move(d));
    };
    if (token.empty()) return refuse(reply, make_error_code(error::unauthorized));
    auth_.async_authenticate(std::move(token), [reply, refuse](std::error_code ec, user u) {
      if (ec) return refuse(reply, ec);
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
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::stop() {
  if (!running_) return;
  running_ = false;
  // Closing first releases a source blocked on a full queue; what it could not hand over was
  // not acknowledged, so the next start delivers it.
  queue_.close();
  source_.stop();
  if (delivery_.joinable()) delivery_.join();
  auth_.stop();
  transport_.stop();
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_change(event_type&& e) {
  stats_.changes.fetch_add(1, std::memory_order_relaxed);
  queue_.push(std::move(e));
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_status(std::error_code ec) {
  int was = source_status_.exchange(ec ? 1 : 0);
  if (was == (ec ? 1 : 0) || !opt_.log) return;
  opt_.log(ec ? "esink: database unavailable (" + ec.message() + "), reconnecting"
              : std::string("esink: database connected"));
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::run_delivery() {
  while (auto e = queue_.pop()) {
    auto id = e->id;
    try {
      deliver(*e);
    } catch (const std::exception& ex) {
      // A change that cannot be serialized (out of memory) must not stop the stream.
      if (opt_.log) opt_.log(std::string("esink: dropped change of ") + e->table + ": " + ex.what());
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
  send(p, r.everyone, r.users);
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::send(const change_payload& p, bool everyone,
                                                    const std::vector<std::string>& users) {
  serialized_payload sp(p);
  const std::string& nsp = nsp_->name();
  if (everyone) {
    std::string text = sp.for_user("\"*\"");
    nsp_->broadcast(encoded_packet::event_raw(nsp, sp.table_json(), text));
    nsp_->broadcast(encoded_packet::event_raw(nsp, "\"changes\"", text));
    stats_.deliveries.fetch_add(1, std::memory_order_relaxed);
    return;
  }
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
    nsp_->send_to_room(room, encoded_packet::event_raw(nsp, sp.table_json(), text));
    nsp_->send_to_room(room, encoded_packet::event_raw(nsp, "\"changes\"", text));
    stats_.deliveries.fetch_add(1, std::memory_order_relaxed);
  }
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::publish(published_event e) {
  stats_.published.fetch_add(1, std::memory_order_relaxed);
  router_.filter(e.payload.table, e.payload.data);
  if (e.everyone) return send(e.payload, true, {});
  send(e.payload, false, {e.user});
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
  std::string key(o->at("key").get_string());
  const boost::json::value& id = o->at("userId");

  add_user(key, id);
  auto once = std::make_shared<std::atomic<bool>>(false);
  s->on_disconnect([this, key, once](socket_type&, std::string_view) {
    if (!once->exchange(true)) remove_user(key);
  });
  if constexpr (detail::is_detected_v<detail::connected_t, socket_type>) {
    // Closed before the handler was in place: it will never run.
    if (!s->connected() && !once->exchange(true)) {
      remove_user(key);
      return;
    }
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
  publish(std::move(e));
}

template <class Source, class Auth, class Router, class Transport>
void service<Source, Auth, Router, Transport>::on_publish_http(const http_request& req, http_responder respond) {
  constexpr const char* json = "application/json; charset=utf-8";
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
