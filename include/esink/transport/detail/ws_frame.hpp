#ifndef ESINK_TRANSPORT_DETAIL_WS_FRAME_HPP
#define ESINK_TRANSPORT_DETAIL_WS_FRAME_HPP

#include <cstdint>
#include <string>

namespace esink::detail {

/// The header of an unmasked, final WebSocket frame (RFC 6455 §5.2) as a server sends it.
/// Server frames carry no mask, so one encoded frame is valid for every recipient.
inline std::string ws_frame_header(bool binary, std::uint64_t length) {
  std::string h;
  h.reserve(10);
  h.push_back(static_cast<char>(0x80 | (binary ? 0x2 : 0x1)));
  if (length < 126) {
    h.push_back(static_cast<char>(length));
  } else if (length <= 0xffff) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>((length >> 8) & 0xff));
    h.push_back(static_cast<char>(length & 0xff));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) h.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  return h;
}

}  // namespace esink::detail

#endif
