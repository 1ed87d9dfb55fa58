#ifndef ESINK_TRANSPORT_SERVER_OPTIONS_HPP
#define ESINK_TRANSPORT_SERVER_OPTIONS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace esink {

/// Settings of the Socket.IO server. Defaults are those of the Node reference server.
struct server_options {
  /// Address to listen on; empty means every interface.
  std::string address;
  /// TCP port; 0 picks a free one (see `local_port()`).
  std::uint16_t port = 80;
  /// Path of the Socket.IO endpoint (Engine.IO `path`), with leading and trailing slash.
  std::string path = "/socket.io/";
  /// Engine.IO heartbeat (protocol v4 §"Heartbeat"): the server pings every interval and
  /// closes the session when no pong arrives within the timeout.
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  /// A session that has not joined any namespace by then is closed (socket.io `connectTimeout`).
  std::chrono::milliseconds connect_timeout{45000};
  /// An upgrade probe that does not complete in this time is abandoned.
  std::chrono::milliseconds upgrade_timeout{10000};
  /// Largest Engine.IO packet or polling payload accepted (`maxPayload`); larger input closes
  /// the session that sent it.
  std::size_t max_payload = 1000000;
  /// Outgoing bytes buffered for one connection before it counts as a consumer that stopped
  /// reading and is disconnected, so a stalled client cannot grow server memory.
  std::size_t max_outgoing_bytes = 16u << 20;
  /// Binary attachments per Socket.IO packet and JSON nesting depth accepted from clients.
  std::size_t max_attachments = 10;
  std::size_t max_json_depth = 32;
  /// Browser origins allowed by CORS. Empty: any origin (`Access-Control-Allow-Origin: *`).
  /// Otherwise only these origins, echoed back with credentials allowed; others get 403.
  std::vector<std::string> cors_origins;
  /// Whether polling sessions are offered the WebSocket upgrade.
  bool allow_upgrades = true;
  /// I/O threads; 0 means one per hardware thread.
  unsigned threads = 0;
  /// PEM certificate chain and private key, used by `tls_server` only. A missing or
  /// unreadable file fails `start` with @ref error::bad_config.
  std::string tls_cert_file;
  std::string tls_key_file;
};

}  // namespace esink

#endif
