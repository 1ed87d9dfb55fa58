#ifndef ESINK_SERVICE_DETAIL_TOKEN_HPP
#define ESINK_SERVICE_DETAIL_TOKEN_HPP

#include <esink/transport/socket.hpp>

#include <string>
#include <string_view>

namespace esink::detail {

/// `%XX` and `+` decoding of one query value.
inline std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else out += s[i];
  }
  return out;
}

/// The client's token: `auth.token` of the CONNECT packet (socket.io-client v3+), else the
/// `token` query parameter of the handshake (older clients). Empty when there is none.
inline std::string token_of(const handshake& hs) {
  if (hs.auth.is_object())
    if (auto t = hs.auth.get_object().if_contains("token"); t && t->is_string()) return std::string(t->get_string());
  std::string_view q = hs.query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    if (kv.substr(0, 6) == "token=") return percent_decode(kv.substr(6));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace esink::detail

#endif
