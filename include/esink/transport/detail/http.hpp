#ifndef ESINK_TRANSPORT_DETAIL_HTTP_HPP
#define ESINK_TRANSPORT_DETAIL_HTTP_HPP

#include <esink/error.hpp>
#include <esink/protocol/detail/base64.hpp>

#include <openssl/rand.h>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace esink::detail {

/// Splits a request target into path and query.
inline std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

/// The raw (still percent-encoded) value of `key` in a query string, if present.
inline std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    auto eq = item.find('=');
    if (item.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

/// The JSON body the reference server sends with an Engine.IO handshake error.
inline std::string engine_error_body(error e) {
  int code = 3;
  switch (e) {
    case error::unknown_transport: code = 0; break;
    case error::unknown_sid: code = 1; break;
    case error::bad_handshake_method: code = 2; break;
    case error::forbidden: code = 4; break;
    case error::unsupported_protocol_version: code = 5; break;
    default: code = 3; e = error::bad_request; break;
  }
  return "{\"code\":" + std::to_string(code) + ",\"message\":\"" + make_error_code(e).message() + "\"}";
}

/// An unguessable identifier (120 random bits, base64url): a polling sid is a capability.
inline std::string random_id() {
  std::array<unsigned char, 15> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    thread_local std::mt19937_64 fallback{std::random_device{}()};
    for (auto& b : bytes) b = static_cast<unsigned char>(fallback());
  }
  std::string out;
  protocol::detail::base64_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), out);
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

}  // namespace esink::detail

#endif
