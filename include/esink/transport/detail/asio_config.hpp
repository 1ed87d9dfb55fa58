#ifndef ESINK_TRANSPORT_DETAIL_ASIO_CONFIG_HPP
#define ESINK_TRANSPORT_DETAIL_ASIO_CONFIG_HPP

#include <websocketpp/config/asio.hpp>
#include <websocketpp/config/asio_no_tls.hpp>

#include <memory>

namespace esink::detail {

/// Per-connection slot for the Engine.IO session a WebSocket connection belongs to, so a
/// frame finds its session without a map lookup.
struct ws_connection_slot {
  std::shared_ptr<void> session;
  bool probe = false;  ///< The connection is an upgrade probe, not yet the session's transport.
  bool counted = false;  ///< Counted as an open WebSocket (for a graceful stop).
  bool http_handled = false;  ///< The HTTP request was complete and handled.
};

/// websocketpp configuration over `Base` (plain or TLS Asio): multi-threaded, our connection
/// slot, limits and timeouts of our own.
template <class Base> struct asio_config : Base {
  using type = asio_config;
  using connection_base = ws_connection_slot;
  static const std::size_t max_message_size = 100000000;
  static const long timeout_open_handshake = 10000;
  static const long timeout_close_handshake = 3000;
  // websocketpp keeps this read buffer inside every connection object (16 KiB by default).
  // Clients send little (pongs, small events, handshakes of a few hundred bytes); a larger
  // message or polling body is read in several chunks.
  static const std::size_t connection_read_buffer_size = 2048;
  struct transport_config : Base::transport_config {};
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

/// Plain TCP.
using plain_config = asio_config<websocketpp::config::asio>;
/// TLS (HTTPS polling and WSS).
using tls_config = asio_config<websocketpp::config::asio_tls>;

}  // namespace esink::detail

#endif
