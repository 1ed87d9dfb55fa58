#ifndef ESINK_ERROR_HPP
#define ESINK_ERROR_HPP

#include <string>
#include <system_error>
#include <type_traits>

namespace esink {

/// Specific error codes reported by esink parsers, transports, sources and the service.
///
/// Compare against @ref condition for coarse handling (protocol violation, unauthorized, ...).
enum class error {
  success = 0,

  // Parsing (protocol/)
  need_more,              ///< Input is incomplete; feed more bytes.
  empty_packet,           ///< A packet with no type character.
  bad_packet_type,        ///< Unknown packet type.
  bad_base64,             ///< Invalid base64 in a `b`-prefixed polling packet.
  bad_namespace,          ///< Namespace does not start with `/` or is malformed.
  bad_ack_id,             ///< Ack id is not a decimal number or overflows.
  bad_attachment_count,   ///< Attachment count missing, malformed or over the limit.
  bad_json,               ///< Packet data is not valid JSON.
  bad_event,              ///< EVENT payload is not a non-empty array starting with a string.
  bad_placeholder,        ///< Binary placeholder refers to a missing attachment.
  unexpected_binary,      ///< Binary message where none was expected.
  missing_payload,        ///< Packet type requires a payload and has none.
  unexpected_payload,     ///< Packet type must not carry a payload.
  too_deep,               ///< JSON nesting deeper than the limit.
  payload_too_large,      ///< Packet or payload over maxPayload.
  too_many_packets,       ///< Polling payload holds more packets than allowed.

  // Engine.IO handshake / transport (the reference server's error codes)
  unknown_transport,      ///< `transport` is neither `polling` nor `websocket`.
  unknown_sid,            ///< No session with that sid.
  bad_handshake_method,   ///< Handshake request with a method other than GET.
  bad_request,            ///< Anything else wrong with the request.
  forbidden,              ///< Rejected by the origin allow-list.
  unsupported_protocol_version, ///< `EIO` is not 4.
  duplicate_poll,         ///< A second GET while one is already pending.
  ping_timeout,           ///< The peer did not answer a ping in time.
  transport_closed,       ///< The underlying connection closed.
  transport_error,        ///< The underlying connection failed.
  slow_consumer,          ///< Outgoing buffer over its limit: the peer stopped reading.
  server_shutting_down,   ///< The server is stopping.

  // Socket.IO
  invalid_namespace,      ///< CONNECT to a namespace the server does not serve.
  not_connected,          ///< Packet for a namespace the socket has not joined.
  connection_rejected,    ///< The connection hook refused the handshake.

  // Sources
  source_unavailable,     ///< The database cannot be reached (retryable).
  source_fatal,           ///< The database refused in a way retrying will not fix.
  unknown_table,          ///< A watched table does not exist.
  queue_full,             ///< A bounded queue refused an item.

