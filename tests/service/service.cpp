#define BOOST_TEST_MODULE esink service
#include <esink/service.hpp>

#include "mock_transport.hpp"

#include <esink/auth/with_test_token.hpp>
#include <esink/router/table_router.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace {

/// Tokens "u<N>" are user N; "s<text>" is the string id text.
struct map_auth {
  esink::detail::worker_pool<> pool{1, 100000};
  void async_authenticate(std::string token, esink::auth_handler h) {
    pool.post([h, token](esink::detail::no_state&) {
      esink::user u;
      if (token.size() > 1 && token[0] == 'u') u.id = std::stoll(token.substr(1));
      else if (token.size() > 1 && token[0] == 's') u.id = token.substr(1);
      else return h(esink::make_error_code(esink::error::unauthorized), {});
      u.key = *esink::user_key(u.id);
      h({}, u);
    });
  }
  void stop() { pool.stop(); }
};

using service_t = esink::service<esink_test::mock_source, map_auth, esink::table_router, esink_test::mock_transport>;

struct fixture {
  esink_test::mock_source source;
  map_auth auth;
  esink::table_router router;
  esink_test::mock_transport transport;
  std::unique_ptr<service_t> svc;

  explicit fixture(esink::service_options opt = {}) {
    esink::routing_rules rules;
    rules["items"].columns = {"owner_id"};
    rules["msgs"].columns = {"from", "to"};
    rules["news"].everyone = true;
    esink::column_filter f;
    f.add("items", "secret");
    router = esink::table_router(rules, f);
    opt.logger = nullptr;
    svc = std::make_unique<service_t>(source, auth, router, transport, opt);
    std::error_code ec;
    svc->start(ec);
    BOOST_REQUIRE(!ec);
  }

  std::shared_ptr<esink_test::mock_socket> connect(const char* token) {
    return transport.nsp.connect(boost::json::object{{"token", token}});
  }

  void change(std::uint64_t id, const char* table, const char* row) {
    esink::change_event e;
    e.id = id;
    e.table = table;
    e.type = esink::change_type::update;
    e.row = boost::json::parse(row).as_object();
    e.commit_time_us = 1700000000123456;
    source.push(std::move(e));
    BOOST_REQUIRE(source.wait_acked(id));
  }
};

std::vector<boost::json::value> payloads(esink_test::mock_socket& s, const std::string& event) {
  std::vector<boost::json::value> out;
  for (auto& [name, p] : s.events())
    if (name == event) out.push_back(p);
  return out;
}

// Misuse fails with the concept's message; here only the traits are checked.
struct not_a_transport {};
static_assert(!std::is_same_v<esink::detail::detected_t<esink::detail::transport_start_t, not_a_transport>, void>);

}  // namespace

BOOST_AUTO_TEST_SUITE(service_)

