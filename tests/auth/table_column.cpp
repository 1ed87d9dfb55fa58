#define BOOST_TEST_MODULE esink auth
#include <esink/auth/table_column.hpp>

#include "auth_test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace {

/// An in-memory auth table whose queries can be held, to make lookups overlap.
struct fake_db {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<std::string, boost::json::object> rows;
  std::atomic<int> queries{0};
  bool hold = false;
  bool down = false;

  void release() {
    {
      std::lock_guard<std::mutex> lk(mtx);
      hold = false;
    }
    cv.notify_all();
  }
};

struct fake_lookup {
  struct options_type : esink::auth_lookup_options {
    fake_db* db = nullptr;
  };
  explicit fake_lookup(const options_type& o) : o_(o) {}

  bool find(std::string_view token, esink::user& out, std::error_code& ec) {
    auto& db = *o_.db;
    std::unique_lock<std::mutex> lk(db.mtx);
    ++db.queries;
    db.cv.wait(lk, [&] { return !db.hold; });
    if (db.down) {
      ec = esink::make_error_code(esink::error::source_unavailable);
      return false;
    }
    auto it = db.rows.find(std::string(token));
    if (it == db.rows.end()) return false;
    return esink::detail::user_from_row(it->second, o_.id_column, out);
  }
  options_type o_;
};

struct missing_find {
  struct options_type {};
  explicit missing_find(const options_type&) {}
};

fake_lookup::options_type options(fake_db& db) {
  fake_lookup::options_type o;
  o.table = "users";
  o.column = "token";
  o.db = &db;
  return o;
}

}  // namespace

static_assert(esink::is_auth_v<esink::table_column_auth<fake_lookup>>);
static_assert(esink::detail::is_detected_v<esink::detail::lookup_options_t, missing_find>);
static_assert(!std::is_same_v<esink::detail::detected_t<esink::detail::lookup_find_t, missing_find>, bool>);

BOOST_AUTO_TEST_SUITE(auth_table_column)

BOOST_AUTO_TEST_CASE(finds_the_user_off_the_calling_thread) {
  fake_db db;
  db.rows["t1"] = boost::json::object{{"id", 101}, {"token", "t1"}};
  esink::table_column_auth<fake_lookup> auth(options(db));
  esink_test::answers a;
  auth.async_authenticate("t1", a.handler());
  auth.async_authenticate("nope", a.handler());
  BOOST_REQUIRE(a.wait(2));
  for (auto& x : a.got) BOOST_TEST((x.thread != std::this_thread::get_id()));
  auto ok = a.got[0].ec ? a.got[1] : a.got[0];
  auto bad = a.got[0].ec ? a.got[0] : a.got[1];
  BOOST_TEST(!ok.ec);
  BOOST_TEST(ok.u.key == "101");
  BOOST_TEST(ok.u.id == boost::json::value(101));
  BOOST_TEST((bad.ec == esink::error::unauthorized));
}

BOOST_AUTO_TEST_CASE(ten_thousand_clients_with_one_token_make_one_query) {
  fake_db db;
  db.rows["storm"] = boost::json::object{{"id", "u-1"}};
  db.hold = true;  // the first query waits until every client has asked
  esink::table_column_auth_options opt;
  opt.threads = 4;
  esink::table_column_auth<fake_lookup> auth(options(db), opt);
  esink_test::answers a;
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) auth.async_authenticate("storm", a.handler());
    });
  for (auto& t : callers) t.join();
  db.release();
  BOOST_REQUIRE(a.wait(10000));
  BOOST_TEST(db.queries.load() == 1);
  for (auto& x : a.got) BOOST_TEST((!x.ec && x.u.key == "u-1"));
  // Within the TTL the answer comes from the cache.
  esink_test::answers b;
  auth.async_authenticate("storm", b.handler());
  BOOST_REQUIRE(b.wait(1));
  BOOST_TEST(db.queries.load() == 1);
  BOOST_TEST(auth.cache_hits() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_tokens_are_cached_too_but_outages_are_not) {
  fake_db db;
  esink::table_column_auth<fake_lookup> auth(options(db));
  esink_test::answers a;
  auth.async_authenticate("x", a.handler());
  BOOST_REQUIRE(a.wait(1));
  auth.async_authenticate("x", a.handler());
  BOOST_REQUIRE(a.wait(2));
  BOOST_TEST(db.queries.load() == 1);
  BOOST_TEST((a.got[1].ec == esink::error::unauthorized));

  db.down = true;
  auth.async_authenticate("y", a.handler());
  BOOST_REQUIRE(a.wait(3));
  BOOST_TEST((a.got[2].ec == esink::error::source_unavailable));
  db.down = false;
  db.rows["y"] = boost::json::object{{"id", 1}};
  auth.async_authenticate("y", a.handler());
  BOOST_REQUIRE(a.wait(4));
  BOOST_TEST(!a.got[3].ec);
  BOOST_TEST(db.queries.load() == 3);
}

BOOST_AUTO_TEST_CASE(answers_expire_after_the_ttl_and_the_cache_is_bounded) {
  fake_db db;
  db.rows["t"] = boost::json::object{{"id", 7}};
  esink::table_column_auth_options opt;
  opt.ttl = std::chrono::milliseconds(50);
  opt.max_entries = 2;
  esink::table_column_auth<fake_lookup> auth(options(db), opt);
  esink_test::answers a;
  auth.async_authenticate("t", a.handler());
  BOOST_REQUIRE(a.wait(1));
  db.rows.erase("t");  // the token is deleted from the auth table
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t n = 1;
  while (std::chrono::steady_clock::now() < deadline) {
    auth.async_authenticate("t", a.handler());
    BOOST_REQUIRE(a.wait(++n));
    if (a.got.back().ec) break;
  }
  BOOST_TEST((a.got.back().ec == esink::error::unauthorized));
  BOOST_TEST(db.queries.load() == 2);

  // Three tokens through a cache of two: the oldest is asked again.
  for (const char* t : {"a", "b", "c", "a"}) {
    auth.async_authenticate(t, a.handler());
    BOOST_REQUIRE(a.wait(++n));
  }
  BOOST_TEST(db.queries.load() == 6);
}

BOOST_AUTO_TEST_CASE(ids_that_identify_nobody_are_refused) {
  fake_db db;
  db.rows["null-id"] = boost::json::object{{"id", nullptr}};
  db.rows["no-id"] = boost::json::object{{"name", "x"}};
  esink::table_column_auth<fake_lookup> auth(options(db));
  esink_test::answers a;
  auth.async_authenticate("null-id", a.handler());
  auth.async_authenticate("no-id", a.handler());
  BOOST_REQUIRE(a.wait(2));
  for (auto& x : a.got) BOOST_TEST((x.ec == esink::error::unauthorized));
}

BOOST_AUTO_TEST_SUITE_END()
