#include <esink/router/column_filter.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(router_column_filter)

BOOST_AUTO_TEST_CASE(removes_only_the_named_columns_of_the_named_table) {
  esink::column_filter f;
  f.add("users", "password");
  f.add("users", "reset_token");
  auto row = boost::json::parse(R"({"id":1,"password":"x","reset_token":"y","name":"n"})").as_object();
  f.apply("users", row);
  BOOST_TEST(boost::json::value(row) == boost::json::parse(R"({"id":1,"name":"n"})"));
  auto other = boost::json::parse(R"({"password":"kept"})").as_object();
  f.apply("games", other);
  BOOST_TEST(other.contains("password"));
  BOOST_TEST(f.removes("users", "password"));
  BOOST_TEST(!f.removes("games", "password"));
}

BOOST_AUTO_TEST_SUITE_END()
