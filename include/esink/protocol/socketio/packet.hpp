#ifndef ESINK_PROTOCOL_SOCKETIO_PACKET_HPP
#define ESINK_PROTOCOL_SOCKETIO_PACKET_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace esink::protocol::socketio {

/// Socket.IO v5 packet types (socket.io-protocol, "Exchange protocol").
enum class packet_type : std::uint8_t {
  connect = 0,
  disconnect,
  event,
  ack,
  connect_error,
  binary_event,
  binary_ack
};

/// Number of packet types; valid values are `0 .. packet_type_count - 1`.
inline constexpr std::uint8_t packet_type_count = 7;

/// The wire character of @p t.
constexpr char to_char(packet_type t) noexcept { return static_cast<char>('0' + static_cast<int>(t)); }

/// Whether @p t carries binary attachments and so the "<n>-" header field.
constexpr bool is_binary(packet_type t) noexcept {
  return t == packet_type::binary_event || t == packet_type::binary_ack;
}

/// The header fields of one Socket.IO packet, viewing the parsed text.
struct packet {
  packet_type type = packet_type::event;
  std::size_t attachments = 0;      ///< binary_* only: the "<n>-" count.
  std::string_view nsp = "/";       ///< "/" when absent.
  std::optional<std::uint64_t> id;  ///< Ack id.
  std::string_view data;            ///< Raw JSON text after the header; may be empty.
};

/// Hard limits applied by the parsers; defaults match the reference parser where it has one.
struct limits {
  std::size_t max_attachments = 10;        ///< socket.io-parser `maxAttachments`.
  std::size_t max_depth = 32;              ///< JSON nesting.
  std::size_t max_namespace_length = 256;  ///< Bytes, leading '/' included.
};

}  // namespace esink::protocol::socketio

#endif
