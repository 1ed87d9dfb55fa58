#ifndef ESINK_PROTOCOL_ENGINEIO_PARSER_HPP
#define ESINK_PROTOCOL_ENGINEIO_PARSER_HPP

#include <esink/error.hpp>
#include <esink/protocol/detail/base64.hpp>
#include <esink/protocol/engineio/packet.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace esink::protocol::engineio {

namespace detail {

// Decodes "<type>[<data>]" (engine.io-protocol, "Packet encoding"); no size check.
inline packet parse_text_packet(std::string_view text, std::error_code& ec) noexcept {
  if (text.empty()) {
    ec = esink::error::empty_packet;
    return {};
  }
  const auto t = static_cast<unsigned char>(text[0] - '0');
  if (t >= packet_type_count) {
    ec = esink::error::bad_packet_type;
    return {};
  }
  ec = {};
  return {static_cast<packet_type>(t), false, text.substr(1)};
}

}  // namespace detail

/// Parses one WebSocket text frame: one frame holds one packet, "<type>[<data>]".
///
/// @param frame the whole frame.
/// @param ec set to `empty_packet`, `bad_packet_type` or `payload_too_large`; cleared on success.
/// @return the packet; its `data` views @p frame. A default packet on error.
///
/// A base64 `b` packet is not accepted here: WebSocket carries binary packets in binary frames
/// (engine.io-protocol, "Packet encoding > WebSocket").
inline packet parse_text_frame(std::string_view frame, std::error_code& ec,
                               const limits& lim = {}) noexcept {
  if (frame.size() > lim.max_payload) {
    ec = esink::error::payload_too_large;
    return {};
  }
  return detail::parse_text_packet(frame, ec);
}

/// Parses one WebSocket binary frame: always a MESSAGE whose bytes are the whole frame.
inline packet parse_binary_frame(std::string_view frame) noexcept {
  return {packet_type::message, true, frame};
}

/// Parses a complete HTTP long-polling body: packets separated by @ref record_separator,
/// binary packets as `b` + base64 (engine.io-protocol, "Packet encoding > HTTP long-polling").
///
/// The whole body is validated first; on error @p h is called for none of the packets.
///
/// @tparam Handler callable as `h(const packet&)`. Each packet's `data` is valid only during
/// the call; binary packets have `binary == true` and hold the decoded bytes.
/// @param ec set to `payload_too_large`, `too_many_packets`, `empty_packet`, `bad_packet_type`
/// or `bad_base64`; cleared on success.
/// @return `body.size()` on success, 0 on error.
template <class Handler>
std::size_t parse_payload(std::string_view body, Handler&& h, std::error_code& ec,
                          const limits& lim = {}) {
  static_assert(std::is_invocable_v<Handler&, const packet&>,
                "Handler: missing `operator()(const engineio::packet&)`");
  if (body.size() > lim.max_payload) {
    ec = esink::error::payload_too_large;
    return 0;
  }
  // Pass 1: validate every packet, so a bad body delivers nothing.
  std::size_t count = 0;
  bool any_binary = false;
  for (std::size_t pos = 0;;) {
    std::size_t end = body.find(record_separator, pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view one = body.substr(pos, end - pos);
    if (++count > lim.max_packets) {
      ec = esink::error::too_many_packets;
      return 0;
    }
    if (!one.empty() && one[0] == binary_prefix) {
      if (protocol::detail::base64_decoded_size(one.substr(1)) == static_cast<std::size_t>(-1)) {
        ec = esink::error::bad_base64;
        return 0;
      }
      any_binary = true;
    } else {
      detail::parse_text_packet(one, ec);
      if (ec) return 0;
    }
    if (end == body.size()) break;
    pos = end + 1;
  }
  // Pass 2: deliver. One scratch buffer, reused, and only when binary packets are present.
  std::string scratch;
  if (any_binary) scratch.reserve(body.size() / 4 * 3);
  for (std::size_t pos = 0;;) {
    std::size_t end = body.find(record_separator, pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view one = body.substr(pos, end - pos);
    if (one[0] == binary_prefix) {
      scratch.clear();
      protocol::detail::base64_decode(one.substr(1), scratch);
      const packet p{packet_type::message, true, scratch};
      h(p);
    } else {
      const packet p{static_cast<packet_type>(one[0] - '0'), false, one.substr(1)};
      h(p);
    }
    if (end == body.size()) break;
    pos = end + 1;
  }
  ec = {};
  return body.size();
}

}  // namespace esink::protocol::engineio

#endif
