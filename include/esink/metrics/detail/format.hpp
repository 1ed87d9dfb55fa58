#ifndef ESINK_METRICS_DETAIL_FORMAT_HPP
#define ESINK_METRICS_DETAIL_FORMAT_HPP

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace esink::metrics::detail {

/// `# HELP` text: backslash and line feed escaped (exposition format 0.0.4).
inline void append_help(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

/// A label value between its quotes: backslash, double quote and line feed escaped.
inline void append_label_value(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

inline void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

/// The shortest decimal that reads back as `v`; `+Inf`, `-Inf`, `NaN` as Prometheus spells them.
inline void append_double(std::string& out, double v) {
  if (std::isnan(v)) { out += "NaN"; return; }
  if (std::isinf(v)) { out += v > 0 ? "+Inf" : "-Inf"; return; }
  char buf[32];
  int n = 0;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    // Whole numbers as integers: `le="10"`, not `le="1e+01"`.
    n = std::snprintf(buf, sizeof buf, "%.0f", v);
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    n = std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  out.append(buf, static_cast<std::size_t>(n));
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
inline bool valid_metric_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved by Prometheus).
inline bool valid_label_name(std::string_view s) noexcept {
  if (s.empty() || s.substr(0, 2) == "__") return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace esink::metrics::detail

#endif
