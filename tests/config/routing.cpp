#include <esink/config/routing.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

BOOST_AUTO_TEST_SUITE(config_routing)

BOOST_AUTO_TEST_CASE(the_seed_readme_example_parses) {
  // The README's example verbatim: comments, a single-quoted '*', trailing commas.
  auto rules = esink::parse_routing(R"({
    // Mapping: "TABLE_NAME": "COLUMN_NAME",
    "users": "id",
    "games": "hostUserId",
    "pushNotifications": [
    	"userID",
        "senderID",
        "recipientID"
    ],
    "targetStatuses": '*',
    /* block comment */
    "usersXtargets": "userID",
})");
  BOOST_TEST(rules.size() == 5u);
  BOOST_TEST(rules.at("users").columns == std::vector<std::string>{"id"});
  BOOST_TEST(rules.at("pushNotifications").columns.size() == 3u);
  BOOST_TEST(rules.at("targetStatuses").everyone);
  BOOST_TEST(!rules.at("games").everyone);
}

BOOST_AUTO_TEST_CASE(wrapped_in_quotes_and_empty) {
  BOOST_TEST(esink::parse_routing("'{\"a\": \"id\"}'").at("a").columns.front() == "id");
  BOOST_TEST(esink::parse_routing("").empty());
  BOOST_TEST(esink::parse_routing("  ").empty());
  // A single-quoted string holding a double quote keeps it.
  BOOST_TEST(esink::parse_routing("{'a': 'we\"ird'}").at("a").columns.front() == "we\"ird");
}

std::string error_of(const std::string& text) {
  try {
    esink::parse_routing(text);
  } catch (const esink::config_error& e) {
    return e.what();
  }
  return "no error";
}

BOOST_AUTO_TEST_CASE(errors_name_the_variable_and_position) {
  BOOST_TEST(error_of("{\n  \"a\": \"id\"\n  \"b\": 1}").rfind("TABLE_AUTH_COLUMN_ROUTING: invalid JSON at line 3, column 3: ", 0) == 0u);
  BOOST_TEST(error_of("{\"a\": \"id\"").find("invalid JSON at line 1, column 11") != std::string::npos);
  BOOST_TEST(error_of("[1]") == "TABLE_AUTH_COLUMN_ROUTING: expected a JSON object mapping table names to columns");
  BOOST_TEST(error_of("{\"a\": 1}") ==
             "TABLE_AUTH_COLUMN_ROUTING: table \"a\": expected a column name, an array of column names, or \"*\"");
  BOOST_TEST(error_of("{\"a\": []}").find("empty array") != std::string::npos);
  BOOST_TEST(error_of("{\"a\": [\"x\", 2]}").find("every array item must be a column name") != std::string::npos);
  BOOST_TEST(error_of("{\"a\": [\"*\"]}").find("must stand alone") != std::string::npos);
  BOOST_TEST(error_of("{\"a\": \"\"}").find("empty column name") != std::string::npos);
  BOOST_TEST(error_of("{\"a\": \"id\"} x").find("invalid JSON at line 1, column 13") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
