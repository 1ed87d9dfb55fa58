#ifndef ESINK_SOURCE_TABLE_LIST_HPP
#define ESINK_SOURCE_TABLE_LIST_HPP

#include <esink/error.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace esink {

/// A watched table: optional schema plus name, both exactly as the user spelled them.
struct table_name {
  std::string schema;  ///< Empty when not schema-qualified.
  std::string name;

  /// `schema.name`, or `name` when unqualified: the spelling used in events.
  std::string qualified() const { return schema.empty() ? name : schema + "." + name; }
};

/// Parses TABLE_NAMES: comma-separated, surrounding quotes (the seed's compose file wraps
/// values in single quotes) and spaces tolerated, `schema.table` allowed, a double-quoted
/// part may contain dots. Empty items are skipped; an empty list or a malformed item sets
/// @ref error::bad_config.
inline std::vector<table_name> parse_table_list(std::string_view text, std::error_code& ec) {
  ec.clear();
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  // A value wrapped whole in quotes (compose files often write TABLE_NAMES='a,b'); a double
  // quote counts as a wrapper only when no other double quote is inside, so `"a"."b"` stays.
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'')
    text = trim(text.substr(1, text.size() - 2));
  else if (text.size() >= 2 && text.front() == '"' && text.back() == '"' &&
           text.substr(1, text.size() - 2).find('"') == std::string_view::npos)
    text = trim(text.substr(1, text.size() - 2));

  std::vector<table_name> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) continue;

    // Split on the first dot outside double quotes; strip one level of quotes per part.
    std::vector<std::string> parts(1);
    bool quoted = false;
    for (char c : item) {
      if (c == '"') { quoted = !quoted; continue; }
      if (c == '.' && !quoted) { parts.emplace_back(); continue; }
      parts.back() += c;
    }
    if (quoted || parts.size() > 2 || parts.back().empty() || parts.front().empty()) {
      ec = make_error_code(error::bad_config);
      return {};
    }
    out.push_back(parts.size() == 2 ? table_name{parts[0], parts[1]} : table_name{{}, parts[0]});
  }
  if (out.empty()) ec = make_error_code(error::bad_config);
  return out;
}

}  // namespace esink

#endif
