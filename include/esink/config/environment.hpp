#ifndef ESINK_CONFIG_ENVIRONMENT_HPP
#define ESINK_CONFIG_ENVIRONMENT_HPP

#include <esink/config/routing.hpp>
#include <esink/config/service_config.hpp>
#include <esink/source/table_list.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

extern char** environ;

namespace esink {

/// Environment variables by name.
using environment = std::map<std::string, std::string, std::less<>>;

/// The process environment.
inline environment current_environment() {
  environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

namespace detail {

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Parses a decimal number in [lo, hi]; false on anything else.
inline bool parse_unsigned(std::string_view s, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

}  // namespace detail

/// A variable's value as the seed's compose file may write it: surrounding blanks dropped and
/// one pair of matching quotes (`'api'`, `"api"`) removed.
inline std::string unquote(std::string_view v) {
  v = detail::trim(v);
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
    v = detail::trim(v.substr(1, v.size() - 2));
  return std::string(v);
}

/// ALLOW_REPUBLISHING-style switches: true/false, 1/0, yes/no, on/off (any case); empty is
/// `fallback`. Anything else throws @ref config_error naming `name`.
inline bool parse_switch(std::string_view name, std::string_view value, bool fallback) {
  std::string v = detail::lower(unquote(value));
  if (v.empty()) return fallback;
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw config_error(std::string(name) + ": expected true or false, got '" + std::string(value) + "'");
}

/// PORT: 0-65535 (0 picks a free port).
inline std::uint16_t parse_port(std::string_view name, std::string_view value, bool allow_zero = true) {
  std::uint64_t v = 0;
  if (!detail::parse_unsigned(unquote(value), allow_zero ? 0 : 1, 65535, v))
    throw config_error(std::string(name) + ": expected a port number " + (allow_zero ? "0" : "1") +
                       "-65535, got '" + std::string(value) + "'");
  return static_cast<std::uint16_t>(v);
}

/// FILTERS: `table.column,table.column`; the column is what follows the last dot, so
/// `schema.table.column` filters `schema.table`.
inline column_filter parse_filters(std::string_view value) {
  column_filter f;
  std::string text = unquote(value);
  std::string_view rest = text;
  std::size_t index = 0;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = detail::trim(rest.substr(0, comma));
    ++index;
    if (!item.empty()) {
      auto dot = item.rfind('.');
      if (dot == std::string_view::npos || dot == 0 || dot + 1 == item.size())
        throw config_error("FILTERS: expected table.column, got '" + std::string(item) + "' (item " +
                           std::to_string(index) + ")");
      f.add(std::string(item.substr(0, dot)), std::string(item.substr(dot + 1)));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return f;
}

/** Reads the service configuration from `env` (see docs/service.md for every variable).

    Pure: no I/O, so every misconfiguration is unit-testable.
    @throws config_error with one line naming the variable: both databases set, TABLE_NAMES
    missing or malformed, routing for a table that is not watched, AUTH_TABLE without
    AUTH_COLUMN (or the reverse), a bad PORT, an invalid switch or number.
*/
inline service_config parse_config(const environment& env) {
  service_config c;
  auto get = [&](std::string_view name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : unquote(it->second);
  };
  auto raw = [&](std::string_view name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  auto number = [&](std::string_view name, std::uint64_t lo, std::uint64_t hi, std::uint64_t fallback) {
    std::string v = get(name);
    if (v.empty()) return fallback;
    std::uint64_t out = 0;
    if (!detail::parse_unsigned(v, lo, hi, out))
      throw config_error(std::string(name) + ": expected a number " + std::to_string(lo) + "-" + std::to_string(hi) +
                         ", got '" + raw(name) + "'");
    return out;
  };

  if (auto p = get("PORT"); !p.empty()) c.port = parse_port("PORT", raw("PORT"));
  if (auto e = get("NODE_ENV"); !e.empty()) c.node_env = e;
  c.production = c.node_env == "production";
  {
    std::string ssl = detail::lower(get("USE_SSL"));
    c.use_ssl = !(ssl.empty() || ssl == "false" || ssl == "0" || ssl == "no" || ssl == "off");
  }
  c.tls_cert_file = get("TLS_CERT_FILE");
  c.tls_key_file = get("TLS_KEY_FILE");

  if (auto s = get("DEFAULT_SOURCE"); !s.empty()) c.default_source = s;
  c.allow_republishing = parse_switch("ALLOW_REPUBLISHING", raw("ALLOW_REPUBLISHING"), false);
  if (auto t = get("SECURITY_TOKEN"); !t.empty()) c.security_token = t;

  // Database: PostgreSQL, MariaDB/MySQL, or the embedded SQLite default.
  c.postgres_url = get("POSTGRES_DATABASE_URL");
  c.mysql_database = get("MYSQL_DATABASE");
  if (!c.postgres_url.empty() && !c.mysql_database.empty())
    throw config_error("POSTGRES_DATABASE_URL and MYSQL_DATABASE are both set: esink watches one database, unset one");
  if (auto h = get("MYSQL_HOST"); !h.empty()) c.mysql_host = h;
  if (auto p = get("MYSQL_PORT"); !p.empty()) c.mysql_port = parse_port("MYSQL_PORT", raw("MYSQL_PORT"), false);
  c.mysql_username = get("MYSQL_USERNAME");
  c.mysql_password = get("MYSQL_PASSWORD");
  if (auto t = get("MYSQL_TABLE_TARGET"); !t.empty()) c.mysql_table_target = t;
  if (auto p = get("ESINK_SQLITE_PATH"); !p.empty()) c.sqlite_path = p;
  if (!c.postgres_url.empty())
    c.database = database_kind::postgres;
  else if (!c.mysql_database.empty())
    c.database = database_kind::mariadb;
  else {
    c.database = database_kind::sqlite;
    // MySQL settings without MYSQL_DATABASE would silently fall back to SQLite.
    for (const char* v : {"MYSQL_HOST", "MYSQL_USERNAME", "MYSQL_PASSWORD"})
      if (!get(v).empty())
        throw config_error(std::string(v) + " is set but MYSQL_DATABASE is not: set MYSQL_DATABASE to use MySQL/MariaDB");
  }
  const char* db_var = c.database == database_kind::postgres ? "POSTGRES_DATABASE_URL"
                       : c.database == database_kind::mariadb ? "MYSQL_DATABASE"
                                                               : "ESINK_SQLITE_PATH";

  c.table_names = get("TABLE_NAMES");
  if (c.table_names.empty()) {
    if (c.database != database_kind::sqlite)
      throw config_error(std::string("TABLE_NAMES: required with ") + db_var + " (comma-separated tables to watch)");
  } else {
    std::error_code ec;
    c.tables = parse_table_list(c.table_names, ec);
    if (ec)
      throw config_error("TABLE_NAMES: expected a comma-separated list of [schema.]table, got '" + raw("TABLE_NAMES") +
                         "'");
  }

  // Authentication.
  c.auth_table = get("AUTH_TABLE");
  c.auth_column = get("AUTH_COLUMN");
  if (!c.auth_table.empty() && c.auth_column.empty())
    throw config_error("AUTH_TABLE is set but AUTH_COLUMN is not: name the column of " + c.auth_table +
                       " that holds the token");
  if (c.auth_table.empty() && !c.auth_column.empty())
    throw config_error("AUTH_COLUMN is set but AUTH_TABLE is not: name the table that holds the tokens");
  if (auto id = get("ESINK_AUTH_ID_COLUMN"); !id.empty()) c.auth_id_column = id;
  c.auth_cache_ttl = std::chrono::milliseconds(number("ESINK_AUTH_CACHE_TTL_MS", 0, 86400000, 5000));
  c.auth_cache_size = number("ESINK_AUTH_CACHE_SIZE", 1, 10000000, 10000);
  c.allow_test_token_in_production = parse_switch("ESINK_ALLOW_TEST_TOKEN", raw("ESINK_ALLOW_TEST_TOKEN"), false);
  c.jwt_secret = get("ESINK_JWT_SECRET");
  if (!c.jwt_secret.empty() && !c.auth_table.empty())
    throw config_error("ESINK_JWT_SECRET and AUTH_TABLE are both set: authenticate with JWTs or with the table, not both");

  c.max_publish_body = number("ESINK_MAX_BODY_BYTES", 64, 64u << 20, 1u << 20);
  c.queue_capacity = number("ESINK_QUEUE_SIZE", 1, 1000000, 4096);

  // Operations.
  c.log_level = c.production ? log::level::warn : log::level::info;
  if (auto l = get("LOG_LEVEL"); !l.empty() && !log::parse_level(l, c.log_level))
    throw config_error("LOG_LEVEL: expected error, warn, info or debug, got '" + raw("LOG_LEVEL") + "'");
  if (auto t = get("METRICS_TOKEN"); !t.empty()) c.metrics_token = t;
  c.shutdown_timeout = std::chrono::milliseconds(number("ESINK_SHUTDOWN_TIMEOUT_MS", 100, 600000, 10000));
  c.static_dir = get("ESINK_STATIC_DIR");
  c.socketio_client_dir = get("ESINK_SOCKETIO_CLIENT_DIR");

  // Routing and filters.
  c.filters = parse_filters(raw("FILTERS"));
  c.routing = parse_routing(raw("TABLE_AUTH_COLUMN_ROUTING"));
  std::string watched;
  for (const auto& t : c.tables) watched += (watched.empty() ? "" : ",") + t.qualified();
  for (const auto& [table, rule] : c.routing) {
    bool found = false;
    for (const auto& t : c.tables) found = found || t.qualified() == table;
    if (!found)
      throw config_error("TABLE_AUTH_COLUMN_ROUTING: table \"" + table + "\" is not watched (TABLE_NAMES: " +
                         (watched.empty() ? std::string("empty") : watched) + ")");
  }
  for (const auto& t : c.tables)
    if (!c.routing.count(t.qualified()))
      c.warnings.push_back("TABLE_AUTH_COLUMN_ROUTING has no rule for table \"" + t.qualified() +
                           "\": its changes are delivered to nobody");

  if (c.auth_table.empty() && c.jwt_secret.empty())
    c.warnings.push_back(c.test_token_allowed()
                             ? "AUTH_TABLE is not set: only the TEST token (user -1) can connect"
                             : "AUTH_TABLE is not set and NODE_ENV=production refuses the TEST token: no client can connect");
  if (!c.security_token)
    c.warnings.push_back("SECURITY_TOKEN is not set: POST /publish answers 403");
  return c;
}

}  // namespace esink

#endif
