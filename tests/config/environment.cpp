#define BOOST_TEST_MODULE esink config
#include <esink/config/environment.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

namespace bdata = boost::unit_test::data;

namespace {

std::string error_of(const esink::environment& env) {
  try {
    esink::parse_config(env);
  } catch (const esink::config_error& e) {
    return e.what();
  }
  return "no error";
}

struct bad_case {
  std::vector<std::pair<std::string, std::string>> env;
  std::string message;
  friend std::ostream& operator<<(std::ostream& os, const bad_case& c) { return os << c.message; }
};

const std::vector<bad_case> bad_cases = {
    {{{"PORT", "eighty"}}, "PORT: expected a port number 0-65535, got 'eighty'"},
    {{{"PORT", "65536"}}, "PORT: expected a port number 0-65535, got '65536'"},
    {{{"PORT", "-1"}}, "PORT: expected a port number 0-65535, got '-1'"},
    {{{"MYSQL_DATABASE", "d"}, {"TABLE_NAMES", "a"}, {"MYSQL_PORT", "0"}},
     "MYSQL_PORT: expected a port number 1-65535, got '0'"},
    {{{"POSTGRES_DATABASE_URL", "postgresql://h/d"}, {"MYSQL_DATABASE", "d"}},
     "POSTGRES_DATABASE_URL and MYSQL_DATABASE are both set: esink watches one database, unset one"},
    {{{"POSTGRES_DATABASE_URL", "postgresql://h/d"}},
     "TABLE_NAMES: required with POSTGRES_DATABASE_URL (comma-separated tables to watch)"},
    {{{"MYSQL_DATABASE", "d"}, {"TABLE_NAMES", "a,,b.c.d"}},
     "TABLE_NAMES: expected a comma-separated list of [schema.]table, got 'a,,b.c.d'"},
    {{{"TABLE_NAMES", "a"}, {"TABLE_AUTH_COLUMN_ROUTING", "{\"b\": \"id\"}"}},
     "TABLE_AUTH_COLUMN_ROUTING: table \"b\" is not watched (TABLE_NAMES: a)"},
    {{{"TABLE_AUTH_COLUMN_ROUTING", "{\"b\": \"id\"}"}},
     "TABLE_AUTH_COLUMN_ROUTING: table \"b\" is not watched (TABLE_NAMES: empty)"},
    {{{"AUTH_TABLE", "users"}}, "AUTH_TABLE is set but AUTH_COLUMN is not: name the column of users that holds the token"},
    {{{"AUTH_COLUMN", "token"}}, "AUTH_COLUMN is set but AUTH_TABLE is not: name the table that holds the tokens"},
    {{{"ALLOW_REPUBLISHING", "sometimes"}}, "ALLOW_REPUBLISHING: expected true or false, got 'sometimes'"},
    {{{"ESINK_AUTH_CACHE_TTL_MS", "soon"}}, "ESINK_AUTH_CACHE_TTL_MS: expected a number 0-86400000, got 'soon'"},
    {{{"FILTERS", "users.password,token"}}, "FILTERS: expected table.column, got 'token' (item 2)"},
    {{{"MYSQL_USERNAME", "root"}}, "MYSQL_USERNAME is set but MYSQL_DATABASE is not: set MYSQL_DATABASE to use MySQL/MariaDB"},
    {{{"AUTH_TABLE", "u"}, {"AUTH_COLUMN", "t"}, {"ESINK_JWT_SECRET", "s"}},
     "ESINK_JWT_SECRET and AUTH_TABLE are both set: authenticate with JWTs or with the table, not both"},
};

esink::environment env_of(const std::vector<std::pair<std::string, std::string>>& kv) {
  esink::environment e;
  for (const auto& [k, v] : kv) e[k] = v;
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_environment)

BOOST_AUTO_TEST_CASE(defaults_are_the_seed_defaults) {
  auto c = esink::parse_config({});
  BOOST_TEST(c.port == 80);
  BOOST_TEST(c.node_env == "development");
  BOOST_TEST(!c.production);
  BOOST_TEST(!c.use_ssl);
  BOOST_TEST(c.default_source == "API");
  BOOST_TEST(!c.allow_republishing);
  BOOST_TEST(!c.security_token.has_value());
  BOOST_TEST((c.database == esink::database_kind::sqlite));
  BOOST_TEST(c.sqlite_path == "./esink.db");
  BOOST_TEST(c.mysql_table_target == "esink_pubsub");
  BOOST_TEST(c.mysql_port == 3306u);
  BOOST_TEST(c.test_token_allowed());
  BOOST_TEST(c.routing.empty());
  BOOST_TEST(c.filters.empty());
}

BOOST_AUTO_TEST_CASE(the_seed_compose_file_verbatim) {
  // docker-compose `- KEY=value` lines keep the single quotes in the value.
  auto c = esink::parse_config(env_of({{"NODE_ENV", "production"},
                                       {"USE_SSL", "true"},
                                       {"PORT", "80"},
                                       {"ALLOW_REPUBLISHING", "false"},
                                       {"DEFAULT_SOURCE", "'api'"},
                                       {"MYSQL_TABLE_TARGET", "'esink_pubsub'"},
                                       {"TABLE_NAMES", "'users,transactions,bankRecords,table_name_4'"},
                                       {"TABLE_AUTH_COLUMN_ROUTING", "'{\"users\": \"id\", \"transactions\": \"*\"}'"},
                                       {"SECURITY_TOKEN", "abc"},
                                       {"MYSQL_DATABASE", "app"},
                                       {"MYSQL_USERNAME", "esink"},
                                       {"MYSQL_PASSWORD", "pw"},
                                       {"MYSQL_HOST", "db"},
                                       {"MYSQL_PORT", "3306"}}));
  BOOST_TEST(c.production);
  BOOST_TEST(!c.test_token_allowed());
  BOOST_TEST(c.use_ssl);
  BOOST_TEST(c.default_source == "api");
  BOOST_TEST(c.mysql_table_target == "esink_pubsub");
  BOOST_TEST((c.database == esink::database_kind::mariadb));
  BOOST_TEST(c.tables.size() == 4u);
  BOOST_TEST(c.tables[2].name == "bankRecords");
  BOOST_TEST(c.routing.at("transactions").everyone);
  BOOST_TEST(*c.security_token == "abc");
  // bankRecords and table_name_4 have no rule: warned, not refused; so is the missing AUTH_TABLE.
  BOOST_REQUIRE(c.warnings.size() == 3u);
  BOOST_TEST(c.warnings[0].find("bankRecords") != std::string::npos);
  BOOST_TEST(c.warnings[1].find("table_name_4") != std::string::npos);
  BOOST_TEST(c.warnings[2].find("no client can connect") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(switches_ports_numbers_filters) {
  auto c = esink::parse_config(env_of({{"PORT", "0"},
                                       {"ALLOW_REPUBLISHING", "TRUE"},
                                       {"USE_SSL", "0"},
                                       {"ESINK_AUTH_CACHE_TTL_MS", "250"},
                                       {"ESINK_ALLOW_TEST_TOKEN", "yes"},
                                       {"NODE_ENV", "production"},
                                       {"FILTERS", "\"users.password, users.reset_password_token ,s.t.c\""},
                                       {"POSTGRES_DATABASE_URL", "postgresql://h/d"},
                                       {"TABLE_NAMES", "users"}}));
  BOOST_TEST(c.port == 0);
  BOOST_TEST(c.allow_republishing);
  BOOST_TEST(!c.use_ssl);
  BOOST_TEST(c.auth_cache_ttl.count() == 250);
  BOOST_TEST(c.test_token_allowed());
  BOOST_TEST(c.filters.removes("users", "password"));
  BOOST_TEST(c.filters.removes("users", "reset_password_token"));
  BOOST_TEST(c.filters.removes("s.t", "c"));
  BOOST_TEST((c.database == esink::database_kind::postgres));
}

BOOST_AUTO_TEST_CASE(unquote_strips_one_matching_pair) {
  BOOST_TEST(esink::unquote("'api'") == "api");
  BOOST_TEST(esink::unquote(" \"api\" ") == "api");
  BOOST_TEST(esink::unquote("'api\"") == "'api\"");
  BOOST_TEST(esink::unquote("'") == "'");
  BOOST_TEST(esink::unquote("''") == "");
}

BOOST_DATA_TEST_CASE(every_misconfiguration_is_one_line, bdata::make(bad_cases), c) {
  std::string m = error_of(env_of(c.env));
  BOOST_TEST(m == c.message);
  BOOST_TEST(m.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
