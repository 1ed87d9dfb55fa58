#include <esink/transport/detail/http.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

namespace bdata = boost::unit_test::data;

BOOST_AUTO_TEST_SUITE(http_helpers)

BOOST_AUTO_TEST_CASE(split_target_separates_path_and_query) {
  auto [p, q] = esink::detail::split_target("/socket.io/?EIO=4&transport=polling");
  BOOST_TEST(p == "/socket.io/");
  BOOST_TEST(q == "EIO=4&transport=polling");
  auto [p2, q2] = esink::detail::split_target("/ping");
  BOOST_TEST(p2 == "/ping");
  BOOST_TEST(q2.empty());
}

BOOST_AUTO_TEST_CASE(query_value_finds_exact_keys) {
  std::string_view q = "EIO=4&transport=polling&sid=abc&flag&t=";
  BOOST_TEST(*esink::detail::query_value(q, "EIO") == "4");
  BOOST_TEST(*esink::detail::query_value(q, "sid") == "abc");
  BOOST_TEST(esink::detail::query_value(q, "flag")->empty());
  BOOST_TEST(esink::detail::query_value(q, "t")->empty());
  BOOST_TEST(!esink::detail::query_value(q, "EI").has_value());
  BOOST_TEST(!esink::detail::query_value(q, "port").has_value());
}

const std::pair<esink::error, const char*> bodies[] = {
    {esink::error::unknown_transport, R"({"code":0,"message":"Transport unknown"})"},
    {esink::error::unknown_sid, R"({"code":1,"message":"Session ID unknown"})"},
    {esink::error::bad_handshake_method, R"({"code":2,"message":"Bad handshake method"})"},
    {esink::error::bad_request, R"({"code":3,"message":"Bad request"})"},
    {esink::error::forbidden, R"({"code":4,"message":"Forbidden"})"},
    {esink::error::unsupported_protocol_version, R"({"code":5,"message":"Unsupported protocol version"})"},
    {esink::error::bad_json, R"({"code":3,"message":"Bad request"})"},
};

BOOST_DATA_TEST_CASE(engine_error_bodies_match_the_reference_server, bdata::xrange(std::size(bodies)), i) {
  BOOST_TEST(esink::detail::engine_error_body(bodies[i].first) == bodies[i].second);
}

BOOST_AUTO_TEST_CASE(random_ids_are_distinct_url_safe_and_20_chars) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = esink::detail::random_id();
    BOOST_TEST(id.size() == 20u);
    BOOST_TEST(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               std::string::npos);
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
