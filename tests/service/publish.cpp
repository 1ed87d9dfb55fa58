#include <esink/service/publish.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace {

bool check(const char* body, esink::published_event& e, esink::publish_error& err, bool require_user = true) {
  return esink::validate_publish(boost::json::parse(body).as_object(), "API", require_user, e, err);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_publish)

BOOST_AUTO_TEST_CASE(defaults_and_optional_fields) {
  esink::published_event e;
  esink::publish_error err;
  BOOST_REQUIRE(check(R"({"data":{},"type":"DELETE","userId":"101","table":"t"})", e, err));
  BOOST_TEST(e.user == "101");
  BOOST_TEST(!e.everyone);
  BOOST_TEST((e.payload.type == esink::change_type::remove));
  BOOST_TEST(e.payload.source == "API");
  BOOST_TEST(e.payload.version == 1);
  BOOST_TEST(e.payload.timestamp.is_int64());
  BOOST_TEST(e.payload.id.size() == 36u);
  esink::published_event s;
  BOOST_REQUIRE(check(R"({"data":{"a":1},"type":"insert","userId":"*","table":"t","timestamp":5,"source":"x","version":2})", s, err));
  BOOST_TEST(s.everyone);
  BOOST_TEST(s.payload.timestamp == 5);
  BOOST_TEST(s.payload.source == "x");
  BOOST_TEST(s.payload.version == 2);
  BOOST_TEST(s.payload.id != e.payload.id);
}

BOOST_AUTO_TEST_CASE(each_bad_field_is_named) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"insert","userId":"1","table":"t"})", "data"},
      {R"({"data":"x","type":"insert","userId":"1","table":"t"})", "data"},
      {R"({"data":{},"userId":"1","table":"t"})", "type"},
      {R"({"data":{},"type":"upsert","userId":"1","table":"t"})", "type"},
      {R"({"data":{},"type":"insert","table":"t"})", "userId"},
      {R"({"data":{},"type":"insert","userId":true,"table":"t"})", "userId"},
      {R"({"data":{},"type":"insert","userId":"","table":"t"})", "userId"},
      {R"({"data":{},"type":"insert","userId":"1"})", "table"},
      {R"({"data":{},"type":"insert","userId":"1","table":""})", "table"},
      {R"({"data":{},"type":"insert","userId":"1","table":"t","timestamp":"x"})", "timestamp"},
      {R"({"data":{},"type":"insert","userId":"1","table":"t","source":2})", "source"},
      {R"({"data":{},"type":"insert","userId":"1","table":"t","version":"2"})", "version"},
  };
  for (auto [body, key] : cases) {
    esink::published_event e;
    esink::publish_error err;
    BOOST_TEST(!check(body, e, err), body);
    BOOST_TEST(err.status == 400);
    BOOST_TEST(err.key == key, body);
    BOOST_TEST(err.message.find(key) != std::string::npos);
  }
  esink::published_event e;
  esink::publish_error err;
  BOOST_TEST(check(R"({"data":{},"type":"insert","table":"t"})", e, err, false));  // republish: own user
}

BOOST_AUTO_TEST_CASE(token_comparison) {
  BOOST_TEST(esink::constant_time_equal("secret", "secret"));
  BOOST_TEST(!esink::constant_time_equal("secret", "secreT"));
  BOOST_TEST(!esink::constant_time_equal("secret", "secret2"));
  BOOST_TEST(!esink::constant_time_equal("", "x"));
  BOOST_TEST(!esink::constant_time_equal("x", ""));
  BOOST_TEST(esink::constant_time_equal("", ""));
  BOOST_TEST(!esink::constant_time_equal("secretsecret", "secret"));  // a repetition of the secret
  BOOST_TEST(!esink::constant_time_equal("secre", "secret"));
  BOOST_TEST(!esink::constant_time_equal(std::string_view("secret\0", 7), "secret"));
}

BOOST_AUTO_TEST_SUITE_END()