  // Auth and service
  unauthorized,           ///< Token unknown or invalid.
  bad_config,             ///< A configuration value is invalid.
  invalid_parameter,      ///< A request parameter is missing or invalid.
};

/// Coarse categories of @ref error, for handling by kind rather than by cause.
enum class condition {
  protocol_violation = 1,
  unauthorized,
  source_unavailable,
  limit_exceeded,
  transport_failure,
};

namespace detail {

class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "esink"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::success: return "success";
      case error::need_more: return "input is incomplete";
      case error::empty_packet: return "empty packet";
      case error::bad_packet_type: return "unknown packet type";
      case error::bad_base64: return "invalid base64 in binary packet";
      case error::bad_namespace: return "malformed namespace";
      case error::bad_ack_id: return "malformed ack id";
      case error::bad_attachment_count: return "malformed or excessive attachment count";
      case error::bad_json: return "packet data is not valid JSON";
      case error::bad_event: return "event payload must be an array starting with the event name";
      case error::bad_placeholder: return "binary placeholder refers to a missing attachment";
      case error::unexpected_binary: return "unexpected binary message";
      case error::missing_payload: return "packet requires a payload";
      case error::unexpected_payload: return "packet must not carry a payload";
      case error::too_deep: return "JSON nesting too deep";
      case error::payload_too_large: return "payload over maxPayload";
      case error::too_many_packets: return "too many packets in payload";
      case error::unknown_transport: return "Transport unknown";
      case error::unknown_sid: return "Session ID unknown";
      case error::bad_handshake_method: return "Bad handshake method";
      case error::bad_request: return "Bad request";
      case error::forbidden: return "Forbidden";
      case error::unsupported_protocol_version: return "Unsupported protocol version";
      case error::duplicate_poll: return "overlapping GET requests for one session";
      case error::ping_timeout: return "ping timeout";
      case error::transport_closed: return "transport close";
      case error::transport_error: return "transport error";
      case error::slow_consumer: return "outgoing buffer limit exceeded";
      case error::server_shutting_down: return "server shutting down";
      case error::invalid_namespace: return "Invalid namespace";
      case error::not_connected: return "namespace not connected";
      case error::connection_rejected: return "connection rejected";
      case error::source_unavailable: return "database unavailable";
      case error::source_fatal: return "database error";
      case error::unknown_table: return "unknown table";
      case error::queue_full: return "queue full";
      case error::unauthorized: return "Unauthorized";
      case error::bad_config: return "invalid configuration";
      case error::invalid_parameter: return "invalid parameter";
    }
    return "unknown esink error";
  }

  bool equivalent(int ev, const std::error_condition& cond) const noexcept override;
};

class condition_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "esink.condition"; }
  std::string message(int ev) const override {
    switch (static_cast<condition>(ev)) {
      case condition::protocol_violation: return "protocol violation";
      case condition::unauthorized: return "unauthorized";
      case condition::source_unavailable: return "source unavailable";
      case condition::limit_exceeded: return "limit exceeded";
      case condition::transport_failure: return "transport failure";
    }
    return "unknown esink condition";
  }
};

}  // namespace detail

/// The category of @ref error.
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl cat;
  return cat;
}

/// The category of @ref condition.
inline const std::error_category& condition_category() noexcept {
  static const detail::condition_category_impl cat;
  return cat;
}

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

inline bool detail::error_category_impl::equivalent(
    int ev, const std::error_condition& cond) const noexcept {
  if (cond.category() != condition_category()) return false;
  switch (static_cast<condition>(cond.value())) {
    case condition::protocol_violation:
      return (ev >= static_cast<int>(error::empty_packet) &&
              ev <= static_cast<int>(error::too_deep)) ||
             (ev >= static_cast<int>(error::unknown_transport) &&
              ev <= static_cast<int>(error::duplicate_poll)) ||
             ev == static_cast<int>(error::invalid_namespace) ||
             ev == static_cast<int>(error::not_connected) ||
             ev == static_cast<int>(error::invalid_parameter);
    case condition::unauthorized:
      return ev == static_cast<int>(error::unauthorized) ||
             ev == static_cast<int>(error::forbidden) ||
             ev == static_cast<int>(error::connection_rejected);
    case condition::source_unavailable:
      return ev == static_cast<int>(error::source_unavailable) ||
             ev == static_cast<int>(error::source_fatal) ||
             ev == static_cast<int>(error::unknown_table);
    case condition::limit_exceeded:
      return ev == static_cast<int>(error::payload_too_large) ||
             ev == static_cast<int>(error::too_many_packets) ||
             ev == static_cast<int>(error::too_deep) ||
             ev == static_cast<int>(error::bad_attachment_count) ||
             ev == static_cast<int>(error::slow_consumer) ||
             ev == static_cast<int>(error::queue_full);
    case condition::transport_failure:
      return ev == static_cast<int>(error::ping_timeout) ||
             ev == static_cast<int>(error::transport_closed) ||
             ev == static_cast<int>(error::transport_error) ||
             ev == static_cast<int>(error::server_shutting_down);
  }
  return false;
}

}  // namespace esink

namespace std {
template <> struct is_error_code_enum<esink::error> : true_type {};
template <> struct is_error_condition_enum<esink::condition> : true_type {};
}  // namespace std

#endif
