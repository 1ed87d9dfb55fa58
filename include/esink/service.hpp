#ifndef ESINK_SERVICE_HPP
#define ESINK_SERVICE_HPP

#include <esink/auth/concept.hpp>
#include <esink/log/logger.hpp>
#include <esink/metrics/registry.hpp>
#include <esink/router/concept.hpp>
#include <esink/service/detail/delivery_queue.hpp>
#include <esink/service/payload.hpp>
#include <esink/service/publish.hpp>
#include <esink/service/service_options.hpp>
#include <esink/source/concept.hpp>
#include <esink/transport/concept.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace esink {

/** The esink service: database changes and published events to the Socket.IO clients of the
    users they belong to.

    - Connection: the client's token (`auth: {token}`, or `?token=`) goes to `Auth`; the client
      then gets `connected` `{sessionId, userId, code: 200, message}` and joins its user's
      room, or gets `error` `{code: 401, message: "Unauthorized"}` and is disconnected.
    - Changes: the source thread hands each change through a bounded queue to the delivery
      thread, which routes it (`Router::route`), filters it (`Router::filter`), serializes it
      once per recipient user (once in all for everyone), sends the table's event and `changes`
      to each user's room, and only then acknowledges it to the source.
    - HTTP: `POST /publish` and `GET /ping` as the seed; clients may republish with `event`
      when allowed. `GET /metrics` (Prometheus text format) and `GET /health` for operators
      (docs/operations.md).
    - Stopping: new clients are refused, what the source already handed over is delivered and
      acknowledged, every client gets a Socket.IO DISCONNECT, then the transport stops; all of
      it within `service_options::shutdown_timeout`.

    Policies are owned by the caller and must outlive the service.

    @tparam Source a Source (source/concept.hpp): where changes come from
    @tparam Auth an Auth policy (auth/concept.hpp): token to user
    @tparam Router a Router (router/concept.hpp): change to users, and column filters
    @tparam Transport a Transport (transport/concept.hpp), e.g. `socketio_server`

    @par Thread safety
    `start` and `stop` from one controlling thread.
*/
template <class Source, class Auth, class Router, class Transport> class service {
  static_assert(check_source<Source>::value);
  static_assert(check_auth<Auth>::value);
  static_assert(check_router<Router>::value);
  static_assert(check_transport<Transport>::value);

public:
  using source_type = Source;
  using auth_type = Auth;
  using router_type = Router;
  using transport_type = Transport;
  using socket_type = typename Transport::socket_type;
  using namespace_type = typename Transport::namespace_type;
  using event_type = typename Source::event_type;

  /// Counters, readable from any thread.
  struct statistics {
    std::atomic<std::uint64_t> changes{0};        ///< changes received from the source
    std::atomic<std::uint64_t> undeliverable{0};  ///< changes with no rule or no recipient column value
    std::atomic<std::uint64_t> deliveries{0};     ///< (change, user) pairs sent; a broadcast counts once
    std::atomic<std::uint64_t> published{0};      ///< events accepted by /publish or republished
    std::atomic<std::uint64_t> auth_failures{0};  ///< clients refused
    std::atomic<std::uint64_t> connections{0};    ///< clients admitted
  };

  service(Source& source, Auth& auth, Router& router, Transport& transport, service_options opt = {});
  service(const service&) = delete;
  service& operator=(const service&) = delete;
  ~service() { stop(); }

  /// Serves HTTP and Socket.IO, then starts the source. On failure nothing keeps running and
  /// @ref error_message says what failed (the port, or the database's own message).
  void start(std::error_code& ec);

  /// Stops gracefully within `service_options::shutdown_timeout`: refuses new clients, delivers
  /// and acknowledges every change already handed over by the source, stops the source, sends
  /// every client a Socket.IO DISCONNECT and waits for them to close, then stops auth and the
  /// transport. Changes the source reads after the start of the stop are not acknowledged, so
  /// the next start delivers them.
  void stop() { stop(opt_.shutdown_timeout); }
  void stop(std::chrono::milliseconds timeout);

  /// The detail of the last `start` failure.
  const std::string& error_message() const noexcept { return message_; }

  /// Delivers a validated published event (what `/publish` does after its checks).
  void publish(published_event e);

  /// Whether the source reported itself connected and caught up.
  bool source_healthy() const noexcept { return source_status_.load() == 0; }

  const statistics& stats() const noexcept { return stats_; }

  /// The service's metrics (see docs/operations.md); add your own families before `start`.
  metrics::registry& metrics() noexcept { return metrics_.reg; }

  /// The Prometheus text exposition of @ref metrics, gauges sampled now.
  std::string render_metrics() const { return metrics_.reg.render(); }

  /// The body of `GET /health` and whether it is healthy (200) or not (503).
  std::pair<bool, std::string> health() const;

  /// Users with at least one connected socket.
  std::size_t connected_users() const {
    std::lock_guard<std::mutex> lk(users_mtx_);
    return users_.size();
  }

  /// The room of a user (`user:<key>`).
  static std::string room_of(const std::string& key) { return "user:" + key; }

private:
  // What the source sees: only the two sink calls.
  struct sink {
    service* self;
    void on_change(event_type&& e) { self->on_change(std::move(e)); }
    void on_status(std::error_code ec) { self->on_status(ec); }
  };
  struct user_entry {
    std::string id_json;
    std::size_t sockets = 0;
  };

  // Families and the children the hot paths use, resolved once.
  struct metric_set {
    metrics::registry reg;
    metrics::gauge_family& clients;
    metrics::gauge_family& users;
    metrics::gauge_family& connections;
    metrics::counter_family& admitted;
    metrics::counter_family& auth_failures;
    metrics::counter_family& received;
    metrics::counter_family& delivered;
    metrics::counter_family& undeliverable;
    metrics::counter_family& payload_bytes;
    metrics::counter_family& slow_disconnects;
    metrics::counter_family& publish;
    metrics::gauge_family& source_up;
    metrics::gauge_family& source_lag;
    metrics::gauge_family& queued;
    metrics::histogram_family& latency;
    metric_set();
  };

  void wire();
  void wire_operations();
  metrics::counter& received_counter(const std::string& table);
  void disconnect_clients();
  void log(log::level l, std::string_view msg, std::initializer_list<log::field> f = {}) const {
    if (opt_.logger) opt_.logger->write(l, msg, f);
  }
  void on_change(event_type&& e);
  void on_status(std::error_code ec);
  void run_delivery();
  void deliver(event_type& e);
  std::size_t send(const change_payload& p, bool everyone, const std::vector<std::string>& users,
                   metrics::counter& delivered);
  void on_socket(const std::shared_ptr<socket_type>& s);
  void on_republish(socket_type& s, const std::string& key, message& m);
  void on_publish_http(const http_request& req, http_responder respond);
  void add_user(const std::string& key, const boost::json::value& id);
  void remove_user(const std::string& key);

  Source& source_;
  Auth& auth_;
  Router& router_;
  Transport& transport_;
  service_options opt_;
  namespace_type* nsp_ = nullptr;
  sink sink_{this};
  detail::delivery_queue<event_type> queue_;
  std::thread delivery_;
  bool wired_ = false, running_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<int> source_status_{-1};  // -1 not yet reported, 0 connected and caught up, 1 not
  bool source_was_lost_ = false;
  std::string message_;
  statistics stats_;
  metric_set metrics_;
  std::atomic<std::int64_t> in_hand_commit_us_{0};  // commit time of the change being delivered, 0: none
  std::unordered_map<std::string, metrics::counter*> received_by_table_;  // source thread only
  metrics::counter* received_other_ = nullptr;
  metrics::counter *delivered_database_ = nullptr, *delivered_publish_ = nullptr, *payload_bytes_ = nullptr;
  metrics::counter *admitted_ = nullptr, *auth_failures_ = nullptr, *undeliverable_ = nullptr;
  metrics::histogram* latency_ = nullptr;
  const std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();

  mutable std::mutex users_mtx_;
  std::unordered_map<std::string, user_entry> users_;
  std::unordered_map<std::string, std::weak_ptr<socket_type>> sockets_;  // by socket id, for the shutdown
};

}  // namespace esink

#include <esink/service/impl/service.hpp>

#endif
