#ifndef ESINK_TRANSPORT_DETAIL_WS_READER_HPP
#define ESINK_TRANSPORT_DETAIL_WS_READER_HPP

#include <websocketpp/utf8_validator.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace esink::detail {

/// Reads the frames a WebSocket client sends (RFC 6455 §5), incrementally and strictly, and
/// hands back whole messages and control frames. A peer that breaks the protocol gets the
/// status the RFC names for it (§7.4.1): 1002 for framing, 1007 for text that is not UTF-8,
/// 1009 for a message over the limit — decided from the header, before its payload is read.
///
/// No extension is negotiated, so the RSV bits must be clear; client frames must be masked.
class ws_reader {
public:
  enum class event {
    none,    ///< Need more bytes.
    text,    ///< A complete text message (valid UTF-8) in message().
    binary,  ///< A complete binary message in message().
    ping,    ///< A ping; its payload in control().
    pong,    ///< A pong; its payload in control().
    close,   ///< A close frame: close_code() (1005 when it had none), close_reason().
    error,   ///< The peer broke the protocol: error_code(), error_reason(). Sticky.
  };

  explicit ws_reader(std::size_t max_message) : max_message_(max_message) {}

  /// Consumes bytes from `data` until one event is complete or the bytes run out; returns how
  /// many it consumed. Call again with the rest after handling the event.
  std::size_t consume(const char* data, std::size_t n, event& ev) {
    ev = event::none;
    std::size_t used = 0;
    while (used < n) {
      if (failed_) {
        ev = event::error;
        return used;
      }
      if (in_header_) {
        const std::size_t want = header_size();
        std::size_t take = std::min(want - have_, n - used);
        for (std::size_t i = 0; i < take; ++i) header_[have_ + i] = static_cast<std::uint8_t>(data[used + i]);
        const bool first_two = have_ < 2 && have_ + take >= 2;
        have_ += take;
        used += take;
        // Judge the first two bytes at once: an unmasked or reserved frame is refused without
        // waiting for bytes that a broken client may never send.
        if (first_two && !check_first_two()) {
          ev = event::error;
          return used;
        }
        // The size depends on the first two bytes: check it again once they are in.
        if (have_ < header_size()) continue;
        if (!parse_header()) {
          ev = event::error;
          return used;
        }
        if (remaining_ == 0) {
          ev = finish_frame();
          if (ev != event::none) return used;
        }
        continue;
      }
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - used));
      std::string& out = control_frame() ? control_ : message_;
      const std::size_t at = out.size();
      out.append(data + used, take);
      for (std::size_t i = 0; i < take; ++i) out[at + i] = static_cast<char>(out[at + i] ^ mask_[(mask_at_ + i) & 3]);
      mask_at_ = (mask_at_ + take) & 3;
      if (!control_frame() && message_op_ == 1 &&
          !utf8_.decode(message_.begin() + static_cast<std::ptrdiff_t>(at), message_.end()))
        return fail(1007, "invalid UTF-8 in a text message", used + take, ev);
      used += take;
      remaining_ -= take;
      if (remaining_ == 0) {
        ev = finish_frame();
        if (ev != event::none) return used;
      }
    }
    if (failed_) ev = event::error;
    return used;
  }

  /// The last text or binary message. Yours to move from or clear.
  std::string& message() noexcept { return message_; }
  /// The payload of the last ping or pong.
  const std::string& control() const noexcept { return control_; }
  std::uint16_t close_code() const noexcept { return close_code_; }
  std::string_view close_reason() const noexcept {
    return control_.size() > 2 ? std::string_view(control_).substr(2) : std::string_view();
  }
  std::uint16_t error_code() const noexcept { return error_code_; }
  const char* error_reason() const noexcept { return error_reason_; }

  /// Frees the message buffer once it grew beyond what an idle connection should keep.
  void release_message(std::size_t keep = 1024) {
    if (message_.capacity() > keep)
      std::string().swap(message_);
    else
      message_.clear();
  }

  /// Whether a close code received from a peer is one it may send (RFC 6455 §7.4, IANA registry).
  static bool valid_close_code(std::uint16_t c) noexcept {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
  }

