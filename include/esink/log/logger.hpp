#ifndef ESINK_LOG_LOGGER_HPP
#define ESINK_LOG_LOGGER_HPP

#include <esink/protocol/detail/scan.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

namespace esink::log {

/// Severity, most severe first: a logger at `warn` writes `error` and `warn` lines.
enum class level { error, warn, info, debug };

constexpr std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::error: return "error";
    case level::warn: return "warn";
    case level::info: return "info";
    case level::debug: return "debug";
  }
  return "info";
}

/// Parses `error`, `warn` (or `warning`), `info`, `debug`, any case; false for anything else.
inline bool parse_level(std::string_view s, level& out) noexcept {
  std::string v(s);
  for (auto& c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (v == "error") out = level::error;
  else if (v == "warn" || v == "warning") out = level::warn;
  else if (v == "info") out = level::info;
  else if (v == "debug") out = level::debug;
  else return false;
  return true;
}

namespace detail {

/// A logfmt value: bare when it is a plain word, otherwise a quoted JSON string (control
/// characters escaped), so one event is always exactly one line.
inline void append_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) bare = false;
  if (bare) {
    out += v;
    return;
  }
  protocol::detail::append_json_string(out, v);  // JSON string escapes are valid logfmt quoting
}

/// RFC 3339 UTC with milliseconds: `2026-11-29T17:12:38.123Z`.
inline void append_timestamp(std::string& out, std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int fields, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  out += buf;
}

}  // namespace detail

/// One `key=value` of a log line. Values are text, numbers or booleans; keys are plain words.
struct field {
  template <class T, std::enable_if_t<std::is_convertible_v<const T&, std::string_view>, int> = 0>
  field(std::string_view k, const T& v) : key(k), value(std::string_view(v)) {}
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  field(std::string_view k, double v) : key(k) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    value = buf;
  }

  std::string_view key;
  std::string value;
};

/** A structured logger: one logfmt line per event,
    `ts=2026-11-29T17:12:38.123Z level=info msg="source connected" source=postgres`.

    Lines below the logger's level are not even formatted. The default sink writes each line
    with one `fwrite` to standard error, under a lock, so lines from threads never interleave.

    @par Thread safety
    Every member from any thread.
*/
class logger {
public:
  /// Receives each complete line, newline included.
  using sink_type = std::function<void(std::string_view line)>;

  explicit logger(level min = level::info, sink_type sink = nullptr) : level_(min), sink_(std::move(sink)) {}

  level min_level() const noexcept { return level_.load(std::memory_order_relaxed); }
  void set_level(level l) noexcept { level_.store(l, std::memory_order_relaxed); }
  bool enabled(level l) const noexcept { return static_cast<int>(l) <= static_cast<int>(min_level()); }

  /// Writes `ts`, `level`, `msg`, then `fields` in order.
  void write(level l, std::string_view msg, std::initializer_list<field> fields = {}) const {
    if (!enabled(l)) return;
    std::string line;
    line.reserve(128);
    line += "ts=";
    detail::append_timestamp(line, std::chrono::system_clock::now());
    line += " level=";
    line += to_string(l);
    line += " msg=";
    detail::append_value(line, msg);
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      detail::append_value(line, f.value);
    }
    line += '\n';
    std::lock_guard<std::mutex> lk(mtx_);
    if (sink_) {
      sink_(line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    }
  }

  void error(std::string_view msg, std::initializer_list<field> f = {}) const { write(level::error, msg, f); }
  void warn(std::string_view msg, std::initializer_list<field> f = {}) const { write(level::warn, msg, f); }
  void info(std::string_view msg, std::initializer_list<field> f = {}) const { write(level::info, msg, f); }
  void debug(std::string_view msg, std::initializer_list<field> f = {}) const { write(level::debug, msg, f); }

private:
  std::atomic<level> level_;
  sink_type sink_;
  mutable std::mutex mtx_;
};

}  // namespace esink::log

#endif
