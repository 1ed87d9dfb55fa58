#include <esink/source/table_list.hpp>

#define BOOST_TEST_MODULE source_unit
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

namespace {
struct list_case {
  const char* text;
  const char* expected;  // qualified names joined by '|', or nullptr for bad_config
};
std::ostream& operator<<(std::ostream& os, const list_case& c) { return os << c.text; }

const list_case cases[] = {
    {"users,table_2,pushNotifications", "users|table_2|pushNotifications"},
    {"'users,transactions,bankRecords,table_name_4'", "users|transactions|bankRecords|table_name_4"},
    {" users , public.orders ,", "users|public.orders"},
    {R"('"Odd Schema"."My.Table", "select"')", "Odd Schema.My.Table|select"},
    {"'single'", "single"},
    {"", nullptr},
    {" , ", nullptr},
    {"a.b.c", nullptr},
    {"\"unterminated", nullptr},
    {"schema.", nullptr},
};
}  // namespace

BOOST_AUTO_TEST_SUITE(table_list)

BOOST_DATA_TEST_CASE(parse_table_list, boost::unit_test::data::make(cases), c) {
  std::error_code ec;
  auto list = esink::parse_table_list(c.text, ec);
  if (!c.expected) {
    BOOST_TEST((ec == esink::error::bad_config));
    return;
  }
  BOOST_TEST_REQUIRE(!ec);
  std::string joined;
  for (auto& t : list) joined += (joined.empty() ? "" : "|") + t.qualified();
  BOOST_TEST(joined == c.expected);
}

BOOST_AUTO_TEST_CASE(schema_and_name_are_kept_apart) {
  std::error_code ec;
  auto list = esink::parse_table_list("\"a.b\".c", ec);
  BOOST_TEST_REQUIRE(list.size() == 1u);
  BOOST_TEST(list[0].schema == "a.b");
  BOOST_TEST(list[0].name == "c");
}

BOOST_AUTO_TEST_SUITE_END()
