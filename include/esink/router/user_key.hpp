#ifndef ESINK_ROUTER_USER_KEY_HPP
#define ESINK_ROUTER_USER_KEY_HPP

#include <boost/json/value.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esink {

namespace detail {

/// True when `s` is an integer written the way `std::to_string` writes it ("-12", "0", "101").
inline bool is_canonical_integer(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty() || s.size() > 20) return false;
  if (s.size() > 1 && s.front() == '0') return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace detail

/// The canonical key of a user id, so ids compare by value: `101`, `101.0` and `"101"` give
/// `"101"`; any other string is its own key; null, booleans, objects, arrays and
/// non-integral numbers identify nobody (`std::nullopt`).
///
/// A string that is not a canonical integer (`"0101"`, `"abc"`) can never equal a number's
/// key, so distinct ids never share a key.
inline std::optional<std::string> user_key(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: {
      double d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9.007199254740992e15) return std::nullopt;
      return std::to_string(static_cast<std::int64_t>(d));
    }
    case boost::json::kind::string: {
      std::string_view s = v.get_string();
      if (s.empty()) return std::nullopt;
      // "-0" is not canonical; every other canonical integer string is the number's key.
      if (s == "-0") return std::string("0");
      return std::string(s);
    }
    default: return std::nullopt;
  }
}

/// The user id as it goes into payloads: a number when the key is a canonical integer that
/// fits in 64 bits, the string otherwise.
inline boost::json::value user_id_value(std::string_view key) {
  if (detail::is_canonical_integer(key)) {
    errno = 0;
    std::string s(key);
    char* end = nullptr;
    if (key.front() == '-') {
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') return static_cast<std::int64_t>(v);
    } else {
      unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') {
        if (v <= static_cast<unsigned long long>(INT64_MAX)) return static_cast<std::int64_t>(v);
        return static_cast<std::uint64_t>(v);
      }
    }
  }
  return boost::json::string(key);
}

}  // namespace esink

#endif
