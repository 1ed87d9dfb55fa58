#ifndef ESINK_SERVICE_SERVICE_OPTIONS_HPP
#define ESINK_SERVICE_SERVICE_OPTIONS_HPP

#include <esink/config/service_config.hpp>
#include <esink/log/logger.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace esink {

/// Settings of @ref service; @ref from_config takes them from the environment's settings.
struct service_options {
  /// `source` of published events that name none (DEFAULT_SOURCE).
  std::string default_source = "API";
  /// Whether clients may emit `event` to publish to their own user (ALLOW_REPUBLISHING).
  bool allow_republishing = false;
  /// The secret of `POST /publish` (SECURITY_TOKEN); none disables it (403).
  std::optional<std::string> security_token;
  /// Larger `/publish` bodies are refused with 413.
  std::size_t max_publish_body = 1u << 20;
  /// Events read from the source and not yet handed to the transport.
  std::size_t queue_capacity = 4096;
  /// The Socket.IO namespace served.
  std::string nsp = "/";
  /// One structured line per notable event (source lost or back, client refused, shutdown);
  /// null logs nothing. Default: level `info` on standard error.
  std::shared_ptr<const log::logger> logger = std::make_shared<log::logger>();
  /// The `source` label of the metrics and log lines (`postgres`, `mariadb`, `sqlite`).
  std::string source_name = "source";
  /// Serves `GET /metrics` (Prometheus text format) and `GET /health`.
  bool serve_metrics = true;
  /// When set, `GET /metrics` requires `Authorization: Bearer <token>` (METRICS_TOKEN).
  std::optional<std::string> metrics_token;
  /// Bound of @ref service::stop: delivery of what was read, client disconnects, transport
  /// shutdown (ESINK_SHUTDOWN_TIMEOUT_MS).
  std::chrono::milliseconds shutdown_timeout{10000};

  static service_options from_config(const service_config& c) {
    service_options o;
    o.default_source = c.default_source;
    o.allow_republishing = c.allow_republishing;
    o.security_token = c.security_token;
    o.max_publish_body = c.max_publish_body;
    o.queue_capacity = c.queue_capacity;
    o.logger = std::make_shared<log::logger>(c.log_level);
    o.source_name = c.database == database_kind::postgres ? "postgres"
                    : c.database == database_kind::mariadb ? "mariadb"
                                                            : "sqlite";
    o.metrics_token = c.metrics_token;
    o.shutdown_timeout = c.shutdown_timeout;
    return o;
  }
};

}  // namespace esink

#endif
