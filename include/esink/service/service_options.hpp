#ifndef ESINK_SERVICE_SERVICE_OPTIONS_HPP
#define ESINK_SERVICE_SERVICE_OPTIONS_HPP

#include <esink/config/service_config.hpp>

#include <cstddef>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

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
  /// One line per notable event (source lost or back); default: standard error.
  std::function<void(std::string_view)> log = [](std::string_view line) { std::cerr << line << std::endl; };

  static service_options from_config(const service_config& c) {
    service_options o;
    o.default_source = c.default_source;
    o.allow_republishing = c.allow_republishing;
    o.security_token = c.security_token;
    o.max_publish_body = c.max_publish_body;
    o.queue_capacity = c.queue_capacity;
    return o;
  }
};

}  // namespace esink

#endif
