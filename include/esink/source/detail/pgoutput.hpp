#ifndef ESINK_SOURCE_DETAIL_PGOUTPUT_HPP
#define ESINK_SOURCE_DETAIL_PGOUTPUT_HPP

#include <esink/source/change_event.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

/// The parts of PostgreSQL's streaming replication protocol and of the `pgoutput` logical
/// decoding plugin (protocol version 1) that the logical capture of @ref postgres_source reads:
/// XLogData and keepalive CopyData messages, and Begin, Message and Commit inside XLogData.
/// Pure functions over bytes: no libpq, so they are unit-tested and fuzzed alone.
namespace esink::detail::pgoutput {

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
inline constexpr std::int64_t pg_epoch_offset_us = 946'684'800'000'000;

/// A PostgreSQL timestamp (microseconds since 2000-01-01) in Unix microseconds, saturated
/// instead of overflowing (a timestamp is `infinity` or garbage only in a corrupt message).
inline std::int64_t unix_us(std::int64_t pg_us) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  return pg_us > max - pg_epoch_offset_us ? max : pg_us + pg_epoch_offset_us;
}

class reader {
public:
  explicit reader(std::string_view b) : b_(b) {}
  /// A big-endian unsigned integer of sizeof(T) bytes.
  template <class T> bool big_endian(T& v) {
    if (b_.size() < sizeof(T)) return false;
    v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(b_[i]));
    b_.remove_prefix(sizeof(T));
    return true;
  }
  bool u8(std::uint8_t& v) { return big_endian(v); }
  bool u32(std::uint32_t& v) { return big_endian(v); }
  bool u64(std::uint64_t& v) { return big_endian(v); }
  bool i64(std::int64_t& v) {
    std::uint64_t u;
    if (!u64(u)) return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool cstring(std::string_view& s) {
    auto nul = b_.find('\0');
    if (nul == std::string_view::npos) return false;
    s = b_.substr(0, nul);
    b_.remove_prefix(nul + 1);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& s) {
    if (b_.size() < n) return false;
    s = b_.substr(0, n);
    b_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return b_; }

private:
  std::string_view b_;
};

/// A CopyData message from the walsender.
struct copy_message {
  enum kind_type { xlog_data, keepalive, unknown, malformed } kind = unknown;
  std::uint64_t wal_start = 0;  ///< XLogData: where the data starts
  std::uint64_t wal_end = 0;    ///< keepalive: everything before it has been sent
  bool reply_requested = false; ///< keepalive: answer with a status update at once
  std::string_view data;        ///< XLogData: one pgoutput message
};

inline copy_message parse_copy(std::string_view b) {
  copy_message m;
  reader r(b);
  std::uint8_t tag = 0;
  if (!r.u8(tag)) return m.kind = copy_message::malformed, m;
  std::int64_t send_time = 0;
  if (tag == 'w') {
    if (!r.u64(m.wal_start) || !r.u64(m.wal_end) || !r.i64(send_time)) return m.kind = copy_message::malformed, m;
    m.kind = copy_message::xlog_data;
    m.data = r.rest();
  } else if (tag == 'k') {
    std::uint8_t reply = 0;
    if (!r.u64(m.wal_end) || !r.i64(send_time) || !r.u8(reply)) return m.kind = copy_message::malformed, m;
    m.kind = copy_message::keepalive;
    m.reply_requested = reply != 0;
  }
  return m;
}

/// A pgoutput message (protocol version 1, no streaming of large transactions).
struct logical_message {
  enum kind_type { begin, commit, message, other, malformed } kind = other;
  std::uint64_t final_lsn = 0;     ///< begin: the commit record's LSN; commit: the same
  std::uint64_t end_lsn = 0;       ///< commit: the end of the transaction in WAL
  std::int64_t commit_time_us = 0; ///< begin/commit: Unix microseconds
  bool transactional = false;      ///< message
  std::string_view prefix, content;
};

inline logical_message parse_logical(std::string_view b) {
  logical_message m;
  reader r(b);
  std::uint8_t tag = 0;
  if (!r.u8(tag)) return m.kind = logical_message::malformed, m;
  std::int64_t ts = 0;
  switch (tag) {
    case 'B': {
      std::uint32_t xid = 0;
      if (!r.u64(m.final_lsn) || !r.i64(ts) || !r.u32(xid)) return m.kind = logical_message::malformed, m;
      m.kind = logical_message::begin;
      m.commit_time_us = unix_us(ts);
      return m;
    }
    case 'C': {
      std::uint8_t flags = 0;
      if (!r.u8(flags) || !r.u64(m.final_lsn) || !r.u64(m.end_lsn) || !r.i64(ts))
        return m.kind = logical_message::malformed, m;
      m.kind = logical_message::commit;
      m.commit_time_us = unix_us(ts);
      return m;
    }
    case 'M': {
      std::uint8_t flags = 0;
      std::uint64_t lsn = 0;
      std::uint32_t len = 0;
      if (!r.u8(flags) || !r.u64(lsn) || !r.cstring(m.prefix) || !r.u32(len) || !r.bytes(len, m.content))
        return m.kind = logical_message::malformed, m;
      m.kind = logical_message::message;
      m.transactional = (flags & 1) != 0;
      return m;
    }
    default: return m;
  }
}

/// The content esink's trigger writes: an operation letter (`i`, `u`, `d`), the table's name
/// as configured, length-prefixed in bytes (`5:users`), then the row as JSON.
inline bool parse_content(std::string_view c, change_type& op, std::string_view& table, std::string_view& row) {
  if (c.empty()) return false;
  switch (c[0]) {
    case 'i': op = change_type::insert; break;
    case 'u': op = change_type::update; break;
    case 'd': op = change_type::remove; break;
    default: return false;
  }
  c.remove_prefix(1);
  std::size_t n = 0, i = 0;
  for (; i < c.size() && i < 10 && c[i] >= '0' && c[i] <= '9'; ++i) n = n * 10 + static_cast<std::size_t>(c[i] - '0');
  if (i == 0 || i == c.size() || c[i] != ':' || c.size() - i - 1 < n) return false;
  table = c.substr(i + 1, n);
  row = c.substr(i + 1 + n);
  return !row.empty();
}

/// A standby status update confirming `flushed` (everything before it is handled).
inline std::string status_update(std::uint64_t flushed, std::int64_t now_unix_us, bool reply = false) {
  std::string s;
  s.reserve(34);
  s += 'r';
  auto put = [&s](std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
  };
  put(flushed);  // written
  put(flushed);  // flushed
  put(flushed);  // applied
  put(static_cast<std::uint64_t>(now_unix_us - pg_epoch_offset_us));
  s += static_cast<char>(reply ? 1 : 0);
  return s;
}

/// An LSN as PostgreSQL spells it (`16/B374D848`).
inline std::string lsn_text(std::uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

/// Parses `16/B374D848`; false when it is not an LSN.
inline bool parse_lsn(std::string_view s, std::uint64_t& out) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size() || slash > 8 || s.size() - slash - 1 > 8)
    return false;
  auto hex = [](std::string_view h, std::uint64_t& v) {
    v = 0;
    for (char c : h) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = (v << 4) | static_cast<unsigned>(d);
    }
    return true;
  };
  std::uint64_t hi, lo;
  if (!hex(s.substr(0, slash), hi) || !hex(s.substr(slash + 1), lo)) return false;
  out = (hi << 32) | lo;
  return true;
}

}  // namespace esink::detail::pgoutput

#endif
