// esink_service: streams PostgreSQL, MySQL/MariaDB or SQLite row changes to Socket.IO clients,
// configured exactly like the original Node esink (see docs/service.md).
//
// Exit status: 0 after SIGTERM/SIGINT, 2 for a configuration error, 1 when startup fails
// (port in use, database unreachable); each failure is one line on standard error. While
// running, one structured (logfmt) line per notable event at LOG_LEVEL; a second stop signal,
// or a stop exceeding ESINK_SHUTDOWN_TIMEOUT_MS, exits 1 at once (see docs/operations.md).
#include <esink/auth/any_auth.hpp>
#include <esink/auth/jwt.hpp>
#include <esink/auth/mariadb.hpp>
#include <esink/auth/postgres.hpp>
#include <esink/auth/sqlite.hpp>
#include <esink/auth/table_column.hpp>
#include <esink/auth/with_test_token.hpp>
#include <esink/config.hpp>
#include <esink/log.hpp>
#include <esink/router.hpp>
#include <esink/service.hpp>
#include <esink/source/mariadb.hpp>
#include <esink/source/postgres.hpp>
#include <esink/source/sqlite.hpp>
#include <esink/transport.hpp>
#include <esink/transport/static_files.hpp>

#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

/// The process's structured log (LOG_LEVEL), shared with the service.
std::shared_ptr<esink::log::logger> logger = std::make_shared<esink::log::logger>();

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal"; }

/// The SQLite default with no TABLE_NAMES: nothing to watch yet, /publish and Socket.IO only.
struct idle_source {
  using event_type = esink::change_event;
  template <class Sink> void start(Sink& sink, std::error_code& ec) {
    ec.clear();
    sink.on_status({});
  }
  void stop() {}
  void acknowledge(std::uint64_t) {}
};

[[noreturn]] void fail(const std::string& line, int code) {
  std::cerr << "esink: " << line << std::endl;
  std::exit(code);
}

template <class Lookup>
esink::any_auth table_auth(const esink::service_config& c, typename Lookup::options_type o) {
  o.table = c.auth_table;
  o.column = c.auth_column;
  o.id_column = c.auth_id_column;
  esink::table_column_auth_options t;
  t.ttl = c.auth_cache_ttl;
  t.max_entries = c.auth_cache_size;
  return esink::any_auth::make<esink::with_test_token<esink::table_column_auth<Lookup>>>(c.test_token_allowed(), o, t);
}

esink::any_auth make_auth(const esink::service_config& c) {
  if (!c.jwt_secret.empty()) {
    esink::jwt_options j;
    j.secret = c.jwt_secret;
    return esink::any_auth::make<esink::with_test_token<esink::jwt_auth>>(c.test_token_allowed(), j);
  }
  if (c.auth_table.empty()) return esink::any_auth::make<esink::with_test_token<esink::no_auth>>(c.test_token_allowed());
  switch (c.database) {
    case esink::database_kind::postgres: {
      esink::postgres_auth_lookup::options_type o;
      o.url = c.postgres_url;
      return table_auth<esink::postgres_auth_lookup>(c, o);
    }
    case esink::database_kind::mariadb: {
      esink::mariadb_auth_lookup::options_type o;
      o.connection.host = c.mysql_host;
      o.connection.port = c.mysql_port;
      o.connection.user = c.mysql_username;
      o.connection.password = c.mysql_password;
      o.connection.database = c.mysql_database;
      return table_auth<esink::mariadb_auth_lookup>(c, o);
    }
    case esink::database_kind::sqlite: break;
  }
  esink::sqlite_auth_lookup::options_type o;
  o.path = c.sqlite_path;
  return table_auth<esink::sqlite_auth_lookup>(c, o);
}

/// TLS files when USE_SSL is set: both required and readable, or startup stops here.
struct tls_files {
  std::string cert, key;
};

tls_files tls_from_config(const esink::service_config& c) {
  tls_files t{c.tls_cert_file, c.tls_key_file};  // quotes already removed, as for every variable
  if (t.cert.empty() || t.key.empty())
    fail("USE_SSL is set: TLS_CERT_FILE and TLS_KEY_FILE must name the PEM certificate and key", 2);
  for (const auto* f : {&t.cert, &t.key}) {
    if (std::FILE* file = std::fopen(f->c_str(), "r"))
      std::fclose(file);
    else
      fail("USE_SSL is set: cannot read " + std::string(f == &t.cert ? "TLS_CERT_FILE " : "TLS_KEY_FILE ") + *f +
               ": " + std::strerror(errno),
           2);
  }
  return t;
}

/// ESINK_STATIC_DIR and ESINK_SOCKETIO_CLIENT_DIR: the files served by GET, read once at startup.
esink::static_files static_files_from(const esink::service_config& c) {
  esink::static_files files;
  const char* var = "ESINK_STATIC_DIR";
  try {
    if (!c.static_dir.empty()) files.add_directory(c.static_dir);
    var = "ESINK_SOCKETIO_CLIENT_DIR";
    if (!c.socketio_client_dir.empty()) files.add_socketio_client(c.socketio_client_dir, esink::server_options().path);
  } catch (const std::invalid_argument& e) {
    fail(std::string(var) + ": " + e.what(), 2);
  }
  for (const auto& s : files.skipped()) logger->warn("file not served", {{"variable", "ESINK_STATIC_DIR"}, {"detail", s}});
  if (files.file_count())
    logger->info("serving files", {{"files", files.file_count()}, {"bytes", files.total_bytes()}});
  return files;
}

