#ifndef ESINK_PROTOCOL_DETAIL_BASE64_HPP
#define ESINK_PROTOCOL_DETAIL_BASE64_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace esink::protocol::detail {

/// Size of the base64 encoding of @p n bytes, padding included.
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Appends the base64 encoding (RFC 4648 section 4, standard alphabet, padded) of @p in to @p out.
inline void base64_encode(std::string_view in, std::string& out) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::size_t start = out.size();
  out.resize(start + base64_encoded_size(in.size()));
  char* o = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  for (; n >= 3; n -= 3, p += 3) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
    *o++ = alphabet[v & 63];
  }
  if (n > 0) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (n == 2 ? std::uint32_t{p[1]} << 8 : 0u);
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = n == 2 ? alphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

/// Value of one base64 character, or -1 when it is not in the standard alphabet.
constexpr int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Size of the bytes @p in decodes to, or `std::size_t(-1)` when @p in is not valid base64.
///
/// Valid means: standard alphabet, length a multiple of 4, at most two `=` and only at the
/// end. Unused trailing bits are ignored, as Node's `Buffer.from(s, "base64")` does.
inline std::size_t base64_decoded_size(std::string_view in) noexcept {
  constexpr auto invalid = static_cast<std::size_t>(-1);
  if (in.size() % 4 != 0) return invalid;
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < in.size() - pad; ++i)
    if (base64_value(in[i]) < 0) return invalid;
  return in.size() / 4 * 3 - pad;
}

/// Appends the bytes encoded by @p in to @p out.
///
/// @return false, leaving @p out unchanged, when @p in is not valid base64 (see
/// @ref base64_decoded_size).
inline bool base64_decode(std::string_view in, std::string& out) {
  const std::size_t size = base64_decoded_size(in);
  if (size == static_cast<std::size_t>(-1)) return false;
  const std::size_t start = out.size();
  out.resize(start + size);
  char* o = out.data() + start;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<std::uint32_t>(base64_value(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace esink::protocol::detail

#endif
