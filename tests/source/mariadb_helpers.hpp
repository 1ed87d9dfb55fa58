// Helpers for the MariaDB source tests: the fixture's settings, a plain SQL session for
// writers, and a sink that records events and lets a test wait for a count.
#ifndef ESINK_TESTS_SOURCE_MARIADB_HELPERS_HPP
#define ESINK_TESTS_SOURCE_MARIADB_HELPERS_HPP

#include <esink/source/mariadb.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace esink_test {

/// Settings written by tests/fixtures/mariadb/mariadb_fixture.sh; a missing file fails the test.
inline const std::map<std::string, std::string>& fixture_env() {
  static const std::map<std::string, std::string> env = [] {
    std::map<std::string, std::string> out;
    const char* path = std::getenv("ESINK_TEST_MARIADB_ENV");
    if (!path) throw std::runtime_error("ESINK_TEST_MARIADB_ENV is not set: run through ctest (fixture mariadb)");
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path + ": is the mariadb fixture up?");
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }();
  return env;
}

inline esink::mariadb_options options(std::string event_table, std::string tables) {
  const auto& e = fixture_env();
  esink::mariadb_options o;
  o.host = e.at("MYSQL_HOST");
  o.port = static_cast<unsigned>(std::stoul(e.at("MYSQL_PORT")));
  o.user = e.at("MYSQL_USERNAME");
  o.password = e.at("MYSQL_PASSWORD");
  o.database = e.at("MYSQL_DATABASE");
  o.event_table = std::move(event_table);
  std::error_code ec;
  o.tables = esink::parse_table_list(tables, ec);
  if (ec) throw std::runtime_error("bad table list " + tables);
  o.poll_interval = std::chrono::milliseconds(50);  // keeps the suite fast; the default is 250
  o.reconnect_min = std::chrono::milliseconds(50);
  o.reconnect_max = std::chrono::milliseconds(500);
  return o;
}

/// Runs the fixture script (restart the server mid-test).
inline void fixture_command(const std::string& cmd) {
  const auto& e = fixture_env();
  std::string line = "'" + e.at("ESINK_TEST_MARIADB_SCRIPT") + "' " + cmd + " '" + e.at("ESINK_TEST_MARIADB_STATE") + "'";
  if (std::system(line.c_str()) != 0) throw std::runtime_error("fixture command failed: " + line);
}

/// A plain SQL session for setting up tables and writing like an application.
class session {
public:
  session() { reconnect(); }
  void reconnect() {
    esink::detail::mariadb::db_error err;
    const auto o = options("unused", "unused");
    if (!c_.open({o.host, o.user, o.password, o.database, o.port, std::chrono::seconds(5), std::chrono::seconds(60)},
                 err))
      throw std::runtime_error("connect: " + err.message);
    exec("USE " + esink::detail::mariadb::quote_ident(o.database));
    exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  }
  void exec(const std::string& sql) {
    esink::detail::mariadb::db_error err;
    if (!c_.exec(sql, err)) throw std::runtime_error("SQL failed (" + std::to_string(err.code) + " " + err.message + "): " + sql.substr(0, 300));
  }
  bool try_exec(const std::string& sql, esink::detail::mariadb::db_error& err) { return c_.exec(sql, err); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    esink::detail::mariadb::db_error err;
    esink::detail::mariadb::result r;
    if (!c_.query(sql, r, err)) throw std::runtime_error("query failed: " + err.message + ": " + sql);
    std::vector<std::vector<std::string>> out;
    while (r.next()) {
      out.emplace_back();
      for (unsigned i = 0; i < r.columns(); ++i) out.back().emplace_back(r.str(i));
    }
    return out;
  }
  std::string scalar(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() || r[0].empty() ? std::string() : r[0][0];
  }

private:
  esink::detail::mariadb::connection c_;
};

/// Records every event; acknowledges each one right away when given a source.
struct recording_sink {
  esink::mariadb_source* ack = nullptr;
  std::mutex m;
  std::condition_variable cv;
  std::vector<esink::change_event> events;
  std::vector<std::error_code> statuses;

  void on_change(esink::change_event&& e) {
    std::uint64_t id = e.id;
    {
      std::lock_guard<std::mutex> lk(m);
      events.push_back(std::move(e));
    }
    cv.notify_all();
    if (ack) ack->acknowledge(id);
  }
  void on_status(std::error_code ec) {
    {
      std::lock_guard<std::mutex> lk(m);
      statuses.push_back(ec);
    }
    cv.notify_all();
  }
  /// Waits until at least `n` events arrived or the deadline passed; returns the count.
  std::size_t wait_for(std::size_t n, std::chrono::seconds deadline = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lk(m);
    cv.wait_for(lk, deadline, [&] { return events.size() >= n; });
    return events.size();
  }
  template <class Pred> bool wait_until(Pred p, std::chrono::seconds deadline = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lk(m);
    return cv.wait_for(lk, deadline, [&] { return p(events, statuses); });
  }
  std::vector<esink::change_event> snapshot() {
    std::lock_guard<std::mutex> lk(m);
    return events;
  }
};

}  // namespace esink_test

#endif
