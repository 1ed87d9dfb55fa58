#ifndef ESINK_SOURCE_CHANGE_EVENT_HPP
#define ESINK_SOURCE_CHANGE_EVENT_HPP

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace esink {

/// What happened to a row.
enum class change_type : std::uint8_t { insert, update, remove };

/// The wire name of a change type: `insert`, `update` or `delete`.
constexpr std::string_view to_string(change_type t) noexcept {
  switch (t) {
    case change_type::insert: return "insert";
    case change_type::update: return "update";
    case change_type::remove: return "delete";
  }
  return "insert";
}

/// Parses `insert`, `update` or `delete` (case-insensitive); false when it is none of them.
inline bool parse_change_type(std::string_view s, change_type& out) noexcept {
  auto eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != b[i]) return false;
    }
    return true;
  };
  if (eq(s, "insert")) { out = change_type::insert; return true; }
  if (eq(s, "update")) { out = change_type::update; return true; }
  if (eq(s, "delete")) { out = change_type::remove; return true; }
  return false;
}

/// One committed row change, as every source produces it.
struct change_event {
  /// Source-assigned position, strictly increasing in delivery (commit) order; the resume cursor.
  std::uint64_t id = 0;
  /// The watched table, spelled as configured in TABLE_NAMES (schema-qualified if it was).
  std::string table;
  change_type type = change_type::insert;
  /// The new row; the old row for a delete. Columns as faithful JSON (see docs/sources.md).
  boost::json::object row;
  /// Commit time, microseconds since the Unix epoch.
  std::int64_t commit_time_us = 0;
};

}  // namespace esink

#endif
