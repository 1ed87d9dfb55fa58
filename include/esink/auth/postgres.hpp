#ifndef ESINK_AUTH_POSTGRES_HPP
#define ESINK_AUTH_POSTGRES_HPP

#include <esink/auth/table_column.hpp>
#include <esink/error.hpp>
#include <esink/source/detail/quote.hpp>
#include <esink/source/table_list.hpp>

#include <boost/json/parse.hpp>

#include <libpq-fe.h>

#include <string>
#include <string_view>
#include <system_error>

namespace esink {

/// The PostgreSQL query seam of @ref table_column_auth: one libpq connection, a prepared
/// `SELECT row_to_json(t) FROM table t WHERE column = $1 LIMIT 1`.
class postgres_auth_lookup {
public:
  struct options_type : auth_lookup_options {
    std::string url;  ///< libpq connection string (POSTGRES_DATABASE_URL)
  };

  explicit postgres_auth_lookup(const options_type& o) : opt_(o) {
    std::error_code ec;
    auto names = parse_table_list(o.table, ec);
    std::string target = ec || names.empty() ? detail::quote_identifier(o.table)
                                             : names.front().schema.empty()
                                                   ? detail::quote_identifier(names.front().name)
                                                   : detail::quote_qualified(names.front().schema, names.front().name);
    sql_ = "SELECT row_to_json(t)::text FROM " + target + " AS t WHERE " + detail::quote_identifier(o.column) +
           " = $1 LIMIT 1";
  }
  postgres_auth_lookup(const postgres_auth_lookup&) = delete;
  postgres_auth_lookup& operator=(const postgres_auth_lookup&) = delete;
  ~postgres_auth_lookup() {
    if (conn_) PQfinish(conn_);
  }

  bool find(std::string_view token, user& out, std::error_code& ec) {
    ec.clear();
    // One retry on a fresh connection: the server may have restarted since the last lookup.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connected() && !connect()) continue;
      std::string t(token);
      const char* values[1] = {t.c_str()};
      PGresult* r = PQexecPrepared(conn_, "esink_auth", 1, values, nullptr, nullptr, 0);
      auto st = PQresultStatus(r);
      if (st == PGRES_TUPLES_OK) {
        bool found = false;
        if (PQntuples(r) > 0) {
          boost::json::error_code jec;
          auto v = boost::json::parse(PQgetvalue(r, 0, 0), jec);
          found = !jec && v.is_object() && detail::user_from_row(std::move(v.get_object()), opt_.id_column, out);
        }
        PQclear(r);
        return found;
      }
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      std::string sqlstate = state ? state : "";
      PQclear(r);
      // Class 22 (data exception): the token is not even a valid value of the column's type.
      if (sqlstate.size() == 5 && sqlstate.compare(0, 2, "22") == 0) return false;
      if (PQstatus(conn_) == CONNECTION_OK && !sqlstate.empty() && sqlstate.compare(0, 2, "08") != 0 &&
          sqlstate.compare(0, 2, "57") != 0) {
        message_ = PQerrorMessage(conn_);
        ec = make_error_code(error::source_fatal);
        return false;
      }
      PQfinish(conn_);
      conn_ = nullptr;
    }
    ec = make_error_code(error::source_unavailable);
    return false;
  }

  /// The last database error.
  const std::string& error_message() const noexcept { return message_; }

private:
  bool connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

  bool connect() {
    if (conn_) PQfinish(conn_);
    conn_ = PQconnectdb(opt_.url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      message_ = PQerrorMessage(conn_);
      return false;
    }
    PGresult* r = PQprepare(conn_, "esink_auth", sql_.c_str(), 1, nullptr);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) message_ = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    return ok;
  }

  options_type opt_;
  std::string sql_;
  PGconn* conn_ = nullptr;
  std::string message_;
};

static_assert(check_auth_lookup<postgres_auth_lookup>::value);

}  // namespace esink

#endif
