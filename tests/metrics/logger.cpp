#include <esink/log/logger.hpp>
#include <esink/log/config_summary.hpp>
#include <esink/log/mask.hpp>

#include <esink/config/environment.hpp>

#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <vector>

namespace {

struct captured {
  std::vector<std::string> lines;
  esink::log::logger make(esink::log::level l) {
    return esink::log::logger(l, [this](std::string_view line) { lines.emplace_back(line); });
  }
};

/// The line without its `ts=... ` prefix, after checking the timestamp's shape.
std::string body(const std::string& line) {
  static const std::regex ts(R"(^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
  BOOST_TEST(std::regex_search(line, ts), line);
  BOOST_TEST(line.back() == '\n');
  return line.substr(28, line.size() - 29);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(logger_)

BOOST_AUTO_TEST_CASE(one_logfmt_line_per_event) {
  captured c;
  auto l = c.make(esink::log::level::info);
  l.info("source connected", {{"source", "postgres"}, {"tables", 3}, {"tls", false}, {"lag", 0.5}});
  l.warn("odd", {{"empty", ""}, {"quote", "a \"b\" c"}, {"eq", "k=v"}, {"nl", "x\ny\tz\\"}, {"ctl", "\x01"}});
  BOOST_REQUIRE(c.lines.size() == 2u);
  BOOST_TEST(body(c.lines[0]) == R"(level=info msg="source connected" source=postgres tables=3 tls=false lag=0.5)");
  BOOST_TEST(body(c.lines[1]) == R"(level=warn msg=odd empty="" quote="a \"b\" c" eq="k=v" nl="x\ny\tz\\" ctl="\u0001")");
}

BOOST_AUTO_TEST_CASE(levels_filter) {
  captured c;
  auto l = c.make(esink::log::level::warn);
  l.debug("d");
  l.info("i");
  l.warn("w");
  l.error("e");
  BOOST_REQUIRE(c.lines.size() == 2u);
  BOOST_TEST(body(c.lines[0]) == "level=warn msg=w");
  BOOST_TEST(body(c.lines[1]) == "level=error msg=e");
  l.set_level(esink::log::level::debug);
  l.debug("d");
  BOOST_TEST(c.lines.size() == 3u);
}

BOOST_AUTO_TEST_CASE(level_names) {
  esink::log::level l{};
  BOOST_TEST((esink::log::parse_level("DEBUG", l) && l == esink::log::level::debug));
  BOOST_TEST((esink::log::parse_level("warning", l) && l == esink::log::level::warn));
  BOOST_TEST((esink::log::parse_level("error", l) && l == esink::log::level::error));
  BOOST_TEST(!esink::log::parse_level("verbose", l));
  BOOST_TEST(!esink::log::parse_level("", l));
}

BOOST_AUTO_TEST_CASE(log_level_setting) {
  using esink::log::level;
  BOOST_TEST((esink::parse_config({}).log_level == level::info));
  BOOST_TEST((esink::parse_config({{"NODE_ENV", "production"}}).log_level == level::warn));  // quiet in production
  BOOST_TEST((esink::parse_config({{"NODE_ENV", "production"}, {"LOG_LEVEL", "'debug'"}}).log_level == level::debug));
  try {
    esink::parse_config({{"LOG_LEVEL", "loud"}});
    BOOST_FAIL("LOG_LEVEL=loud accepted");
  } catch (const esink::config_error& e) {
    BOOST_TEST(std::string(e.what()) == "LOG_LEVEL: expected error, warn, info or debug, got 'loud'");
  }
  BOOST_TEST(esink::parse_config({{"ESINK_SHUTDOWN_TIMEOUT_MS", "2500"}}).shutdown_timeout.count() == 2500);
  BOOST_CHECK_THROW(esink::parse_config({{"ESINK_SHUTDOWN_TIMEOUT_MS", "0"}}), esink::config_error);
  BOOST_TEST(*esink::parse_config({{"METRICS_TOKEN", "m"}}).metrics_token == "m");
}

BOOST_AUTO_TEST_CASE(urls_lose_their_password) {
  using esink::log::mask_url;
  BOOST_TEST(mask_url("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x");
  BOOST_TEST(mask_url("postgresql://app:p@ss@db/x?sslmode=require") == "postgresql://app:***@db/x?sslmode=require");
  BOOST_TEST(mask_url("postgresql://app@db/x") == "postgresql://app@db/x");
  BOOST_TEST(mask_url("postgresql://db/x?user=a&password=s3cret&sslmode=require") ==
             "postgresql://db/x?user=a&password=***&sslmode=require");
  BOOST_TEST(mask_url("host=db password=s3cret dbname=x") == "host=db password=*** dbname=x");
  BOOST_TEST(mask_url(R"(host=db password = 'it\'s s3cret' dbname=x)") == "host=db password = *** dbname=x");
  BOOST_TEST(mask_url("host=db user=passwordless") == "host=db user=passwordless");
  BOOST_TEST(esink::log::mask_secret("abc") == "***");
  BOOST_TEST(esink::log::mask_secret("") == "unset");
}

BOOST_AUTO_TEST_CASE(config_summary_masks_every_secret) {
  captured c;
  auto l = c.make(esink::log::level::info);
  auto pg = esink::parse_config({{"POSTGRES_DATABASE_URL", "postgresql://app:PGPASS@db/x"},
                                 {"TABLE_NAMES", "users"},
                                 {"SECURITY_TOKEN", "SECTOKEN"},
                                 {"ESINK_JWT_SECRET", "JWTSECRET"},
                                 {"METRICS_TOKEN", "METRICSTOKEN"}});
  esink::log::config_summary(l, pg);
  auto my = esink::parse_config({{"MYSQL_DATABASE", "d"}, {"MYSQL_USERNAME", "u"}, {"MYSQL_PASSWORD", "MYPASS"},
                                 {"TABLE_NAMES", "users"}});
  esink::log::config_summary(l, my);
  BOOST_REQUIRE(c.lines.size() == 2u);
  for (const char* secret : {"PGPASS", "SECTOKEN", "JWTSECRET", "METRICSTOKEN", "MYPASS"})
    for (const auto& line : c.lines) BOOST_TEST(line.find(secret) == std::string::npos, line);
  BOOST_TEST(c.lines[0].find("location=postgresql://app:***@db/x ") != std::string::npos, c.lines[0]);
  BOOST_TEST(c.lines[0].find("security_token=*** ") != std::string::npos);
  BOOST_TEST(c.lines[0].find("jwt_secret=*** ") != std::string::npos);
  BOOST_TEST(c.lines[0].find("metrics_token=*** ") != std::string::npos);
  BOOST_TEST(c.lines[1].find("mysql_password=*** ") != std::string::npos, c.lines[1]);
  BOOST_TEST(c.lines[1].find("security_token=unset ") != std::string::npos);

  captured quiet;
  esink::log::config_summary(quiet.make(esink::log::level::warn), pg);
  BOOST_TEST(quiet.lines.empty());
}

BOOST_AUTO_TEST_SUITE_END()
