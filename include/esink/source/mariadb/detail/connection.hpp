#ifndef ESINK_SOURCE_MARIADB_DETAIL_CONNECTION_HPP
#define ESINK_SOURCE_MARIADB_DETAIL_CONNECTION_HPP

#include <esink/error.hpp>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace esink::detail::mariadb {

/// `name` as a backquoted identifier: the only way a configured name reaches SQL.
inline std::string quote_ident(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '`';
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

/// `s` as a string literal. Every esink session (and so every trigger it creates, which keeps
/// the creator's sql_mode) runs with NO_BACKSLASH_ESCAPES, so doubling quotes is complete.
inline std::string quote_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 12);
  out += "_utf8mb4'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

/// FNV-1a, for short stable names (trigger names, lock names, column signatures).
inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

inline std::string hex(std::uint64_t v, int digits) {
  static constexpr char d[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = d[v & 15];
  return out;
}

/// Whether a server or client error is worth retrying (connection lost, server restarting,
/// lock conflicts) rather than a refusal retrying cannot fix (privileges, unknown database).
inline bool is_retryable(unsigned code) noexcept {
  if (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) return true;  // client side: network, timeouts
  switch (code) {
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_NORMAL_SHUTDOWN:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK:
    case ER_QUERY_INTERRUPTED:
    case ER_CONNECTION_KILLED:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_OUT_OF_RESOURCES:
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
      return true;
    default:
      return false;
  }
}

/// A failed database call: code, text, and what it means for the source.
struct db_error {
  unsigned code = 0;
  std::string message;

  std::error_code condition() const {
    return make_error_code(is_retryable(code) ? error::source_unavailable : error::source_fatal);
  }
};

/// Owns one stored result set.
class result {
public:
  result() = default;
  explicit result(MYSQL_RES* r) noexcept : r_(r) {}
  result(result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  result& operator=(result&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result() {
    if (r_) mysql_free_result(r_);
  }

  /// Advances to the next row; false at the end.
  bool next() noexcept {
    if (!r_) return false;
    row_ = mysql_fetch_row(r_);
    if (!row_) return false;
    len_ = mysql_fetch_lengths(r_);
    return true;
  }
  bool is_null(unsigned i) const noexcept { return row_[i] == nullptr; }
  std::string_view str(unsigned i) const noexcept {
    return row_[i] ? std::string_view(row_[i], len_[i]) : std::string_view();
  }
  std::uint64_t u64(unsigned i) const noexcept { return row_[i] ? std::strtoull(row_[i], nullptr, 10) : 0; }
  std::int64_t i64(unsigned i) const noexcept { return row_[i] ? std::strtoll(row_[i], nullptr, 10) : 0; }
  std::uint64_t size() const noexcept { return r_ ? mysql_num_rows(r_) : 0; }
  unsigned columns() const noexcept { return r_ ? mysql_num_fields(r_) : 0; }

private:
  MYSQL_RES* r_ = nullptr;
  MYSQL_ROW row_ = nullptr;
  unsigned long* len_ = nullptr;
};

/// Connection settings, copied from the source options.
struct connect_params {
  std::string host, user, password, database;
  unsigned port = 3306;
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds io_timeout{60};
};

/// One blocking Connector/C session, used only by the source's own thread.
class connection {
public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { close(); }

  bool is_open() const noexcept { return h_ != nullptr; }
  void close() noexcept {
    if (h_) mysql_close(h_);
    h_ = nullptr;
  }

  /// Connects and sets the session up: utf8mb4, UTC, READ COMMITTED (every poll sees every
  /// commit so far), autocommit, and NO_BACKSLASH_ESCAPES so quote_string is complete.
  bool open(const connect_params& p, db_error& err) {
    close();
    h_ = mysql_init(nullptr);
    if (!h_) {
      err = {CR_OUT_OF_MEMORY, "mysql_init failed"};
      return false;
    }
    unsigned ct = static_cast<unsigned>(p.connect_timeout.count());
    unsigned io = static_cast<unsigned>(p.io_timeout.count());
    mysql_options(h_, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(h_, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(h_, MYSQL_OPT_WRITE_TIMEOUT, &io);
    mysql_options(h_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(h_, p.host.c_str(), p.user.c_str(), p.password.c_str(),
                            p.database.empty() ? nullptr : p.database.c_str(), p.port,
                            nullptr, 0)) {
      err = last_error();
      close();
      return false;
    }
    if (!exec("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION', "
              "time_zone = '+00:00', autocommit = 1",
              err) ||
        !exec("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err)) {
      close();
      return false;
    }
    return true;
  }

  /// Runs a statement that returns no rows.
  bool exec(std::string_view sql, db_error& err) {
    if (mysql_real_query(h_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
      err = last_error();
      return false;
    }
    if (MYSQL_RES* r = mysql_store_result(h_)) mysql_free_result(r);
    return true;
  }

  /// Runs a query and stores its whole result (callers bound it with LIMIT).
  bool query(std::string_view sql, result& out, db_error& err) {
    if (mysql_real_query(h_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
      err = last_error();
      return false;
    }
    MYSQL_RES* r = mysql_store_result(h_);
    if (!r && mysql_field_count(h_) != 0) {
      err = last_error();
      return false;
    }
    out = result(r);
    return true;
  }

  std::uint64_t affected_rows() const noexcept { return mysql_affected_rows(h_); }

private:
  db_error last_error() const { return {mysql_errno(h_), mysql_error(h_)}; }

  MYSQL* h_ = nullptr;
};

}  // namespace esink::detail::mariadb

#endif
