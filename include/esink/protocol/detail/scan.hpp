#ifndef ESINK_PROTOCOL_DETAIL_SCAN_HPP
#define ESINK_PROTOCOL_DETAIL_SCAN_HPP

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace esink::protocol::detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Result of @ref scan_decimal.
enum class scan_result { none, ok, overflow };

/// Reads the run of decimal digits at @p pos in @p s into @p value and advances @p pos past it.
///
/// @return `none` when there is no digit at @p pos, `overflow` when the run does not fit in
/// `std::uint64_t` (the whole run is still skipped).
inline scan_result scan_decimal(std::string_view s, std::size_t& pos, std::uint64_t& value) noexcept {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  if (pos >= s.size() || !is_digit(s[pos])) return scan_result::none;
  bool overflow = false;
  std::uint64_t v = 0;
  for (; pos < s.size() && is_digit(s[pos]); ++pos) {
    const auto d = static_cast<std::uint64_t>(s[pos] - '0');
    if (v > (max - d) / 10) overflow = true;
    else v = v * 10 + d;
  }
  value = v;
  return overflow ? scan_result::overflow : scan_result::ok;
}

/// Appends the decimal form of @p v to @p out.
inline void append_decimal(std::string& out, std::uint64_t v) {
  char buf[20];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// Appends @p s as a quoted JSON string (RFC 8259 section 7) to @p out.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace esink::protocol::detail

#endif
