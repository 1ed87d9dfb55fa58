#ifndef ESINK_ROUTER_TABLE_ROUTER_HPP
#define ESINK_ROUTER_TABLE_ROUTER_HPP

#include <esink/router/column_filter.hpp>
#include <esink/router/concept.hpp>
#include <esink/router/user_key.hpp>

#include <boost/json/object.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esink {

/// One table's rule of TABLE_AUTH_COLUMN_ROUTING: a list of columns holding user ids, or
/// everyone (`"*"`).
struct routing_rule {
  bool everyone = false;
  std::vector<std::string> columns;
};

/// TABLE_AUTH_COLUMN_ROUTING, table by table (tables spelled as in TABLE_NAMES).
using routing_rules = std::map<std::string, routing_rule, std::less<>>;

/** The seed's router: a row goes to every user whose id equals the row's value in one of its
    table's routing columns, or to everyone for `"*"`; a table without a rule goes to nobody.

    Ids compare by value through @ref user_key (`101` matches `"101"`, NULL matches nobody), and
    a user matched by several columns is listed once. Finding recipients costs O(columns of the
    rule): the service sends to one room per user, never scans connections.

    Models the Router concept (router/concept.hpp).

    @par Thread safety
    Immutable after construction.
*/
class table_router {
public:
  table_router() = default;
  table_router(routing_rules rules, column_filter filter)
      : rules_(std::move(rules)), filter_(std::move(filter)) {}

  void route(std::string_view table, const boost::json::object& row, route_result& out) const {
    out.clear();
    auto it = rules_.find(table);
    if (it == rules_.end()) return;
    if (it->second.everyone) {
      out.everyone = true;
      return;
    }
    for (const auto& column : it->second.columns) {
      auto v = row.find(column);
      if (v == row.end()) continue;
      auto key = user_key(v->value());
      if (!key) continue;
      // Rules have a handful of columns: a linear scan beats hashing here.
      if (std::find(out.users.begin(), out.users.end(), *key) == out.users.end()) out.users.push_back(std::move(*key));
    }
  }

  void filter(std::string_view table, boost::json::object& data) const { filter_.apply(table, data); }

  const routing_rules& rules() const noexcept { return rules_; }
  const column_filter& filters() const noexcept { return filter_; }

private:
  routing_rules rules_;
  column_filter filter_;
};

static_assert(check_router<table_router>::value);

}  // namespace esink

#endif