template <class Server, class Source>
int serve(const esink::service_config& c, Source& source, const sigset_t& stop_signals, const std::string& what,
          const tls_files& tls) {
  const esink::static_files files = static_files_from(c);  // before any thread starts: errors exit 2
  esink::table_router router(c.routing, c.filters);
  esink::any_auth auth = make_auth(c);
  esink::server_options so;
  so.port = c.port;
  so.tls_cert_file = tls.cert;
  so.tls_key_file = tls.key;
  Server server(so);
  files.serve(server);
  auto opt = esink::service_options::from_config(c);
  opt.logger = logger;
  esink::service<Source, esink::any_auth, esink::table_router, Server> svc(source, auth, router, server, opt);

  std::error_code ec;
  svc.start(ec);
  if (ec) {
    auth.stop();
    const std::string& detail = server.error_detail();
    if (!detail.empty() && detail.rfind("cannot listen", 0) != 0) fail(detail, 1);  // e.g. the TLS files
    if (svc.error_message().rfind("cannot listen", 0) == 0)
      fail("cannot listen on PORT " + std::to_string(c.port) + ": " + ec.message(), 1);
    fail(what + ": " + svc.error_message(), 1);
  }
  logger->info("esink started", {{"port", static_cast<unsigned>(server.local_port())},
                                  {"source", what},
                                  {"tables", c.tables.empty() ? std::string("none") : c.table_names},
                                  {"node_env", c.node_env},
                                  {"tls", c.use_ssl}});
  esink::log::config_summary(*logger, c);
  std::cout << "listening on port " << server.local_port() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  logger->info("shutdown requested", {{"signal", signal_name(sig)}});
  // The stop is bounded by ESINK_SHUTDOWN_TIMEOUT_MS; this watchdog covers a source that hangs
  // while stopping, and makes a second signal an immediate exit.
  std::atomic<bool> stopped{false};
  std::thread watchdog([&] {
    const auto until = std::chrono::steady_clock::now() + c.shutdown_timeout + std::chrono::seconds(2);
    while (!stopped.load()) {
      timespec slice{0, 20 * 1000 * 1000};
      int again = sigtimedwait(&stop_signals, nullptr, &slice);
      if (again > 0) {
        logger->error("second stop signal: exiting without finishing the shutdown", {{"signal", signal_name(again)}});
        std::_Exit(1);
      }
      if (std::chrono::steady_clock::now() >= until) {
        logger->error("shutdown exceeded its bound: exiting",
                      {{"timeout_ms", static_cast<std::int64_t>(c.shutdown_timeout.count())}});
        std::_Exit(1);
      }
    }
  });
  svc.stop();
  stopped = true;
  watchdog.join();
  logger->info("stopped", {{"exit_code", 0}});
  return 0;
}

/// Serves over TLS when USE_SSL is set (plain HTTP is then not served at all).
template <class Source>
int serve_any(const esink::service_config& c, Source& source, const sigset_t& stop_signals, const std::string& what,
              const tls_files& tls) {
  if (c.use_ssl) return serve<esink::tls_socketio_server>(c, source, stop_signals, what, tls);
  return serve<esink::socketio_server>(c, source, stop_signals, what, tls);
}

}  // namespace

int main() {
  esink::service_config c;
  try {
    c = esink::parse_config(esink::current_environment());
  } catch (const esink::config_error& e) {
    fail(e.what(), 2);
  }
  logger->set_level(c.log_level);
  for (const auto& w : c.warnings) logger->warn("configuration warning", {{"detail", w}});
  const tls_files tls = c.use_ssl ? tls_from_config(c) : tls_files{};

  // Block the stop signals in every thread; main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    switch (c.database) {
      case esink::database_kind::postgres: {
        auto o = esink::postgres_options::from_env();
        o.url = c.postgres_url;
        o.tables = c.table_names;
        esink::postgres_source source(o);
        return serve_any(c, source, stop_signals, "PostgreSQL", tls);
      }
      case esink::database_kind::mariadb: {
        esink::mariadb_options o;
        o.host = c.mysql_host;
        o.port = c.mysql_port;
        o.user = c.mysql_username;
        o.password = c.mysql_password;
        o.database = c.mysql_database;
        o.event_table = c.mysql_table_target;
        o.tables = c.tables;
        if (const char* v = std::getenv("ESINK_CONSUMER"); v && *v) o.consumer = v;
        if (const char* v = std::getenv("ESINK_MYSQL_POLL_MS"); v && *v)
          o.poll_interval = std::chrono::milliseconds(std::strtoul(v, nullptr, 10));
        esink::mariadb_source source(o);
        return serve_any(c, source, stop_signals, "MySQL/MariaDB", tls);
      }
      case esink::database_kind::sqlite: {
        if (c.tables.empty()) {
          // Create the file so AUTH_TABLE lookups and later runs find it.
          sqlite3* db = nullptr;
          int rc = sqlite3_open_v2(c.sqlite_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
          std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
          sqlite3_close_v2(db);
          if (rc != SQLITE_OK) fail("ESINK_SQLITE_PATH " + c.sqlite_path + ": " + msg, 1);
          idle_source source;
          return serve_any(c, source, stop_signals, "SQLite " + c.sqlite_path, tls);
        }
        auto o = esink::sqlite_options::from_env();
        o.path = c.sqlite_path;
        o.tables = c.table_names;
        esink::sqlite_source source(o);
        return serve_any(c, source, stop_signals, "SQLite", tls);
      }
    }
  } catch (const std::invalid_argument& e) {
    fail(e.what(), 2);
  } catch (const std::exception& e) {
    fail(std::string("startup failed: ") + e.what(), 1);
  }
  return 1;
}
