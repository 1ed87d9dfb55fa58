#ifndef ESINK_AUTH_MARIADB_HPP
#define ESINK_AUTH_MARIADB_HPP

#include <esink/auth/table_column.hpp>
#include <esink/error.hpp>
#include <esink/source/mariadb/detail/connection.hpp>

#include <mysql.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace esink {

/** The MySQL/MariaDB query seam of @ref table_column_auth: one connection and a server-side
    prepared statement. The index finds the row with `column = ?`; the token must then also
    match byte for byte, since the server's default collations ignore case and trailing spaces.
*/
class mariadb_auth_lookup {
public:
  struct options_type : auth_lookup_options {
    detail::mariadb::connect_params connection;
  };

  explicit mariadb_auth_lookup(const options_type& o) : opt_(o) {
    std::string target;
    if (auto dot = o.table.find('.'); dot != std::string::npos)
      target = detail::mariadb::quote_ident(o.table.substr(0, dot)) + "." +
               detail::mariadb::quote_ident(o.table.substr(dot + 1));
    else
      target = detail::mariadb::quote_ident(o.table);
    std::string col = detail::mariadb::quote_ident(o.column);
    sql_ = "SELECT * FROM " + target + " WHERE " + col + " = ? AND CAST(" + col + " AS BINARY) = CAST(? AS BINARY) LIMIT 1";
  }
  mariadb_auth_lookup(const mariadb_auth_lookup&) = delete;
  mariadb_auth_lookup& operator=(const mariadb_auth_lookup&) = delete;
  ~mariadb_auth_lookup() { close(); }

  bool find(std::string_view token, user& out, std::error_code& ec) {
    ec.clear();
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stmt_ && !open()) continue;
      bool found = false;
      if (query(token, out, found)) return found;
      if (!detail::mariadb::is_retryable(code_)) {
        ec = make_error_code(error::source_fatal);
        return false;
      }
      close();
    }
    ec = make_error_code(error::source_unavailable);
    return false;
  }

  const std::string& error_message() const noexcept { return message_; }

private:
  bool fail(MYSQL_STMT* s) {
    code_ = s ? mysql_stmt_errno(s) : mysql_errno(h_);
    message_ = s ? mysql_stmt_error(s) : mysql_error(h_);
    return false;
  }

  bool open() {
    close();
    h_ = mysql_init(nullptr);
    if (!h_) return false;
    unsigned ct = static_cast<unsigned>(opt_.connection.connect_timeout.count());
    unsigned io = static_cast<unsigned>(opt_.connection.io_timeout.count());
    mysql_options(h_, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(h_, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(h_, MYSQL_OPT_WRITE_TIMEOUT, &io);
    mysql_options(h_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    const auto& p = opt_.connection;
    if (!mysql_real_connect(h_, p.host.c_str(), p.user.c_str(), p.password.c_str(),
                            p.database.empty() ? nullptr : p.database.c_str(), p.port, nullptr, 0)) {
      fail(nullptr);
      close();
      return false;
    }
    stmt_ = mysql_stmt_init(h_);
    if (!stmt_ || mysql_stmt_prepare(stmt_, sql_.c_str(), static_cast<unsigned long>(sql_.size())) != 0) {
      fail(stmt_);
      close();
      return false;
    }
    return true;
  }

  void close() noexcept {
    if (stmt_) mysql_stmt_close(stmt_);
    stmt_ = nullptr;
    if (h_) mysql_close(h_);
    h_ = nullptr;
  }

  /// Runs the statement; false on a database error (`code_` says which).
  bool query(std::string_view token, user& out, bool& found) {
    std::string t(token);
    unsigned long len = static_cast<unsigned long>(t.size());
    MYSQL_BIND params[2] = {};
    for (auto& b : params) {
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = t.data();
      b.buffer_length = len;
      b.length = &len;
    }
    if (mysql_stmt_bind_param(stmt_, params) != 0 || mysql_stmt_execute(stmt_) != 0) return fail(stmt_);
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
    if (!meta) return fail(stmt_);
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    std::vector<MYSQL_BIND> binds(n);
    std::vector<unsigned long> lengths(n);
    std::vector<my_bool> nulls(n);
    for (unsigned i = 0; i < n; ++i) {
      binds[i] = MYSQL_BIND{};
      binds[i].buffer_type = MYSQL_TYPE_STRING;
      binds[i].length = &lengths[i];
      binds[i].is_null = &nulls[i];
    }
    bool ok = mysql_stmt_bind_result(stmt_, binds.data()) == 0 && mysql_stmt_store_result(stmt_) == 0;
    if (!ok) {
      mysql_free_result(meta);
      return fail(stmt_);
    }
    int rc = mysql_stmt_fetch(stmt_);
    found = false;
    if (rc == 0 || rc == MYSQL_DATA_TRUNCATED) {
      boost::json::object row;
      for (unsigned i = 0; i < n; ++i) {
        std::string name(fields[i].name, fields[i].name_length);
        if (nulls[i]) {
          row[name] = nullptr;
          continue;
        }
        std::string text(lengths[i], '\0');
        MYSQL_BIND b{};
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = text.data();
        b.buffer_length = lengths[i];
        if (lengths[i] && mysql_stmt_fetch_column(stmt_, &b, i, 0) != 0) continue;
        row[name] = to_json(fields[i], text);
      }
      found = detail::user_from_row(std::move(row), opt_.id_column, out);
    }
    mysql_stmt_free_result(stmt_);
    mysql_free_result(meta);
    if (rc == 1) return fail(stmt_);
    return true;
  }

  static boost::json::value to_json(const MYSQL_FIELD& f, const std::string& text) {
    switch (f.type) {
      case MYSQL_TYPE_TINY:
      case MYSQL_TYPE_SHORT:
      case MYSQL_TYPE_LONG:
      case MYSQL_TYPE_INT24:
      case MYSQL_TYPE_LONGLONG:
        if (f.flags & UNSIGNED_FLAG) return static_cast<std::uint64_t>(std::strtoull(text.c_str(), nullptr, 10));
        return static_cast<std::int64_t>(std::strtoll(text.c_str(), nullptr, 10));
      case MYSQL_TYPE_FLOAT:
      case MYSQL_TYPE_DOUBLE: return std::strtod(text.c_str(), nullptr);
      default: return boost::json::string(text);
    }
  }

  options_type opt_;
  std::string sql_;
  MYSQL* h_ = nullptr;
  MYSQL_STMT* stmt_ = nullptr;
  unsigned code_ = 0;
  std::string message_;
};

static_assert(check_auth_lookup<mariadb_auth_lookup>::value);

}  // namespace esink

#endif
