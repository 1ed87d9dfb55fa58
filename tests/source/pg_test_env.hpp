#ifndef ESINK_TESTS_SOURCE_PG_TEST_ENV_HPP
#define ESINK_TESTS_SOURCE_PG_TEST_ENV_HPP

// The throwaway server's settings (file named by ESINK_TEST_PG_ENV) and a tiny libpq client.

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace esink_test {

inline std::map<std::string, std::string> pg_env() {
  const char* path = std::getenv("ESINK_TEST_PG_ENV");
  if (!path) throw std::runtime_error("ESINK_TEST_PG_ENV is not set: run through ctest (fixture postgres)");
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path + ": did postgres_start fail?");
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

inline std::string pg_url() { return pg_env().at("url"); }

/// Restarts the throwaway server (same port); returns when it accepts connections again.
inline void pg_restart() {
  std::string cmd = pg_env().at("restart");
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("restart failed: " + cmd);
}

/// A blocking libpq connection for the test's own writes; throws on any error.
class pg_client {
public:
  explicit pg_client(const std::string& url = pg_url()) : c_(PQconnectdb(url.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string m = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error("connect: " + m);
    }
  }
  pg_client(const pg_client&) = delete;
  ~pg_client() { PQfinish(c_); }

  /// Runs `sql`; returns the first column of every row.
  std::vector<std::string> exec(const std::string& sql) {
    std::vector<std::string> out;
    if (!try_exec(sql, &out)) throw std::runtime_error(sql.substr(0, 200) + ": " + error());
    return out;
  }
  bool try_exec(const std::string& sql, std::vector<std::string>* out = nullptr) {
    PGresult* r = PQexec(c_, sql.c_str());
    auto st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (ok && out)
      for (int i = 0; i < PQntuples(r); ++i) out->push_back(PQgetvalue(r, i, 0));
    PQclear(r);
    return ok;
  }
  bool try_reset() {
    PQreset(c_);
    return PQstatus(c_) == CONNECTION_OK;
  }
  std::string error() const { return PQerrorMessage(c_); }

private:
  PGconn* c_;
};

}  // namespace esink_test

#endif
