#include <esink/auth/sqlite.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

BOOST_AUTO_TEST_SUITE(auth_sqlite)

BOOST_AUTO_TEST_CASE(parameterized_lookup_of_the_user_row) {
  std::string path = "/tmp/esink-auth-test-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(db,
                             "CREATE TABLE \"user accounts\" (id INTEGER PRIMARY KEY, token TEXT, score REAL, note TEXT);"
                             "INSERT INTO \"user accounts\" VALUES (101, 'tok''en', 1.5, NULL), (102, 'b', 2, 'x');",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  esink::sqlite_auth_lookup::options_type o;
  o.path = path;
  o.table = "user accounts";
  o.column = "token";
  esink::sqlite_auth_lookup lookup(o);
  esink::user u;
  std::error_code ec;
  BOOST_TEST(lookup.find("tok'en", u, ec));  // quotes in tokens are data, never SQL
  BOOST_TEST(!ec);
  BOOST_TEST(u.key == "101");
  BOOST_TEST(u.row.at("score") == boost::json::value(1.5));
  BOOST_TEST(u.row.at("note").is_null());
  BOOST_TEST(!lookup.find("' OR '1'='1", u, ec));
  BOOST_TEST(!ec);
  std::remove(path.c_str());

  o.path = "/nonexistent/dir/x.db";
  esink::sqlite_auth_lookup missing(o);
  BOOST_TEST(!missing.find("b", u, ec));
  BOOST_TEST((ec == esink::error::source_unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
