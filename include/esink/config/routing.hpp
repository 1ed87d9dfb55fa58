#ifndef ESINK_CONFIG_ROUTING_HPP
#define ESINK_CONFIG_ROUTING_HPP

#include <esink/config/service_config.hpp>
#include <esink/router/table_router.hpp>

#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace esink {

namespace detail {

/// Rewrites the JavaScript-isms the seed's README uses in TABLE_AUTH_COLUMN_ROUTING
/// ('single-quoted' strings) into JSON; comments and trailing commas are left to the parser.
/// Offsets only move where a single-quoted string contains a double quote.
inline std::string json_from_js_literal(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  enum { code, dq, sq, line_comment, block_comment } st = code;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    char next = i + 1 < in.size() ? in[i + 1] : '\0';
    switch (st) {
      case code:
        if (c == '"') st = dq;
        else if (c == '\'') { st = sq; out += '"'; continue; }
        else if (c == '/' && next == '/') st = line_comment;
        else if (c == '/' && next == '*') st = block_comment;
        break;
      case dq:
        if (c == '\\' && next) { out += c; out += next; ++i; continue; }
        if (c == '"') st = code;
        break;
      case sq:
        if (c == '\\' && next) {
          if (next == '\'') out += '\'';
          else { out += c; out += next; }
          ++i;
          continue;
        }
        if (c == '\'') { st = code; out += '"'; continue; }
        if (c == '"') { out += "\\\""; continue; }
        break;
      case line_comment:
        if (c == '\n') st = code;
        break;
      case block_comment:
        if (c == '*' && next == '/') { out += "*/"; ++i; st = code; continue; }
        break;
    }
    out += c;
  }
  return out;
}

inline std::string describe_position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') { ++line; column = 1; }
    else ++column;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace detail

/** Parses TABLE_AUTH_COLUMN_ROUTING: a JSON object mapping each table to a column name, an
    array of column names, or `"*"` (everyone). Comments, trailing commas and single-quoted
    strings (the seed's README example) are accepted; a value wrapped whole in quotes (compose
    files) is unwrapped. Empty text means no rules.

    @throws config_error naming the variable and the line and column of the first problem.
*/
inline routing_rules parse_routing(std::string_view value) {
  constexpr const char* var = "TABLE_AUTH_COLUMN_ROUTING";
  routing_rules rules;
  std::string_view v = value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\n' || v.front() == '\r')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
  if (v.empty()) return rules;
  std::string text = detail::json_from_js_literal(v);

  boost::json::parse_options opt;
  opt.allow_comments = true;
  opt.allow_trailing_commas = true;
  opt.max_depth = 8;
  boost::json::stream_parser p(boost::json::storage_ptr(), opt);
  boost::json::error_code ec;
  std::size_t n = p.write_some(text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (!ec) p.finish(ec);
  if (ec)
    throw config_error(std::string(var) + ": invalid JSON at " + detail::describe_position(text, n) + ": " +
                       ec.message());
  boost::json::value root = p.release();
  if (!root.is_object())
    throw config_error(std::string(var) + ": expected a JSON object mapping table names to columns");
  for (const auto& [key, val] : root.get_object()) {
    std::string table(key);
    std::string where = std::string(var) + ": table \"" + table + "\": ";
    routing_rule rule;
    if (val.is_string()) {
      std::string col(val.get_string());
      if (col.empty()) throw config_error(where + "empty column name");
      if (col == "*") rule.everyone = true;
      else rule.columns.push_back(col);
    } else if (val.is_array()) {
      if (val.get_array().empty()) throw config_error(where + "empty array: list at least one column");
      for (const auto& item : val.get_array()) {
        if (!item.is_string() || item.get_string().empty())
          throw config_error(where + "every array item must be a column name");
        if (item.get_string() == "*") throw config_error(where + "\"*\" must stand alone, not inside an array");
        rule.columns.emplace_back(item.get_string());
      }
    } else {
      throw config_error(where + "expected a column name, an array of column names, or \"*\"");
    }
    rules[table] = std::move(rule);
  }
  return rules;
}

}  // namespace esink

#endif
