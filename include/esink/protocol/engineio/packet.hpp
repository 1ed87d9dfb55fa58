#ifndef ESINK_PROTOCOL_ENGINEIO_PACKET_HPP
#define ESINK_PROTOCOL_ENGINEIO_PACKET_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace esink::protocol::engineio {

/// Engine.IO v4 packet types (engine.io-protocol, "Protocol > Packet").
enum class packet_type : std::uint8_t { open = 0, close, ping, pong, message, upgrade, noop };

/// Number of packet types; valid values are `0 .. packet_type_count - 1`.
inline constexpr std::uint8_t packet_type_count = 7;

/// Separates packets in an HTTP long-polling payload ("Packet encoding > HTTP long-polling").
inline constexpr char record_separator = '\x1e';

/// Prefix of a base64-encoded binary packet in a long-polling payload.
inline constexpr char binary_prefix = 'b';

/// The wire character of @p t.
constexpr char to_char(packet_type t) noexcept { return static_cast<char>('0' + static_cast<int>(t)); }

/// One decoded Engine.IO packet.
///
/// `data` views either the caller's input or a parser-owned buffer; see the function that
/// produced it for how long it stays valid.
struct packet {
  packet_type type = packet_type::message;
  bool binary = false;    ///< `data` holds raw bytes (binary message), not text.
  std::string_view data;  ///< Everything after the type character, or the decoded bytes.
};

/// Hard limits applied by the parsers; defaults match the reference server.
struct limits {
  std::size_t max_payload = 1000000;  ///< Largest frame or polling body, in bytes (`maxPayload`).
  std::size_t max_packets = 10000;    ///< Most packets in one polling body.
};

}  // namespace esink::protocol::engineio

#endif
