#ifndef ESINK_PROTOCOL_ENGINEIO_SERIALIZER_HPP
#define ESINK_PROTOCOL_ENGINEIO_SERIALIZER_HPP

#include <esink/protocol/detail/base64.hpp>
#include <esink/protocol/detail/scan.hpp>
#include <esink/protocol/engineio/packet.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace esink::protocol::engineio {

/// Appends the text form "<type><data>" of a packet to @p out (a WebSocket text frame, or one
/// packet of a long-polling payload).
inline void append_packet(std::string& out, packet_type t, std::string_view data = {}) {
  out.reserve(out.size() + 1 + data.size());
  out.push_back(to_char(t));
  out.append(data);
}

/// Appends a binary MESSAGE for a long-polling payload: "b" + base64(bytes)
/// (engine.io-protocol, "Packet encoding > HTTP long-polling").
inline void append_binary_packet_for_payload(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + 1 + protocol::detail::base64_encoded_size(bytes.size()));
  out.push_back(binary_prefix);
  protocol::detail::base64_encode(bytes, out);
}

/// Appends @ref record_separator when @p out already holds a packet; call before each packet
/// of a long-polling payload.
inline void append_separator_if_needed(std::string& out) {
  if (!out.empty()) out.push_back(record_separator);
}

/// The JSON body of the OPEN packet, without the leading '0' (engine.io-protocol,
/// "Handshake"): {"sid":..,"upgrades":[..],"pingInterval":..,"pingTimeout":..,"maxPayload":..}.
inline std::string open_payload(std::string_view sid, bool can_upgrade_to_websocket,
                                unsigned ping_interval_ms, unsigned ping_timeout_ms,
                                std::size_t max_payload) {
  std::string out;
  out.reserve(96 + sid.size());
  out += "{\"sid\":";
  protocol::detail::append_json_string(out, sid);
  out += can_upgrade_to_websocket ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]";
  out += ",\"pingInterval\":";
  protocol::detail::append_decimal(out, ping_interval_ms);
  out += ",\"pingTimeout\":";
  protocol::detail::append_decimal(out, ping_timeout_ms);
  out += ",\"maxPayload\":";
  protocol::detail::append_decimal(out, max_payload);
  out.push_back('}');
  return out;
}

}  // namespace esink::protocol::engineio

#endif