BOOST_AUTO_TEST_CASE(connected_then_rows_of_the_user_only) {
  fixture f;
  auto a1 = f.connect("u101");
  auto a2 = f.connect("s101");  // "101" and 101 are one user
  auto b = f.connect("u7");
  auto hello = payloads(*a1, "connected");
  BOOST_REQUIRE(hello.size() == 1u);
  BOOST_TEST(hello[0] == boost::json::parse(R"({"sessionId":"sid0","userId":101,"code":200,"message":"Connected"})"));
  BOOST_TEST(payloads(*a2, "connected")[0].at("userId") == "101");

  f.change(1, "items", R"({"id": 1, "owner_id": "101", "secret": "s"})");
  f.change(2, "items", R"({"id": 2, "owner_id": 7})");
  f.change(3, "items", R"({"id": 3, "owner_id": null})");
  f.change(4, "unrouted", R"({"id": 4, "owner_id": 7})");

  for (auto* s : {a1.get(), a2.get()}) {
    auto got = payloads(*s, "items");
    BOOST_REQUIRE(got.size() == 1u);
    auto& p = got[0].as_object();
    BOOST_TEST(p.at("data") == boost::json::parse(R"({"id": 1, "owner_id": "101"})"));
    BOOST_TEST(p.at("userId") == 101);  // the first socket's id spelling
    BOOST_TEST(p.at("source") == "database");
    BOOST_TEST(p.at("type") == "update");
    BOOST_TEST(p.at("table") == "items");
    BOOST_TEST(p.at("version") == 1);
    BOOST_TEST(p.at("timestamp") == 1700000000123);
    BOOST_TEST(payloads(*s, "changes") == got);
  }
  // Both sockets of user 101 got the same event id: one event, serialized once per user.
  BOOST_TEST(payloads(*a1, "items")[0].at("id") == payloads(*a2, "items")[0].at("id"));
  auto bs = payloads(*b, "items");
  BOOST_REQUIRE(bs.size() == 1u);
  BOOST_TEST(bs[0].at("data").at("id") == 2);
  BOOST_TEST(f.svc->stats().undeliverable.load() == 2u);
  BOOST_TEST(f.svc->stats().deliveries.load() == 2u);
  // Every change was acknowledged after it was handed over, in order.
  BOOST_TEST((f.source.acked == std::vector<std::uint64_t>{1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(one_send_per_user_and_one_broadcast_for_everyone) {
  fixture f;
  auto a = f.connect("u1");
  auto b = f.connect("u2");
  auto c = f.connect("u3");
  f.transport.nsp.room_sends = 0;
  f.change(1, "msgs", R"({"from": 1, "to": "1"})");  // both columns match user 1: once
  BOOST_TEST(f.transport.nsp.room_sends == 2u);       // the table event and `changes`
  BOOST_TEST(payloads(*a, "msgs").size() == 1u);
  f.change(2, "msgs", R"({"from": 2, "to": 3})");
  BOOST_TEST(payloads(*b, "msgs").size() == 1u);
  BOOST_TEST(payloads(*c, "msgs").size() == 1u);
  BOOST_TEST(payloads(*c, "msgs")[0].at("userId") == 3);
  f.change(3, "msgs", R"({"from": 99, "to": 98})");   // nobody of 98/99 connected: nothing serialized
  BOOST_TEST(f.transport.nsp.room_sends == 6u);
  f.change(4, "news", R"({"id": 1})");
  BOOST_TEST(f.transport.nsp.broadcasts == 2u);
  for (auto* s : {a.get(), b.get(), c.get()}) BOOST_TEST(payloads(*s, "news")[0].at("userId") == "*");
}

BOOST_AUTO_TEST_CASE(unknown_tokens_get_error_401_and_a_disconnect) {
  fixture f;
  for (boost::json::value auth : {boost::json::value(boost::json::object{{"token", "nobody"}}),
                                  boost::json::value(boost::json::object{})}) {
    auto s = f.transport.nsp.connect(auth);
    auto ev = s->events();
    BOOST_REQUIRE(ev.size() == 1u);
    BOOST_TEST(ev[0].first == "error");
    BOOST_TEST(ev[0].second == boost::json::parse(R"({"code":401,"message":"Unauthorized"})"));
    BOOST_TEST(s->disconnected);
  }
  BOOST_TEST(f.svc->stats().auth_failures.load() == 2u);
  BOOST_TEST(f.svc->connected_users() == 0u);
}

BOOST_AUTO_TEST_CASE(users_leave_the_registry_with_their_last_socket) {
  fixture f;
  auto a = f.connect("u5");
  auto b = f.connect("u5");
  BOOST_TEST(f.svc->connected_users() == 1u);
  a->disconnect();
  BOOST_TEST(f.svc->connected_users() == 1u);
  b->disconnect();
  BOOST_TEST(f.svc->connected_users() == 0u);
}

BOOST_AUTO_TEST_CASE(publish_statuses) {
  esink::service_options opt;
  opt.security_token = "tok";
  opt.max_publish_body = 200;
  fixture f(opt);
  auto a = f.connect("u9");
  auto r = f.transport.http("POST", "/publish",
                            R"({"securityToken":"tok","userId":9,"table":"items","type":"insert","data":{"x":1,"secret":2}})");
  BOOST_TEST(r.status == 200);
  auto got = payloads(*a, "items");
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].at("data") == boost::json::parse(R"({"x":1})"));
  BOOST_TEST(got[0].at("source") == "API");
  BOOST_TEST(f.transport.http("POST", "/publish", R"({"securityToken":"nope"})").status == 401);
  BOOST_TEST(f.transport.http("POST", "/publish", "{").status == 400);
  BOOST_TEST(f.transport.http("POST", "/publish", std::string(300, ' ')).status == 413);
  BOOST_TEST(f.transport.http("POST", "/publish", "{}", {{"Content-Type", "text/plain"}}).status == 415);
  BOOST_TEST(f.transport.http("GET", "/publish", "").status == 405);
  auto bad = f.transport.http("POST", "/publish", R"({"securityToken":"tok","userId":9,"table":"t","type":"x","data":{}})");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(boost::json::parse(bad.body).at("key") == "type");
  auto ping = f.transport.http("GET", "/ping", "");
  BOOST_TEST(ping.status == 200);
  BOOST_TEST(ping.body == "pong");

  fixture closed;
  BOOST_TEST(closed.transport.http("POST", "/publish", "{}").status == 403);
}

BOOST_AUTO_TEST_CASE(startup_failures_leave_nothing_running) {
  esink_test::mock_source source;
  map_auth auth;
  esink::table_router router;
  esink_test::mock_transport transport;
  transport.fail_start = true;
  esink::service_options opt;
  opt.logger = nullptr;
  {
    service_t svc(source, auth, router, transport, opt);
    std::error_code ec;
    svc.start(ec);
    BOOST_TEST(!!ec);
    BOOST_TEST(svc.error_message().rfind("cannot listen", 0) == 0u);
  }
  transport.fail_start = false;
  source.fail = true;
  service_t svc(source, auth, router, transport, opt);
  std::error_code ec;
  svc.start(ec);
  BOOST_TEST((ec == esink::error::source_unavailable));
  BOOST_TEST(svc.error_message() == "mock database refused");
  BOOST_TEST(!transport.started);
}

BOOST_AUTO_TEST_SUITE_END()
