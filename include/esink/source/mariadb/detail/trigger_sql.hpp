#ifndef ESINK_SOURCE_MARIADB_DETAIL_TRIGGER_SQL_HPP
#define ESINK_SOURCE_MARIADB_DETAIL_TRIGGER_SQL_HPP

#include <esink/source/mariadb/detail/connection.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esink::detail::mariadb {

/// One column of a watched table, as information_schema describes it.
struct column_info {
  std::string name;
  std::string data_type;    ///< lower case: `bigint`, `decimal`, `json`, `longtext`...
  std::string column_type;  ///< full type: `bigint(20) unsigned`, `enum('a','b')`...
  unsigned datetime_precision = 0;
  bool is_json = false;     ///< MySQL `json`, or MariaDB's LONGTEXT with a json_valid check
};

/// Bumped whenever the generated trigger SQL changes, so old triggers get replaced.
inline constexpr std::string_view trigger_template_version = "esink-mariadb-1";

/// The JSON_OBJECT value expression for one column of `NEW` or `OLD`, chosen so every type
/// comes out faithfully (see docs/sources-mariadb.md). Only MySQL 8 / MariaDB common functions.
inline std::string column_json_expr(const column_info& c, std::string_view rowvar) {
  std::string ref = std::string(rowvar) + "." + quote_ident(c.name);
  const std::string& t = c.data_type;
  if (c.is_json) return "JSON_EXTRACT(" + ref + ", '$')";
  if (t == "tinyint" || t == "smallint" || t == "mediumint" || t == "int" || t == "integer" ||
      t == "bigint" || t == "year" || t == "float" || t == "double" || t == "real")
    return ref;
  if (t == "decimal" || t == "numeric" || t == "time") return "CAST(" + ref + " AS CHAR)";
  if (t == "bit") return "CAST(" + ref + " AS UNSIGNED)";
  if (t == "date") return "DATE_FORMAT(" + ref + ", '%Y-%m-%d')";
  if (t == "datetime")
    return "DATE_FORMAT(" + ref + (c.datetime_precision ? ", '%Y-%m-%dT%H:%i:%s.%f')" : ", '%Y-%m-%dT%H:%i:%s')");
  if (t == "timestamp")
    /* UNIX_TIMESTAMP reads the stored UTC instant, whatever the writer's time_zone */
    return "DATE_FORMAT(TIMESTAMPADD(MICROSECOND, CAST(UNIX_TIMESTAMP(" + ref +
           ") * 1000000 AS SIGNED), '1970-01-01 00:00:00.000000'), " +
           (c.datetime_precision ? "'%Y-%m-%dT%H:%i:%s.%fZ')" : "'%Y-%m-%dT%H:%i:%sZ')");
  if (t == "binary" || t == "varbinary" || t == "tinyblob" || t == "blob" || t == "mediumblob" ||
      t == "longblob")
    /* TO_BASE64 wraps lines at 76 characters on both servers */
    return "REPLACE(TO_BASE64(" + ref + "), CHAR(10), '')";
  if (t == "geometry" || t == "point" || t == "linestring" || t == "polygon" || t == "multipoint" ||
      t == "multilinestring" || t == "multipolygon" || t == "geometrycollection" || t == "geomcollection")
    return "ST_AsText(" + ref + ")";
  if (t == "char" || t == "varchar" || t == "tinytext" || t == "text" || t == "mediumtext" ||
      t == "longtext" || t == "enum" || t == "set")
    return ref;
  return "CAST(" + ref + " AS CHAR)";  // uuid, inet6 and other plugin types: their text form
}

/// A stable hash of everything the trigger SQL depends on.
inline std::uint64_t column_signature(const std::vector<column_info>& cols, std::string_view event_table) {
  std::uint64_t h = fnv1a(trigger_template_version);
  h = fnv1a(event_table, fnv1a("\x1f", h));
  for (const auto& c : cols) {
    h = fnv1a(c.name, fnv1a("\x1e", h));
    h = fnv1a(c.data_type, fnv1a("\x1f", h));
    h = fnv1a(c.column_type, fnv1a("\x1f", h));
    h = fnv1a(std::to_string(c.datetime_precision) + (c.is_json ? "j" : "-"), fnv1a("\x1f", h));
  }
  return h;
}

/// Prefix of every trigger one esink configuration (event table) puts on one table; triggers
/// with this prefix and another signature are stale and get replaced.
inline std::string trigger_prefix(std::string_view event_db, std::string_view event_table,
                                  std::string_view db, std::string_view table) {
  std::string key;
  for (auto part : {event_db, event_table, db, table}) (key += part) += '\0';
  return "esink_" + hex(fnv1a(key), 12) + "_";
}

/// Trigger name for one operation (`i`, `u`, `d`): at most 29 characters.
inline std::string trigger_name(const std::string& prefix, std::uint64_t signature, char op) {
  return prefix + hex(signature, 8) + "_" + op;
}

/// CREATE TRIGGER for one operation: one INSERT of the row as JSON into the event table.
inline std::string create_trigger_sql(const std::string& name, std::string_view db, std::string_view table,
                                      std::string_view event_db, std::string_view event_table,
                                      const std::vector<column_info>& cols, char op) {
  const char* when = op == 'i' ? "INSERT" : op == 'u' ? "UPDATE" : "DELETE";
  const char* var = op == 'd' ? "OLD" : "NEW";
  std::string obj = "JSON_OBJECT(";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) obj += ", ";
    obj += quote_string(cols[i].name);
    obj += ", ";
    obj += column_json_expr(cols[i], var);
  }
  obj += ")";
  std::string sql = "CREATE TRIGGER " + quote_ident(db) + "." + quote_ident(name) + " AFTER " + when +
                    " ON " + quote_ident(db) + "." + quote_ident(table) + " FOR EACH ROW INSERT INTO " +
                    quote_ident(event_db) + "." + quote_ident(event_table) +
                    " (db_name, table_name, op, row_data, created_us) VALUES (" + quote_string(db) + ", " +
                    quote_string(table) + ", '" + op + "', " + obj +
                    ", CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED))";
  return sql;
}

/// The event table. LONGTEXT rather than JSON: the same on both servers, and MySQL would
/// re-parse the document into its binary form on every insert.
inline std::string create_event_table_sql(std::string_view db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + quote_ident(db) + "." + quote_ident(table) +
         " (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " db_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
         " table_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
         " op CHAR(1) CHARACTER SET ascii NOT NULL,"
         " row_data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
         " created_us BIGINT NOT NULL) ENGINE=InnoDB";
}

/// Per-consumer cursor: high-water id, unresolved ids below it, and the delivery sequence.
inline std::string create_cursor_table_sql(std::string_view db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + quote_ident(db) + "." + quote_ident(table) +
         " (consumer VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,"
         " high_water BIGINT UNSIGNED NOT NULL, gaps LONGTEXT CHARACTER SET ascii NOT NULL,"
         " seq BIGINT UNSIGNED NOT NULL, updated_us BIGINT NOT NULL) ENGINE=InnoDB";
}

}  // namespace esink::detail::mariadb

#endif
