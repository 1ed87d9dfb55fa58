#ifndef ESINK_AUTH_SQLITE_HPP
#define ESINK_AUTH_SQLITE_HPP

#include <esink/auth/table_column.hpp>
#include <esink/error.hpp>
#include <esink/source/detail/quote.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace esink {

/// The SQLite query seam of @ref table_column_auth: a read-only connection to the file and a
/// prepared `SELECT * FROM table WHERE column = ?1 LIMIT 1`.
class sqlite_auth_lookup {
public:
  struct options_type : auth_lookup_options {
    std::string path;  ///< the database file (ESINK_SQLITE_PATH)
  };

  explicit sqlite_auth_lookup(const options_type& o) : opt_(o) {
    sql_ = "SELECT * FROM " + detail::quote_identifier(o.table) + " WHERE " + detail::quote_identifier(o.column) +
           " = ?1 LIMIT 1";
  }
  sqlite_auth_lookup(const sqlite_auth_lookup&) = delete;
  sqlite_auth_lookup& operator=(const sqlite_auth_lookup&) = delete;
  ~sqlite_auth_lookup() { close(); }

  bool find(std::string_view token, user& out, std::error_code& ec) {
    ec.clear();
    if (!stmt_ && !open()) {
      ec = make_error_code(error::source_unavailable);
      return false;
    }
    sqlite3_reset(stmt_);
    sqlite3_bind_text(stmt_, 1, token.data(), static_cast<int>(token.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) {
      message_ = sqlite3_errmsg(db_);
      close();  // reopened next time (the file may have been replaced)
      ec = make_error_code(error::source_unavailable);
      return false;
    }
    boost::json::object row;
    int n = sqlite3_column_count(stmt_);
    for (int i = 0; i < n; ++i) {
      const char* name = sqlite3_column_name(stmt_, i);
      switch (sqlite3_column_type(stmt_, i)) {
        case SQLITE_INTEGER: row[name] = static_cast<std::int64_t>(sqlite3_column_int64(stmt_, i)); break;
        case SQLITE_FLOAT: row[name] = sqlite3_column_double(stmt_, i); break;
        case SQLITE_NULL: row[name] = nullptr; break;
        default: {
          auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
          row[name] = boost::json::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)));
        }
      }
    }
    sqlite3_reset(stmt_);
    return detail::user_from_row(std::move(row), opt_.id_column, out);
  }

  const std::string& error_message() const noexcept { return message_; }

private:
  bool open() {
    close();
    if (sqlite3_open_v2(opt_.path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      message_ = db_ ? sqlite3_errmsg(db_) : "out of memory";
      close();
      return false;
    }
    sqlite3_busy_timeout(db_, 5000);
    if (sqlite3_prepare_v2(db_, sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr) != SQLITE_OK) {
      message_ = sqlite3_errmsg(db_);
      close();
      return false;
    }
    return true;
  }

  void close() noexcept {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  options_type opt_;
  std::string sql_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string message_;
};

static_assert(check_auth_lookup<sqlite_auth_lookup>::value);

}  // namespace esink

#endif
