#include <esink/source/detail/row_parser.hpp>

#include <esink/source/detail/backoff.hpp>
#include <esink/source/detail/base64.hpp>
#include <esink/source/detail/quote.hpp>

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace d = esink::detail;
namespace json = boost::json;

namespace {
d::column_types types() {
  d::column_types t;
  t.set("id", d::column_kind::plain);
  t.set("n", d::column_kind::numeric);
  t.set("b", d::column_kind::binary);
  t.set("flag", d::column_kind::boolean);
  t.set("j", d::column_kind::plain);
  return t;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(row_parser)

BOOST_AUTO_TEST_CASE(kinds_rewrite_values) {
  std::error_code ec;
  bool unknown = true;
  auto row = d::parse_row(
      R"({"id":9223372036854775807,"n":[1.50,-0.000000000000000000001,null,"NaN"],"b":"\\x00ff10","flag":1,"j":{"n":1.5,"flag":1}})",
      types(), ec, &unknown);
  BOOST_TEST_REQUIRE(!ec);
  BOOST_TEST(!unknown);
  BOOST_TEST(json::serialize(row) ==
             R"({"id":9223372036854775807,"n":["1.50","-0.000000000000000000001",null,"NaN"],"b":"AP8Q","flag":true,"j":{"n":1.5E0,"flag":1}})");
}

BOOST_AUTO_TEST_CASE(unknown_columns_are_reported_and_kept) {
  std::error_code ec;
  bool unknown = false;
  auto row = d::parse_row(R"({"id":1,"new_col":"x"})", types(), ec, &unknown);
  BOOST_TEST(!ec);
  BOOST_TEST(unknown);
  BOOST_TEST(row.at("new_col").as_string() == "x");
}

BOOST_AUTO_TEST_CASE(binary_that_is_not_hex_stays_text) {
  std::error_code ec;
  auto row = d::parse_row(R"({"b":"\\xZZ","b2":"\\x00"})", types(), ec);
  BOOST_TEST(row.at("b").as_string() == "\\xZZ");
  BOOST_TEST(row.at("b2").as_string() == "\\x00");  // plain column: untouched
}

BOOST_AUTO_TEST_CASE(rejects_what_is_not_one_object) {
  for (const char* bad : {"", "[1]", "1", "\"s\"", "{\"a\":1} x", "{\"a\":", "{\"a\":1}{}", "\xff"}) {
    std::error_code ec;
    d::parse_row(bad, types(), ec);
    BOOST_TEST((ec == esink::error::bad_json), bad);
  }
  std::error_code ec;
  d::parse_row("{\"j\":" + std::string(2000, '[') + std::string(2000, ']') + "}", types(), ec);
  BOOST_TEST((ec == esink::error::too_deep));
}

BOOST_AUTO_TEST_CASE(txid_payload) {
  std::uint64_t x = 0;
  BOOST_TEST(d::parse_txid("18446744073709551615", x));
  BOOST_TEST(x == 18446744073709551615ULL);
  BOOST_TEST(!d::parse_txid("18446744073709551616", x));
  BOOST_TEST(!d::parse_txid("", x));
  BOOST_TEST(!d::parse_txid("12a", x));
}

BOOST_AUTO_TEST_CASE(base64_and_quoting) {
  std::string out;
  for (auto [in, want] : {std::pair<const char*, const char*>{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="},
                          {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}}) {
    out.clear();
    d::base64_append(out, in);
    BOOST_TEST(out == want);
  }
  BOOST_TEST(d::quote_identifier("we\"ird") == "\"we\"\"ird\"");
  BOOST_TEST(d::quote_identifier("a`b", '`') == "`a``b`");
  BOOST_TEST(d::quote_qualified("s", "t") == "\"s\".\"t\"");
  BOOST_TEST(d::quote_literal("it's") == "'it''s'");
}

BOOST_AUTO_TEST_CASE(backoff_grows_and_caps) {
  d::backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (int i = 0; i < 10; ++i) {
    auto v = b.next();
    BOOST_TEST(v.count() >= 50);
    BOOST_TEST(v.count() <= 1000);
  }
  b.reset();
  BOOST_TEST(b.next().count() <= 100);
}

BOOST_AUTO_TEST_SUITE_END()
