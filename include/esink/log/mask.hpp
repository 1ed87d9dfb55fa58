#ifndef ESINK_LOG_MASK_HPP
#define ESINK_LOG_MASK_HPP

#include <string>
#include <string_view>

namespace esink::log {

/// What a secret is logged as: `***` when set, `unset` when empty. Never its length or a prefix.
inline std::string mask_secret(std::string_view secret) { return secret.empty() ? "unset" : "***"; }

/** A database URL or connection string with its password replaced by `***`:
    `postgresql://app:pw@db/x` → `postgresql://app:***@db/x`, and in libpq key/value form
    `host=db password=pw` → `host=db password=***` (quoted values too). Query parameters named
    `password` (`?password=pw`) are masked as well.
*/
inline std::string mask_url(std::string_view url) {
  std::string out(url);
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto start = scheme + 3;
    auto end = out.find_first_of("/?#", start);
    if (end == std::string::npos) end = out.size();
    auto at = out.rfind('@', end);  // the last @ before the path: passwords may contain '@'
    if (at != std::string::npos && at >= start) {
      auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // key=value forms: libpq conninfo and URL query parameters.
  for (std::size_t pos = 0; (pos = out.find("password", pos)) != std::string::npos;) {
    bool word_start = pos == 0 || out[pos - 1] == ' ' || out[pos - 1] == '?' || out[pos - 1] == '&';
    std::size_t eq = pos + 8;
    while (eq < out.size() && out[eq] == ' ') ++eq;
    if (!word_start || eq >= out.size() || out[eq] != '=') {
      pos += 8;
      continue;
    }
    std::size_t v = eq + 1;
    while (v < out.size() && out[v] == ' ') ++v;
    std::size_t end = v;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = end < out.size() ? end + 1 : out.size();
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&' && out[end] != '#') ++end;
    }
    out.replace(v, end - v, "***");
    pos = v + 3;
  }
  return out;
}

}  // namespace esink::log

#endif
