// The service's operator surface over the in-memory transport: /metrics moves with real
// traffic, /health follows the source, and stop() drains before it disconnects.
#include <esink/service.hpp>

#include "../service/mock_transport.hpp"

#include <esink/auth/with_test_token.hpp>
#include <esink/router/table_router.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

/// Tokens "u<N>" are user N; anything else is refused.
struct map_auth {
  esink::detail::worker_pool<> pool{1, 100000};
  void async_authenticate(std::string token, esink::auth_handler h) {
    pool.post([h, token](esink::detail::no_state&) {
      if (token.size() < 2 || token[0] != 'u') return h(esink::make_error_code(esink::error::unauthorized), {});
      esink::user u;
      u.id = std::stoll(token.substr(1));
      u.key = *esink::user_key(u.id);
      h({}, u);
    });
  }
  void stop() { pool.stop(); }
};

/// A source the test drives, that records what was acknowledged when it was stopped.
struct scripted_source {
  using event_type = esink::change_event;
  std::function<void(esink::change_event&&)> push;
  std::function<void(std::error_code)> status;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::uint64_t> acked;
  std::optional<std::uint64_t> acked_when_stopped;

  template <class Sink> void start(Sink& sink, std::error_code& ec) {
    ec.clear();
    push = [&sink](esink::change_event&& e) { sink.on_change(std::move(e)); };
    status = [&sink](std::error_code e) { sink.on_status(e); };
    sink.on_status({});
  }
  void stop() {
    std::lock_guard<std::mutex> lk(mtx);
    acked_when_stopped = acked.empty() ? 0 : acked.back();
  }
  void acknowledge(std::uint64_t id) {
    std::lock_guard<std::mutex> lk(mtx);
    acked.push_back(id);
    cv.notify_all();
  }
  bool wait_acked(std::uint64_t id) {
    std::unique_lock<std::mutex> lk(mtx);
    return cv.wait_for(lk, std::chrono::seconds(10), [&] { return !acked.empty() && acked.back() >= id; });
  }
};

using service_t = esink::service<scripted_source, map_auth, esink::table_router, esink_test::mock_transport>;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct fixture {
  scripted_source source;
  map_auth auth;
  esink::table_router router;
  esink_test::mock_transport transport;
  std::unique_ptr<service_t> svc;

  explicit fixture(esink::service_options opt = {}) {
    esink::routing_rules rules;
    rules["items"].columns = {"owner_id"};
    router = esink::table_router(rules, {});
    opt.logger = nullptr;
    opt.source_name = "mock";
    opt.security_token = "pub-secret-7";
    svc = std::make_unique<service_t>(source, auth, router, transport, opt);
    std::error_code ec;
    svc->start(ec);
    BOOST_REQUIRE(!ec);
  }

  std::shared_ptr<esink_test::mock_socket> connect(const char* token) {
    return transport.nsp.connect(boost::json::object{{"token", token}});
  }

  void push(std::uint64_t id, std::int64_t owner) {
    esink::change_event e;
    e.id = id;
    e.table = "items";
    e.row = boost::json::object{{"id", id}, {"owner_id", owner}};
    e.commit_time_us = now_us();
    source.push(std::move(e));
  }

  /// `GET /metrics` as {series: value}, checking every line is a HELP, a TYPE or a sample.
  std::map<std::string, double> scrape(std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = transport.http("GET", "/metrics", "", std::move(headers));
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.type == "text/plain; version=0.0.4; charset=utf-8");
    std::map<std::string, double> out;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("# HELP esink_", 0) == 0 || line.rfind("# TYPE esink_", 0) == 0) continue;
      auto sp = line.rfind(' ');
      BOOST_TEST_REQUIRE(line.rfind("esink_", 0) == 0u, line);
      BOOST_TEST_REQUIRE(sp != std::string::npos, line);
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
  }
};

std::size_t count(esink_test::mock_socket& s, const std::string& event) {
  std::size_t n = 0;
  for (auto& [name, p] : s.events()) n += name == event;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_operations)

