#define BOOST_TEST_MODULE esink router
#include <esink/router/table_router.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

esink::table_router make_router() {
  esink::routing_rules rules;
  rules["users"].columns = {"id"};
  rules["games"].columns = {"hostUserId"};
  rules["pushNotifications"].columns = {"userID", "senderID", "recipientID"};
  rules["targetStatuses"].everyone = true;
  esink::column_filter f;
  f.add("users", "password");
  return esink::table_router(rules, f);
}

esink::route_result route(const esink::table_router& r, const std::string& table, const char* row) {
  esink::route_result out;
  out.users.push_back("stale");  // route clears what was there
  r.route(table, boost::json::parse(row).as_object(), out);
  return out;
}

// The minimal conforming router of router/concept.hpp.
struct everyone_router {
  void route(std::string_view, const boost::json::object&, esink::route_result& out) const {
    out.clear();
    out.everyone = true;
  }
  void filter(std::string_view, boost::json::object&) const {}
};
struct no_filter {
  void route(std::string_view, const boost::json::object&, esink::route_result&) const {}
};

}  // namespace

static_assert(esink::is_router_v<everyone_router>);
static_assert(!esink::is_router_v<no_filter>);
static_assert(!esink::is_router_v<int>);

BOOST_AUTO_TEST_SUITE(router_table_router)

BOOST_AUTO_TEST_CASE(single_column_by_value) {
  auto r = make_router();
  BOOST_TEST((route(r, "users", R"({"id": 101})").users == std::vector<std::string>{"101"}));
  BOOST_TEST((route(r, "users", R"({"id": "101"})").users == std::vector<std::string>{"101"}));
  BOOST_TEST(route(r, "users", R"({"id": null})").users.empty());
  BOOST_TEST(route(r, "users", R"({"other": 1})").users.empty());
  BOOST_TEST(!route(r, "users", R"({"id": 1})").everyone);
}

BOOST_AUTO_TEST_CASE(array_rules_list_each_user_once) {
  auto r = make_router();
  auto out = route(r, "pushNotifications", R"({"userID": 5, "senderID": "5", "recipientID": 7})");
  BOOST_TEST((out.users == std::vector<std::string>{"5", "7"}));
  out = route(r, "pushNotifications", R"({"userID": null, "senderID": 9, "recipientID": null})");
  BOOST_TEST((out.users == std::vector<std::string>{"9"}));
}

BOOST_AUTO_TEST_CASE(star_and_missing_rules) {
  auto r = make_router();
  BOOST_TEST(route(r, "targetStatuses", R"({"x": 1})").everyone);
  auto none = route(r, "unknown", R"({"id": 1})");
  BOOST_TEST(!none.everyone);
  BOOST_TEST(none.users.empty());
}

BOOST_AUTO_TEST_CASE(filter_applies_filters) {
  auto r = make_router();
  auto row = boost::json::parse(R"({"id": 1, "password": "x"})").as_object();
  r.filter("users", row);
  BOOST_TEST(!row.contains("password"));
  BOOST_TEST(row.contains("id"));
}

BOOST_AUTO_TEST_SUITE_END()
