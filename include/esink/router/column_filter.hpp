#ifndef ESINK_ROUTER_COLUMN_FILTER_HPP
#define ESINK_ROUTER_COLUMN_FILTER_HPP

#include <boost/json/object.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace esink {

/// FILTERS: columns removed from a table's rows before anything leaves the server, for
/// database changes and published events alike.
///
/// @par Thread safety
/// Immutable after construction; `apply` may run on any number of threads.
class column_filter {
public:
  column_filter() = default;

  /// Removes `column` of `table` from every row.
  void add(std::string table, std::string column) { columns_[std::move(table)].insert(std::move(column)); }

  /// Removes the filtered columns of `table` from `row`; costs nothing for unfiltered tables.
  void apply(std::string_view table, boost::json::object& row) const {
    if (columns_.empty()) return;
    auto it = columns_.find(table);
    if (it == columns_.end()) return;
    for (const auto& c : it->second) row.erase(c);
  }

  /// True when `table.column` is filtered.
  bool removes(std::string_view table, std::string_view column) const {
    auto it = columns_.find(table);
    return it != columns_.end() && it->second.count(std::string(column)) != 0;
  }

  bool empty() const noexcept { return columns_.empty(); }

  /// Filtered tables and their columns.
  const std::map<std::string, std::set<std::string>, std::less<>>& columns() const noexcept { return columns_; }

private:
  std::map<std::string, std::set<std::string>, std::less<>> columns_;
};

}  // namespace esink

#endif
