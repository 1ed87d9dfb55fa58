#ifndef ESINK_TRANSPORT_WEBSOCKETPP_HPP
#define ESINK_TRANSPORT_WEBSOCKETPP_HPP

#include <esink/error.hpp>
#include <esink/protocol/engineio/serializer.hpp>
#include <esink/transport/detail/asio_config.hpp>
#include <esink/transport/detail/engine_session.hpp>
#include <esink/transport/detail/http.hpp>
#include <esink/transport/detail/http_connection.hpp>
#include <esink/transport/detail/http_head.hpp>
#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/http.hpp>
#include <esink/transport/server_options.hpp>
#include <esink/transport/socket.hpp>
#include <esink/transport/socket_namespace.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <websocketpp/server.hpp>

#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace esink {

/// A Socket.IO v5 / Engine.IO v4 server on websocketpp: HTTP long-polling and WebSocket on
/// one port, the upgrade between them, namespaces, rooms, acks and binary attachments.
///
/// @tparam Config websocketpp configuration: `detail::plain_config` or `detail::tls_config`.
///
/// @par Example
/// @code
/// esink::socketio_server server(options);
/// server.of("/").on_connection([](const auto& socket) {
///   socket->on("message", [](auto& s, esink::message& m, auto ack) { s.emit("message-back", m); });
/// });
/// std::error_code ec;
/// server.start(ec);
/// @endcode
///
/// @par Thread safety
/// Configure (`of`, `serve_engine`, `on_http`, hooks) before `start`. After it, sockets and
/// namespaces may be used from any thread; handlers run on the I/O threads.
template <class Config> class basic_server {
public:
  using endpoint_type = websocketpp::server<Config>;
  using connection_ptr = typename endpoint_type::connection_ptr;
  using socket_type = basic_socket<Config>;
  using socket_ptr = std::shared_ptr<socket_type>;
  using namespace_type = basic_namespace<Config>;
  using engine_socket = detail::engine_session<Config>;
  using raw_engine_handler = typename engine_socket::raw_handler;
  using ws_ptr = typename engine_socket::ws_ptr;

  explicit basic_server(server_options o) : options_(std::move(o)) {
    endpoint_.clear_access_channels(websocketpp::log::alevel::all);
    endpoint_.clear_error_channels(websocketpp::log::elevel::all);
    of("/");
  }

  basic_server(const basic_server&) = delete;
  basic_server& operator=(const basic_server&) = delete;
  ~basic_server() { stop(); }

  /// The namespace `name` (created on first use; `/` always exists). Call before `start`.
  namespace_type& of(const std::string& name) {
    auto& slot = namespaces_[name];
    if (!slot) slot = std::make_unique<namespace_type>(name);
    return *slot;
  }

  /// Serves plain Engine.IO at `path` (e.g. `/engine.io/`): `h` sees every message.
  void serve_engine(std::string path, raw_engine_handler h) { engines_[normalize(path)] = std::move(h); }

  /// Serves `handler` for requests to exactly `path` (any method).
  void on_http(std::string path, http_handler handler) { routes_[std::move(path)] = std::move(handler); }

  /// Called once per session that ends, with the reason (for metrics and logs).
  void on_session_closed(std::function<void(std::error_code)> h) { on_session_closed_ = std::move(h); }

  /// Listens and starts the I/O threads. A port in use or a bad address is reported in `ec`.
  void start(std::error_code& ec) {
    ec.clear();
    endpoint_.init_asio(&ioc_, ec);
    if (ec) return;
    endpoint_.set_reuse_addr(true);
    endpoint_.set_listen_backlog(4096);
    endpoint_.set_max_message_size(options_.max_payload);
    // Polling bodies over maxPayload get 413 from us and end their session; websocketpp
    // refuses far larger ones itself before reading them.
    endpoint_.set_max_http_body_size(max_http_body());
    // Events are small and latency-bound: never let Nagle hold one back waiting for an ACK.
    endpoint_.set_tcp_pre_init_handler([this](websocketpp::connection_hdl h) {
      asio::error_code e;
      if (auto con = endpoint_.get_con_from_hdl(h, e)) con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), e);
    });
    endpoint_.set_http_handler([this](websocketpp::connection_hdl h) { on_http_request(h); });
    endpoint_.set_validate_handler([this](websocketpp::connection_hdl h) { return on_validate(h); });
    endpoint_.set_open_handler([this](websocketpp::connection_hdl h) { on_open(h); });
    endpoint_.set_close_handler([this](websocketpp::connection_hdl h) { on_ws_close(h); });
    endpoint_.set_fail_handler([this](websocketpp::connection_hdl h) { on_fail(h); });
    endpoint_.set_message_handler(
        [this](websocketpp::connection_hdl h, typename endpoint_type::message_ptr m) { on_message(h, m); });

    if constexpr (std::is_same_v<Config, detail::tls_config>) {
      if (!load_tls_context(ec)) return;
    }

    asio::ip::address addr = asio::ip::address_v6::any();
    if (!options_.address.empty()) {
      asio::error_code aec;
      addr = asio::ip::make_address(options_.address, aec);
      if (aec) {
        error_detail_ = "invalid listen address '" + options_.address + "'";
        ec = make_error_code(error::bad_config);
        return;
      }
    }
    listen(asio::ip::tcp::endpoint(addr, options_.port), ec);
    if (ec && options_.address.empty()) {
      // No IPv6 on this host: listen on every IPv4 address instead.
      ec.clear();
      listen(asio::ip::tcp::endpoint(asio::ip::address_v4::any(), options_.port), ec);
    }
    if (ec) {
      error_detail_ = "cannot listen on port " + std::to_string(options_.port) + ": " + ec.message();
      return;
    }
    asio::error_code aec;
    if constexpr (plain) {
      port_ = acceptor_->local_endpoint(aec).port();
      accept_next();
    } else {
      endpoint_.start_accept(ec);
      if (ec) return;
      port_ = endpoint_.get_local_endpoint(aec).port();
    }

    work_.emplace(ioc_.get_executor());
    unsigned n = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
    running_ = true;
    accepting_ = true;
    for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  /// Why `start` failed, in one line naming the file, address or port (empty after success).
  const std::string& error_detail() const noexcept { return error_detail_; }

  /// The port listened on (useful with port 0).
  std::uint16_t local_port() const noexcept { return port_; }

  /// Stops accepting, closes every session (clients see a transport close and reconnect
  /// elsewhere), waits up to `grace` for WebSocket close handshakes, stops the threads.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) {
    if (!running_.exchange(false)) return;
    // New requests are refused from here on (503); the acceptor itself is closed only after
    // the I/O threads are gone, since Asio acceptors are not thread-safe.
    std::vector<std::shared_ptr<engine_socket>> all;
    {
      std::lock_guard<std::mutex> lk(sessions_mtx_);
      for (auto& [id, s] : sessions_) all.push_back(s);
    }
    for (auto& s : all)
      s->close(make_error_code(error::server_shutting_down), "server shutting down", detail::close_kind::server);
    {
      std::unique_lock<std::mutex> lk(sessions_mtx_);
      open_ws_cv_.wait_for(lk, grace, [this] { return open_ws_ == 0; });
    }
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::error_code ec;
    if constexpr (plain) {
      if (acceptor_) acceptor_->close(ec);
    } else {
      endpoint_.stop_listening(ec);
    }
  }

  const server_options& options() const noexcept { return options_; }

  /// Live Engine.IO sessions.
  std::size_t session_count() const {
    std::lock_guard<std::mutex> lk(sessions_mtx_);
    return sessions_.size();
  }

  /// Live sessions by the transport they currently use (for metrics).
  struct transport_counts {
    std::size_t polling = 0, websocket = 0;
  };
  transport_counts session_counts() const {
    std::vector<std::shared_ptr<engine_socket>> all;
    {
      std::lock_guard<std::mutex> lk(sessions_mtx_);
      all.reserve(sessions_.size());
      for (const auto& [id, s] : sessions_) all.push_back(s);
    }
    transport_counts n;
    for (const auto& s : all) ++(s->transport_name() == "polling" ? n.polling : n.websocket);
    return n;
  }

  /// Sessions ended because the client did not read fast enough (`max_outgoing_bytes`).
  std::uint64_t slow_consumer_disconnects() const noexcept { return slow_consumer_closes_.load(); }

  /// Refuses new sessions (503) while existing ones keep being served: the first step of a
  /// graceful shutdown, before @ref stop.
  void stop_accepting() noexcept { accepting_ = false; }

  asio::io_context& io_context() noexcept { return ioc_; }

  // ---- Used by sessions ----

  namespace_type* find_namespace(std::string_view name) {
    auto it = namespaces_.find(std::string(name));
    return it == namespaces_.end() ? nullptr : it->second.get();
  }

  void remove_session(const std::string& sid, std::error_code why) {
    {
      std::lock_guard<std::mutex> lk(sessions_mtx_);
      sessions_.erase(sid);
    }
    if (why == error::slow_consumer) slow_consumer_closes_.fetch_add(1, std::memory_order_relaxed);
    if (on_session_closed_) on_session_closed_(why);
  }

  /// Writes an HTTP response; `deferred` when the request's handler has already returned.
  /// A deferred response is written on the connection's strand: websocketpp connections are
  /// not thread-safe, and this may run on any thread.
  void respond(const connection_ptr& con, int status, std::string_view content_type, std::string body,
               bool deferred, http_responder::headers extra = {}) {
    auto write = [this, con, status, type = std::string(content_type), body = std::move(body), deferred,
                  extra = std::move(extra)]() mutable {
      try {
        for (auto& [k, v] : extra) con->replace_header(k, v);
        con->set_status(static_cast<websocketpp::http::status_code::value>(status));
        con->replace_header("Content-Type", type);
        con->replace_header("Connection", "close");
        apply_cors(con);
        con->set_body(std::move(body));
      } catch (const websocketpp::exception&) {
        return;  // The connection is already gone.
      }
      if (deferred) {
        std::error_code ec;
        con->send_http_response(ec);
      }
    };
    auto strand = deferred ? con->get_strand() : nullptr;
    if (strand)
      asio::post(*strand, std::move(write));
    else
      write();
  }

  void respond_engine_error(const connection_ptr& con, error e, bool deferred) {
    respond(con, e == error::forbidden ? 403 : 400, "application/json", detail::engine_error_body(e), deferred);
  }

  // ---- Used by keep-alive HTTP connections (plain TCP only) ----

  /// The route that serves `h` on a keep-alive connection, or null when websocketpp should:
  /// Engine.IO requests, HEAD, unknown paths, and everything while stopping.
  const http_handler* keepalive_route(const detail::request_head& h) const {
    if (!running_ || h.method == "HEAD" || h.method == "CONNECT") return nullptr;
    auto path = detail::split_target(h.target).first;
    auto it = routes_.find(path);
    if (it == routes_.end() || engine_for(path)) return nullptr;
    return &it->second;
  }

  std::size_t keepalive_max_body() const noexcept { return max_http_body(); }

  /// Gives an accepted connection to websocketpp, which reads it from its next request on.
  void hand_off(asio::ip::tcp::socket s) {
    asio::error_code ec;
    const auto protocol = s.local_endpoint(ec).protocol();
    if (ec) return;
    connection_ptr con = endpoint_.get_connection();
    if (!con) return;  // s closes as it goes out of scope
    const auto fd = s.release(ec);
    if (ec) return;
    con->get_raw_socket().assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    con->start();
  }

  /// Takes a WebSocket handshake esink answers itself (plain TCP only): an Engine.IO request
  /// that passes every check websocketpp's validation would make. Anything it declines goes to
  /// websocketpp, which answers with the precise error.
  bool upgrade(asio::ip::tcp::socket& s, const detail::request_head& head) {
    static_assert(plain, "TLS connections are upgraded by websocketpp");
    auto key = detail::ws_handshake_key(head);
    if (!key || !running_) return false;
    auto [path, query] = detail::split_target(head.target);
    auto target = engine_for(path);
    std::string_view origin;
    for (const auto& [k, v] : head.headers)
      if (detail::http_head_detail::iequals(k, "Origin")) origin = v;
    if (!target || !origin_allowed(std::string(origin)) || check_engine_query(query, "websocket") != error::success)
      return false;
    if (auto sid = detail::query_value(query, "sid")) {
      auto session = find_session(*sid);
      if (!session || session->transport_name() != "polling") return false;
    } else if (!accepting_) {
      return false;
    }
    std::string response = detail::ws_accept_response(*key);
    handshake hs;
    hs.query = std::string(query);
    hs.origin = std::string(origin);
    asio::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (!ec) hs.remote_address = ep.address().to_string() + ":" + std::to_string(ep.port());
    // The head was only peeked: consume it, leaving whatever frames followed it for the reader.
    std::string discard(head.head_bytes, '\0');
    std::size_t got = 0;
    while (got < head.head_bytes) {
      ssize_t r = ::recv(s.native_handle(), discard.data() + got, head.head_bytes - got, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    auto con = std::make_shared<detail::ws_connection<basic_server>>(*this, std::move(s), options_.max_payload,
                                                                      std::move(response));
    // The session exists (and the open packet is queued behind the 101) before the first
    // write, so a connection that fails at once still ends its session.
    open_websocket(con, std::string(path), query, std::move(hs));
    con->start();
    return true;
  }

  /// A message on one of esink's own WebSocket connections.
  template <class Ws> void on_ws_message(const std::shared_ptr<Ws>& con, const std::string& payload, bool binary) {
    if (auto s = std::static_pointer_cast<engine_socket>(con->session)) s->on_ws_message(con, payload, binary);
  }

  /// One of esink's own WebSocket connections is gone.
  template <class Ws> void on_ws_closed(const std::shared_ptr<Ws>& con) { websocket_closed(con); }

  void add_cors(std::string_view origin, http_responder::headers& h) const {
    auto set = [&h](std::string_view k, std::string v) {
      for (auto& [name, value] : h)
        if (detail::http_head_detail::iequals(name, k)) {
          value = std::move(v);
          return;
        }
      h.emplace_back(std::string(k), std::move(v));
    };
    if (options_.cors_origins.empty()) {
      set("Access-Control-Allow-Origin", "*");
    } else if (!origin.empty() && origin_allowed(std::string(origin))) {
      set("Access-Control-Allow-Origin", std::string(origin));
      set("Access-Control-Allow-Credentials", "true");
      set("Vary", "Origin");
    }
  }

private:
  static constexpr bool plain = !std::is_same_v<Config, detail::tls_config>;

  std::size_t max_http_body() const noexcept { return options_.max_payload * 2 + 4096; }

  /// Listens on `ep`: with our own acceptor over plain TCP (so HTTP requests get keep-alive,
  /// see detail::http_connection), with websocketpp's over TLS.
  void listen(const asio::ip::tcp::endpoint& ep, std::error_code& ec) {
    if constexpr (plain) {
      acceptor_.emplace(ioc_);
      acceptor_->open(ep.protocol(), ec);
      if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor_->bind(ep, ec);
      if (!ec) acceptor_->listen(4096, ec);
      if (ec) acceptor_.reset();
    } else {
      endpoint_.listen(ep, ec);
    }
  }

  void accept_next() {
    acceptor_->async_accept(asio::make_strand(ioc_), [this](const asio::error_code& ec, auto accepted) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, most likely: retry shortly instead of spinning on the error.
        accept_retry_.expires_after(std::chrono::milliseconds(50));
        accept_retry_.async_wait([this](const asio::error_code& e) {
          if (!e) accept_next();
        });
        return;
      }
      asio::ip::tcp::socket s(std::move(accepted));
      asio::error_code e;
      // Events are small and latency-bound: never let Nagle hold one back waiting for an ACK.
      s.set_option(asio::ip::tcp::no_delay(true), e);
      std::make_shared<detail::http_connection<basic_server>>(*this, std::move(s))->start();
      accept_next();
    });
  }

  /// One TLS context for every connection, built before listening so a bad certificate is a
  /// startup error rather than a failed handshake per client.
  bool load_tls_context(std::error_code& ec) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    asio::error_code aec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                     aec);
    if (!aec) ctx->use_certificate_chain_file(options_.tls_cert_file, aec);
    if (aec) {
      error_detail_ = "cannot load TLS certificate '" + options_.tls_cert_file + "': " + aec.message();
      ec = make_error_code(error::bad_config);
      return false;
    }
    ctx->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, aec);
    if (aec) {
      error_detail_ = "cannot load TLS key '" + options_.tls_key_file + "': " + aec.message();
      ec = make_error_code(error::bad_config);
      return false;
    }
    endpoint_.set_tls_init_handler([ctx](websocketpp::connection_hdl) { return ctx; });
    return true;
  }

  static std::string normalize(std::string path) {
    if (path.empty() || path.back() != '/') path += '/';
    return path;
  }

  struct engine_target {
    typename engine_socket::kind kind;
    const raw_engine_handler* raw = nullptr;
  };

  std::optional<engine_target> engine_for(std::string_view path) const {
    std::string p(path);
    if (p.empty() || p.back() != '/') p += '/';
    if (p == normalize(options_.path)) return engine_target{engine_socket::kind::socketio, nullptr};
    auto it = engines_.find(p);
    if (it != engines_.end()) return engine_target{engine_socket::kind::raw, &it->second};
    return std::nullopt;
  }

  bool origin_allowed(const std::string& origin) const {
    if (options_.cors_origins.empty() || origin.empty()) return true;
    return std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) !=
           options_.cors_origins.end();
  }

  void apply_cors(const connection_ptr& con) {
    const std::string& origin = con->get_request_header("Origin");
    if (options_.cors_origins.empty()) {
      con->replace_header("Access-Control-Allow-Origin", "*");
    } else if (!origin.empty() && origin_allowed(origin)) {
      con->replace_header("Access-Control-Allow-Origin", origin);
      con->replace_header("Access-Control-Allow-Credentials", "true");
      con->replace_header("Vary", "Origin");
    }
  }

  static std::string remote_address(const connection_ptr& con) {
    asio::error_code ec;
    auto ep = con->get_raw_socket().remote_endpoint(ec);
    if (ec) return {};
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  handshake make_handshake(const connection_ptr& con, std::string_view query) {
    handshake hs;
    hs.query = std::string(query);
    hs.origin = con->get_request_header("Origin");
    hs.remote_address = remote_address(con);
    return hs;
  }

  std::shared_ptr<engine_socket> find_session(std::string_view sid) {
    std::lock_guard<std::mutex> lk(sessions_mtx_);
    auto it = sessions_.find(std::string(sid));
    return it == sessions_.end() ? nullptr : it->second;
  }

  std::shared_ptr<engine_socket> add_session(const engine_target& t, typename engine_socket::transport_kind tk,
                                             handshake hs) {
    auto s = std::make_shared<engine_socket>(*this, detail::random_id(), t.kind, t.raw, tk, std::move(hs));
    std::lock_guard<std::mutex> lk(sessions_mtx_);
    sessions_.emplace(s->id(), s);
    return s;
  }

  /// Checks EIO, transport and sid of an Engine.IO request (protocol v4 §"Handshake").
  error check_engine_query(std::string_view query, std::string_view expected_transport) const {
    auto eio = detail::query_value(query, "EIO");
    auto transport = detail::query_value(query, "transport");
    if (!transport || (*transport != "polling" && *transport != "websocket")) return error::unknown_transport;
    if (!eio || *eio != "4") return error::unsupported_protocol_version;
    if (*transport != expected_transport) return error::bad_request;
    return error::success;
  }

  void on_http_request(websocketpp::connection_hdl h) {
    auto con = endpoint_.get_con_from_hdl(h);
    con->http_handled = true;
    if (!running_) return respond(con, 503, "text/plain; charset=UTF-8", "server shutting down", false);
    const std::string& method = con->get_request().get_method();
    auto [path, query] = detail::split_target(con->get_resource());

    if (auto target = engine_for(path)) {
      if (method == "OPTIONS") {
        http_responder::headers allow{{"Access-Control-Allow-Methods", "GET, POST, OPTIONS"}};
        const std::string& req_headers = con->get_request_header("Access-Control-Request-Headers");
        if (!req_headers.empty()) allow.emplace_back("Access-Control-Allow-Headers", req_headers);
        return respond(con, 204, "text/plain", {}, false, std::move(allow));
      }
      if (!origin_allowed(con->get_request_header("Origin"))) {
        return respond_engine_error(con, error::forbidden, false);
      }
      if (auto e = check_engine_query(query, "polling"); e != error::success) {
        // A WebSocket handshake that lacks the Upgrade header lands here too.
        return respond_engine_error(con, e, false);
      }
      auto sid = detail::query_value(query, "sid");
      if (!sid) {
        if (!accepting_) return respond(con, 503, "text/plain; charset=UTF-8", "server shutting down", false);
        if (method != "GET") return respond_engine_error(con, error::bad_handshake_method, false);
        auto s = add_session(*target, engine_socket::transport_kind::polling, make_handshake(con, query));
        std::string body;
        protocol::engineio::append_packet(
            body, protocol::engineio::packet_type::open,
            protocol::engineio::open_payload(s->id(), options_.allow_upgrades,
                                             static_cast<unsigned>(options_.ping_interval.count()),
                                             static_cast<unsigned>(options_.ping_timeout.count()),
                                             options_.max_payload));
        respond(con, 200, "text/plain; charset=UTF-8", std::move(body), false);
        s->start(nullptr);
        return;
      }
      auto s = find_session(*sid);
      if (!s) return respond_engine_error(con, error::unknown_sid, false);
      if (method == "GET") return s->on_poll(con);
      if (method == "POST") return s->on_post(con);
      return respond_engine_error(con, error::bad_request, false);
    }

    auto route = routes_.find(std::string(path));
    if (route == routes_.end()) return respond(con, 404, "text/plain; charset=UTF-8", "Not Found", false);
    http_request req;
    req.method = method;
    req.path = std::string(path);
    req.query = std::string(query);
    req.body = con->get_request_body();
    for (const auto& [k, v] : con->get_request().get_headers()) req.headers.emplace_back(k, v);
    con->defer_http_response();
    route->second(req, http_responder([this, con](int status, std::string type, std::string body,
                                                  http_responder::headers headers) {
      respond(con, status, type, std::move(body), true, std::move(headers));
    }));
  }

  bool on_validate(websocketpp::connection_hdl h) {
    auto con = endpoint_.get_con_from_hdl(h);
    auto [path, query] = detail::split_target(con->get_resource());
    auto reject = [&](error e) {
      con->set_status(e == error::forbidden ? websocketpp::http::status_code::forbidden
                                            : websocketpp::http::status_code::bad_request);
      con->replace_header("Content-Type", "application/json");
      con->set_body(detail::engine_error_body(e));
      return false;
    };
    if (!running_) {
      con->set_status(websocketpp::http::status_code::service_unavailable);
      return false;
    }
    auto target = engine_for(path);
    if (!target) {
      con->set_status(websocketpp::http::status_code::not_found);
      return false;
    }
    if (!origin_allowed(con->get_request_header("Origin"))) return reject(error::forbidden);
    if (auto e = check_engine_query(query, "websocket"); e != error::success) return reject(e);
    if (auto sid = detail::query_value(query, "sid")) {
      auto s = find_session(*sid);
      if (!s) return reject(error::unknown_sid);
      if (s->transport_name() != "polling") return reject(error::bad_request);
    } else if (!accepting_) {
      con->set_status(websocketpp::http::status_code::service_unavailable);
      return false;
    }
    if constexpr (plain) {
      // Over plain TCP esink answers every handshake it accepts itself (see upgrade()): one
      // that reached websocketpp failed a check of RFC 6455 §4.2.1 there. websocketpp would
      // still speak the hybi-07/08 drafts and take any key.
      if (con->get_request_header("Sec-WebSocket-Version") != "13") {
        con->set_status(websocketpp::http::status_code::upgrade_required);
        con->replace_header("Sec-WebSocket-Version", "13");
        return false;
      }
      return reject(error::bad_request);
    } else {
      con->set_max_message_size(options_.max_payload);
      return true;
    }
  }

  void on_open(websocketpp::connection_hdl h) {
    if constexpr (!plain) {
      auto con = endpoint_.get_con_from_hdl(h);
      auto [path, query] = detail::split_target(con->get_resource());
      open_websocket(con, std::string(path), query, make_handshake(con, query));
      release_handshake(con);
    }
  }

  /// A WebSocket is open: it becomes a new session's transport, or a probe of a polling one.
  void open_websocket(const ws_ptr& con, const std::string& path, std::string_view query, handshake hs) {
    {
      std::lock_guard<std::mutex> lk(sessions_mtx_);
      ++open_ws_;
      con->counted = true;
    }
    auto target = engine_for(path);
    if (!target) return;
    if (auto sid = detail::query_value(query, "sid")) {
      auto s = find_session(*sid);
      if (!s) {
        std::error_code ec;
        con->close(websocketpp::close::status::protocol_error, "Session ID unknown", ec);
        return;
      }
      s->on_probe_open(con);
      return;
    }
    auto s = add_session(*target, engine_socket::transport_kind::websocket, std::move(hs));
    std::string open;
    protocol::engineio::append_packet(
        open, protocol::engineio::packet_type::open,
        protocol::engineio::open_payload(s->id(), false, static_cast<unsigned>(options_.ping_interval.count()),
                                         static_cast<unsigned>(options_.ping_timeout.count()),
                                         options_.max_payload));
    con->send(open, websocketpp::frame::opcode::text);
    s->start(con);
  }

  /// websocketpp keeps the handshake's request and response (header maps, about a kilobyte)
  /// for the connection's whole life; nothing reads them once the WebSocket is open (the
  /// Engine.IO handshake data was copied above). The objects are ours to reset: websocketpp
  /// only hands them out as const.
  static void release_handshake(const connection_ptr& con) {
    using connection_type = typename endpoint_type::connection_type;
    const_cast<typename connection_type::request_type&>(con->get_request()) = {};
    const_cast<typename connection_type::response_type&>(con->get_response()) = {};
  }

  void on_message(websocketpp::connection_hdl h, typename endpoint_type::message_ptr m) {
    if constexpr (!plain) {
      auto con = endpoint_.get_con_from_hdl(h);
      auto s = std::static_pointer_cast<engine_socket>(con->session);
      if (!s) return;
      s->on_ws_message(con, m->get_payload(), m->get_opcode() == websocketpp::frame::opcode::binary);
    }
  }

  /// A connection ended without opening a WebSocket: a finished HTTP exchange, a refused
  /// handshake, or a request cut short. A POST cut short ends its session, as a lost packet
  /// payload cannot be recovered.
  void on_fail(websocketpp::connection_hdl h) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(h, ec);
    if (ec || !con) return;
    if (con->session || con->http_handled) return on_ws_close(h);
    const auto& req = con->get_request();
    if (req.get_method() != "POST") return;
    auto [path, query] = detail::split_target(req.get_uri());
    if (!engine_for(path)) return;
    if (auto sid = detail::query_value(query, "sid")) {
      if (auto s = find_session(*sid))
        s->close(make_error_code(error::transport_error), "transport error", detail::close_kind::failure);
    }
  }

  void on_ws_close(websocketpp::connection_hdl h) {
    if constexpr (!plain) {
      std::error_code ec;
      auto con = endpoint_.get_con_from_hdl(h, ec);
      if (ec || !con) return;
      websocket_closed(con);
    }
  }

  void websocket_closed(const ws_ptr& con) {
    if (auto s = std::static_pointer_cast<engine_socket>(con->session)) {
      con->session.reset();
      s->on_ws_closed(con);
    }
    if (con->counted) {
      con->counted = false;
      std::lock_guard<std::mutex> lk(sessions_mtx_);
      if (--open_ws_ == 0) open_ws_cv_.notify_all();
    }
  }

  server_options options_;
  asio::io_context ioc_;
  endpoint_type endpoint_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;  ///< Plain TCP only.
  asio::steady_timer accept_retry_{ioc_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{false};
  std::atomic<bool> accepting_{false};
  std::atomic<std::uint64_t> slow_consumer_closes_{0};
  std::uint16_t port_ = 0;
  std::string error_detail_;

  std::map<std::string, std::unique_ptr<namespace_type>> namespaces_;
  std::map<std::string, raw_engine_handler> engines_;
  std::map<std::string, http_handler, std::less<>> routes_;
  std::function<void(std::error_code)> on_session_closed_;

  mutable std::mutex sessions_mtx_;
  std::unordered_map<std::string, std::shared_ptr<engine_socket>> sessions_;
  std::size_t open_ws_ = 0;
  std::condition_variable open_ws_cv_;
};

/// The Socket.IO server over plain TCP.
using socketio_server = basic_server<detail::plain_config>;
/// A socket of `socketio_server`.
using socketio_socket = basic_socket<detail::plain_config>;
/// A namespace of `socketio_server`.
using socketio_namespace = basic_namespace<detail::plain_config>;

/// The Socket.IO server over TLS (HTTPS polling and WSS); set `tls_cert_file`/`tls_key_file`.
using tls_socketio_server = basic_server<detail::tls_config>;
using tls_socketio_socket = basic_socket<detail::tls_config>;
using tls_socketio_namespace = basic_namespace<detail::tls_config>;

}  // namespace esink

#endif