BOOST_AUTO_TEST_CASE(metrics_move_with_traffic) {
  fixture f;
  auto before = f.scrape();
  BOOST_TEST(before.at("esink_events_delivered_total{origin=\"database\"}") == 0);
  BOOST_TEST(before.at("esink_auth_failures_total") == 0);
  BOOST_TEST(before.at("esink_source_up") == 1);
  BOOST_TEST(before.at("esink_commit_to_send_seconds_count") == 0);

  auto a = f.connect("u1");
  auto bad = f.connect("nope");
  BOOST_TEST(bad->disconnected);
  f.push(1, 1);
  f.push(2, 1);
  f.push(3, 99);  // nobody of user 99 is connected
  BOOST_REQUIRE(f.source.wait_acked(3));
  auto ok = f.transport.http(
      "POST", "/publish", R"({"securityToken":"pub-secret-7","userId":1,"table":"items","type":"insert","data":{}})");
  BOOST_TEST(ok.status == 200, ok.body);
  BOOST_TEST(f.transport.http("POST", "/publish", R"({"securityToken":"wrong"})").status == 401);

  auto m = f.scrape();
  BOOST_TEST(m.at("esink_events_received_total{source=\"mock\",table=\"items\"}") == 3);
  BOOST_TEST(m.at("esink_events_delivered_total{origin=\"database\"}") == 2);
  BOOST_TEST(m.at("esink_events_delivered_total{origin=\"publish\"}") == 1);
  BOOST_TEST(m.at("esink_auth_failures_total") == 1);
  BOOST_TEST(m.at("esink_clients_admitted_total") == 1);
  BOOST_TEST(m.at("esink_connected_users") == 1);
  BOOST_TEST(m.at("esink_publish_total{via=\"http\",result=\"accepted\"}") == 1);
  BOOST_TEST(m.at("esink_publish_total{via=\"http\",result=\"rejected\"}") == 1);
  BOOST_TEST(m.at("esink_commit_to_send_seconds_count") == 2);
  BOOST_TEST(m.at("esink_commit_to_send_seconds_bucket{le=\"+Inf\"}") == 2);
  BOOST_TEST(m.at("esink_delivery_queue_events") == 0);
  BOOST_TEST(m.at("esink_source_lag_seconds") == 0);
  BOOST_TEST(count(*a, "items") == 2u * 1 + 1);  // two changes and the published event
  // Label values are configured names only: no token of any kind.
  auto body = f.transport.http("GET", "/metrics", "").body;
  for (const char* secret : {"pub-secret-7", "nope", "u1"}) BOOST_TEST(body.find(secret) == std::string::npos, secret);
}

BOOST_AUTO_TEST_CASE(metrics_token_protects_metrics) {
  esink::service_options opt;
  opt.metrics_token = "m-secret";
  fixture f(opt);
  BOOST_TEST(f.transport.http("GET", "/metrics", "").status == 401);
  BOOST_TEST(f.transport.http("GET", "/metrics", "", {{"Authorization", "Bearer wrong"}}).status == 401);
  BOOST_TEST(f.transport.http("GET", "/metrics", "", {{"Authorization", "m-secret"}}).status == 401);
  BOOST_TEST(f.scrape({{"authorization", "Bearer m-secret"}}).count("esink_source_up") == 1u);
  BOOST_TEST(f.transport.http("POST", "/metrics", "", {{"Authorization", "Bearer m-secret"}}).status == 405);
  BOOST_TEST(f.transport.http("GET", "/health", "").status == 200);  // health needs no token
}

BOOST_AUTO_TEST_CASE(health_follows_the_source) {
  fixture f;
  auto r = f.transport.http("GET", "/health", "");
  BOOST_TEST(r.status == 200);
  auto v = boost::json::parse(r.body).as_object();
  BOOST_TEST(v.at("status") == "ok");
  BOOST_TEST(v.at("source") == "connected");
  BOOST_TEST(v.at("caughtUp") == true);

  f.source.status(esink::make_error_code(esink::error::source_unavailable));
  r = f.transport.http("GET", "/health", "");
  BOOST_TEST(r.status == 503);
  v = boost::json::parse(r.body).as_object();
  BOOST_TEST(v.at("status") == "unavailable");
  BOOST_TEST(v.at("source") == "disconnected");
  BOOST_TEST(v.at("caughtUp") == false);
  BOOST_TEST(f.scrape().at("esink_source_up") == 0);

  f.source.status({});
  BOOST_TEST(f.transport.http("GET", "/health", "").status == 200);
}

BOOST_AUTO_TEST_CASE(stop_delivers_what_was_handed_over_then_disconnects) {
  fixture f;
  auto a = f.connect("u1");
  std::size_t items_at_disconnect = 0;
  a->on_disconnect([&](esink_test::mock_socket& s, std::string_view) { items_at_disconnect = count(s, "items"); });

  // Hold the delivery thread inside its first send, so the rest waits in the queue.
  std::unique_lock<std::mutex> hold(a->mtx);
  constexpr std::uint64_t n = 50;
  for (std::uint64_t id = 1; id <= n; ++id) f.push(id, 1);
  std::thread stopper([&] { f.svc->stop(); });
  while (f.svc->health().second.find("\"stopping\"") == std::string::npos) std::this_thread::yield();
  BOOST_TEST(!f.svc->health().first);
  hold.unlock();
  stopper.join();

  BOOST_TEST(count(*a, "items") == n);
  BOOST_TEST(a->disconnected);
  BOOST_TEST(items_at_disconnect == n);  // the DISCONNECT came after every event
  BOOST_REQUIRE(f.source.acked_when_stopped.has_value());
  BOOST_TEST(*f.source.acked_when_stopped == n);  // acknowledged before the source stopped

  // Handed over after the stop: neither delivered nor acknowledged (the next start reads it).
  f.push(n + 1, 1);
  BOOST_TEST(f.source.acked.back() == n);
  BOOST_TEST(count(*a, "items") == n);
}

BOOST_AUTO_TEST_SUITE_END()