private:
  bool control_frame() const noexcept { return (opcode_ & 0x8) != 0; }

  std::size_t header_size() const noexcept {
    if (have_ < 2) return 2;
    const std::uint8_t len = header_[1] & 0x7f;
    return 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + 4;
  }

  std::size_t fail(std::uint16_t code, const char* reason, std::size_t used, event& ev) {
    failed_ = true;
    error_code_ = code;
    error_reason_ = reason;
    ev = event::error;
    return used;
  }

  bool fail(std::uint16_t code, const char* reason) {
    failed_ = true;
    error_code_ = code;
    error_reason_ = reason;
    return false;
  }

  bool check_first_two() {
    const std::uint8_t b0 = header_[0], b1 = header_[1];
    const std::uint8_t op = b0 & 0x0f;
    if (b0 & 0x70) return fail(1002, "reserved bits set without an extension");
    if (!(b1 & 0x80)) return fail(1002, "client frame not masked");
    if ((op >= 0x3 && op <= 0x7) || op >= 0xB) return fail(1002, "reserved opcode");
    if (op & 0x8) {
      if (!(b0 & 0x80)) return fail(1002, "fragmented control frame");
      if ((b1 & 0x7f) > 125) return fail(1002, "control frame payload over 125 bytes");
    }
    return true;
  }

  bool parse_header() {
    const std::uint8_t b0 = header_[0], b1 = header_[1];
    in_header_ = false;
    fin_ = (b0 & 0x80) != 0;
    opcode_ = b0 & 0x0f;
    std::uint64_t len = b1 & 0x7f;
    std::size_t at = 2;
    if (len == 126) {
      len = (std::uint64_t(header_[2]) << 8) | header_[3];
      at = 4;
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
      if (len >> 63) return fail(1002, "frame length with the most significant bit set");
      at = 10;
    }
    for (int i = 0; i < 4; ++i) mask_[i] = header_[at + i];
    mask_at_ = 0;
    remaining_ = len;
    switch (opcode_) {
      case 0x0:
        if (!in_message_) return fail(1002, "continuation frame without a message");
        break;
      case 0x1:
      case 0x2:
        if (in_message_) return fail(1002, "new message before the previous one finished");
        in_message_ = true;
        message_op_ = opcode_;
        message_.clear();
        utf8_.reset();
        break;
      case 0x8:
      case 0x9:
      case 0xA:
        control_.clear();  // FIN and length were checked with the first two bytes
        return true;
      default: return fail(1002, "reserved opcode");
    }
    if (len > max_message_ || message_.size() + len > max_message_) return fail(1009, "message too big");
    // Grow once for the frame rather than on every read, but not on a header's word alone
    // beyond 64 KiB: a client that announces a large frame and stalls should not cost that.
    message_.reserve(message_.size() + static_cast<std::size_t>(std::min<std::uint64_t>(len, 64 * 1024)));
    return true;
  }

  event finish_frame() {
    in_header_ = true;
    have_ = 0;
    switch (opcode_) {
      case 0x8: {
        if (control_.size() == 1) return fail(1002, "close frame with a one-byte payload"), event::error;
        close_code_ = 1005;
        if (control_.size() >= 2) {
          close_code_ = static_cast<std::uint16_t>((std::uint8_t(control_[0]) << 8) | std::uint8_t(control_[1]));
          if (!valid_close_code(close_code_)) return fail(1002, "invalid close code"), event::error;
          if (!websocketpp::utf8_validator::validate(std::string(close_reason())))
            return fail(1007, "invalid UTF-8 in a close reason"), event::error;
        }
        return event::close;
      }
      case 0x9: return event::ping;
      case 0xA: return event::pong;
      default: break;
    }
    if (!fin_) return event::none;
    in_message_ = false;
    if (message_op_ == 1) {
      if (!utf8_.complete()) return fail(1007, "text message ends inside a UTF-8 sequence"), event::error;
      return event::text;
    }
    return event::binary;
  }

  const std::size_t max_message_;
  std::uint8_t header_[14] = {};
  std::size_t have_ = 0;
  bool in_header_ = true;
  bool fin_ = false;
  std::uint8_t opcode_ = 0;
  std::uint8_t mask_[4] = {};
  std::size_t mask_at_ = 0;
  std::uint64_t remaining_ = 0;
  bool in_message_ = false;
  std::uint8_t message_op_ = 0;
  std::string message_;
  std::string control_;
  websocketpp::utf8_validator::validator utf8_;
  std::uint16_t close_code_ = 1005;
  bool failed_ = false;
  std::uint16_t error_code_ = 0;
  const char* error_reason_ = "";
};

}  // namespace esink::detail

#endif
