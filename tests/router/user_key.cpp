#include <esink/router/user_key.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(router_user_key)

BOOST_AUTO_TEST_CASE(ids_compare_by_value) {
  using esink::user_key;
  namespace json = boost::json;
  BOOST_TEST(*user_key(json::value(101)) == "101");
  BOOST_TEST(*user_key(json::value("101")) == "101");
  BOOST_TEST(*user_key(json::value(101.0)) == "101");
  BOOST_TEST(*user_key(json::value(std::uint64_t(18446744073709551615ull))) == "18446744073709551615");
  BOOST_TEST(*user_key(json::value(-1)) == "-1");
  BOOST_TEST(*user_key(json::value("-0")) == "0");
  BOOST_TEST(*user_key(json::value("abc-uuid")) == "abc-uuid");
  // Non-canonical numeric strings stay strings: they can never collide with a number.
  BOOST_TEST(*user_key(json::value("0101")) == "0101");
  BOOST_TEST(!user_key(json::value(nullptr)));
  BOOST_TEST(!user_key(json::value(true)));
  BOOST_TEST(!user_key(json::value(1.5)));
  BOOST_TEST(!user_key(json::value("")));
  BOOST_TEST(!user_key(json::parse("[1]")));
  BOOST_TEST(!user_key(json::parse("{}")));
}

BOOST_AUTO_TEST_CASE(payload_value_of_a_key) {
  BOOST_TEST(esink::user_id_value("101") == boost::json::value(101));
  BOOST_TEST(esink::user_id_value("-5") == boost::json::value(-5));
  BOOST_TEST(esink::user_id_value("abc") == boost::json::value("abc"));
  BOOST_TEST(esink::user_id_value("0101") == boost::json::value("0101"));
}

BOOST_AUTO_TEST_SUITE_END()
