#ifndef ESINK_LOG_CONFIG_SUMMARY_HPP
#define ESINK_LOG_CONFIG_SUMMARY_HPP

#include <esink/config/service_config.hpp>
#include <esink/log/logger.hpp>
#include <esink/log/mask.hpp>

#include <string>

namespace esink::log {

/// Logs the settings at `info` as one `msg=configuration` line. Secrets are masked: the
/// password of POSTGRES_DATABASE_URL, MYSQL_PASSWORD, SECURITY_TOKEN, ESINK_JWT_SECRET and
/// METRICS_TOKEN appear as `***` (or `unset`), never in part.
inline void config_summary(const logger& l, const service_config& c) {
  if (!l.enabled(level::info)) return;
  const char* db = c.database == database_kind::postgres ? "postgres"
                   : c.database == database_kind::mariadb ? "mariadb"
                                                           : "sqlite";
  std::string location = c.database == database_kind::postgres ? mask_url(c.postgres_url)
                         : c.database == database_kind::mariadb
                             ? c.mysql_username + "@" + c.mysql_host + ":" + std::to_string(c.mysql_port) + "/" +
                                   c.mysql_database
                             : c.sqlite_path;
  const char* auth = !c.jwt_secret.empty() ? "jwt" : !c.auth_table.empty() ? "table" : "test-token-only";
  l.info("configuration",
         {{"port", static_cast<unsigned>(c.port)},
          {"node_env", c.node_env},
          {"tls", c.use_ssl},
          {"database", db},
          {"location", location},
          {"mysql_password", c.database == database_kind::mariadb ? mask_secret(c.mysql_password) : "unused"},
          {"tables", c.table_names},
          {"auth", auth},
          {"auth_table", c.auth_table.empty() ? std::string() : c.auth_table + "." + c.auth_column},
          {"jwt_secret", mask_secret(c.jwt_secret)},
          {"test_token", c.test_token_allowed()},
          {"security_token", mask_secret(c.security_token ? *c.security_token : std::string())},
          {"metrics_token", mask_secret(c.metrics_token ? *c.metrics_token : std::string())},
          {"allow_republishing", c.allow_republishing},
          {"default_source", c.default_source},
          {"queue_size", c.queue_capacity},
          {"max_body_bytes", c.max_publish_body},
          {"shutdown_timeout_ms", static_cast<std::int64_t>(c.shutdown_timeout.count())},
          {"log_level", to_string(c.log_level)}});
}

}  // namespace esink::log

#endif
