#ifndef ESINK_SOURCE_DETAIL_QUOTE_HPP
#define ESINK_SOURCE_DETAIL_QUOTE_HPP

#include <string>
#include <string_view>

namespace esink::detail {

/// Quotes an SQL identifier: wraps it in `quote` and doubles every embedded `quote`.
///
/// Use `'"'` for PostgreSQL and SQLite, `'`'` for MariaDB/MySQL. Always quotes, so reserved
/// words and mixed case survive. The caller rejects NUL bytes (see @ref has_nul).
inline std::string quote_identifier(std::string_view name, char quote = '"') {
  std::string out;
  out.reserve(name.size() + 2);
  out += quote;
  for (char c : name) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

/// `quote_identifier(schema).quote_identifier(name)`, or just the name when `schema` is empty.
inline std::string quote_qualified(std::string_view schema, std::string_view name, char quote = '"') {
  if (schema.empty()) return quote_identifier(name, quote);
  return quote_identifier(schema, quote) + "." + quote_identifier(name, quote);
}

/// Quotes an SQL string literal the standard way: `'` doubled, nothing else escaped.
///
/// Correct for SQLite and for PostgreSQL with `standard_conforming_strings = on` (the default
/// since 9.1; prefer `PQescapeLiteral` there). Not for MySQL, where backslash escapes.
inline std::string quote_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

/// True when `s` holds a NUL byte, which no SQL identifier or libpq string may contain.
inline bool has_nul(std::string_view s) noexcept { return s.find('\0') != std::string_view::npos; }

}  // namespace esink::detail

#endif
