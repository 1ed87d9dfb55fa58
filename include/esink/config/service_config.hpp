#ifndef ESINK_CONFIG_SERVICE_CONFIG_HPP
#define ESINK_CONFIG_SERVICE_CONFIG_HPP

#include <esink/log/logger.hpp>
#include <esink/router/column_filter.hpp>
#include <esink/router/table_router.hpp>
#include <esink/source/table_list.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace esink {

/// A configuration value esink cannot run with. `what()` is one line naming the variable.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Which database the service watches.
enum class database_kind { postgres, mariadb, sqlite };

/// The service's settings, as read from the seed's environment variables (plus a few
/// `ESINK_*` extensions), every one with its default. See docs/service.md.
struct service_config {
  // Server (the seed's Node settings)
  std::uint16_t port = 80;                ///< PORT; 0 picks a free port
  std::string node_env = "development";   ///< NODE_ENV
  bool production = false;                ///< NODE_ENV == "production"
  bool use_ssl = false;                   ///< USE_SSL: set to anything but false/0/no/off
  std::string tls_cert_file, tls_key_file;  ///< TLS_CERT_FILE, TLS_KEY_FILE

  // Preferences
  std::string default_source = "API";     ///< DEFAULT_SOURCE
  bool allow_republishing = false;        ///< ALLOW_REPUBLISHING
  std::optional<std::string> security_token;  ///< SECURITY_TOKEN; unset disables /publish (403)

  // Database
  database_kind database = database_kind::sqlite;
  std::string postgres_url;               ///< POSTGRES_DATABASE_URL
  std::string mysql_host = "127.0.0.1";   ///< MYSQL_HOST
  unsigned mysql_port = 3306;             ///< MYSQL_PORT
  std::string mysql_username;             ///< MYSQL_USERNAME
  std::string mysql_password;             ///< MYSQL_PASSWORD
  std::string mysql_database;             ///< MYSQL_DATABASE
  std::string mysql_table_target = "esink_pubsub";  ///< MYSQL_TABLE_TARGET
  std::string sqlite_path = "./esink.db"; ///< ESINK_SQLITE_PATH (used when no database is set)
  std::string table_names;                ///< TABLE_NAMES, unwrapped
  std::vector<table_name> tables;         ///< TABLE_NAMES, parsed

  // Authentication
  std::string auth_table, auth_column;    ///< AUTH_TABLE, AUTH_COLUMN
  std::string auth_id_column = "id";     ///< ESINK_AUTH_ID_COLUMN: the user row's id column
  std::chrono::milliseconds auth_cache_ttl{5000};  ///< ESINK_AUTH_CACHE_TTL_MS (0: no cache)
  std::size_t auth_cache_size = 10000;    ///< ESINK_AUTH_CACHE_SIZE
  bool allow_test_token_in_production = false;  ///< ESINK_ALLOW_TEST_TOKEN
  std::string jwt_secret;                 ///< ESINK_JWT_SECRET: HS256 JWTs instead of AUTH_TABLE

  // Routing
  routing_rules routing;                  ///< TABLE_AUTH_COLUMN_ROUTING
  column_filter filters;                  ///< FILTERS

  // Limits
  std::size_t max_publish_body = 1u << 20;  ///< ESINK_MAX_BODY_BYTES: larger /publish bodies get 413
  std::size_t queue_capacity = 4096;      ///< ESINK_QUEUE_SIZE: events between source and sockets

  // Operations
  log::level log_level = log::level::info;  ///< LOG_LEVEL; default info, warn when NODE_ENV=production
  std::optional<std::string> metrics_token;  ///< METRICS_TOKEN: bearer token GET /metrics requires
  std::chrono::milliseconds shutdown_timeout{10000};  ///< ESINK_SHUTDOWN_TIMEOUT_MS: bound of a graceful stop

  // Static files (read by main.cpp at startup)
  std::string static_dir;                 ///< ESINK_STATIC_DIR: files served over HTTP GET, `/` is index.html
  std::string socketio_client_dir;        ///< ESINK_SOCKETIO_CLIENT_DIR: socket.io-client's dist, at /socket.io/

  /// Things worth a line at startup that do not stop it (e.g. a watched table without a rule).
  std::vector<std::string> warnings;

  /// Whether the TEST token (user id -1) is accepted.
  bool test_token_allowed() const noexcept { return !production || allow_test_token_in_production; }
};

}  // namespace esink

#endif
