#include <esink/source/detail/pgoutput.hpp>

#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>

namespace po = esink::detail::pgoutput;

namespace {
std::string be(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(pgoutput)

BOOST_AUTO_TEST_CASE(xlog_data_and_keepalive) {
  const std::string xin = "w" + be(0x10, 8) + be(0x20, 8) + be(7, 8) + "Bpayload";  // the views point into it
  auto x = po::parse_copy(xin);
  BOOST_TEST_REQUIRE(x.kind == po::copy_message::xlog_data);
  BOOST_TEST(x.wal_start == 0x10u);
  BOOST_TEST(x.data == "Bpayload");
  auto k = po::parse_copy("k" + be(0x1234, 8) + be(7, 8) + std::string(1, '\1'));
  BOOST_TEST_REQUIRE(k.kind == po::copy_message::keepalive);
  BOOST_TEST(k.wal_end == 0x1234u);
  BOOST_TEST(k.reply_requested);
  BOOST_TEST(po::parse_copy("k" + be(1, 8)).kind == po::copy_message::malformed);  // cut short
  BOOST_TEST(po::parse_copy("w" + be(1, 8)).kind == po::copy_message::malformed);
  BOOST_TEST(po::parse_copy("").kind == po::copy_message::malformed);
  BOOST_TEST(po::parse_copy("z").kind == po::copy_message::unknown);
}

BOOST_AUTO_TEST_CASE(begin_message_commit) {
  // 2000-01-01 + 1 s in PostgreSQL's epoch is Unix 946684801 s.
  auto b = po::parse_logical("B" + be(0xABCDEF, 8) + be(1000000, 8) + be(42, 4));
  BOOST_TEST_REQUIRE(b.kind == po::logical_message::begin);
  BOOST_TEST(b.final_lsn == 0xABCDEFu);
  BOOST_TEST(b.commit_time_us == 946684801000000);
  const std::string content = "i5:users{\"id\":1}";
  const std::string min =
      "M" + std::string(1, '\1') + be(0x99, 8) + "esink:esink" + std::string(1, '\0') + be(content.size(), 4) + content;
  auto m = po::parse_logical(min);
  BOOST_TEST_REQUIRE(m.kind == po::logical_message::message);
  BOOST_TEST(m.transactional);
  BOOST_TEST(m.prefix == "esink:esink");
  BOOST_TEST(m.content == content);
  auto c = po::parse_logical("C" + std::string(1, '\0') + be(0xABCDEF, 8) + be(0xABCE00, 8) + be(0, 8));
  BOOST_TEST_REQUIRE(c.kind == po::logical_message::commit);
  BOOST_TEST(c.final_lsn == 0xABCDEFu);
  BOOST_TEST(c.end_lsn == 0xABCE00u);
  // Content longer than the message, no NUL after the prefix, a cut begin: malformed.
  BOOST_TEST(po::parse_logical("M" + std::string(1, '\1') + be(1, 8) + "p" + std::string(1, '\0') + be(10, 4) + "abc").kind ==
             po::logical_message::malformed);
  BOOST_TEST(po::parse_logical("M" + std::string(1, '\1') + be(1, 8) + "prefix").kind == po::logical_message::malformed);
  BOOST_TEST(po::parse_logical("B" + be(1, 8)).kind == po::logical_message::malformed);
  // A timestamp near the end of int64 saturates instead of overflowing (found by the fuzzer).
  auto far = po::parse_logical("B" + be(1, 8) + be(0x7fffffffffffffffull, 8) + be(1, 4));
  BOOST_TEST(far.commit_time_us == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(po::parse_logical("R" + be(1, 4)).kind == po::logical_message::other);  // a relation: not read
}

BOOST_AUTO_TEST_CASE(content_written_by_the_trigger) {
  esink::change_type op;
  std::string_view table, row;
  BOOST_TEST_REQUIRE(po::parse_content("u13:public.orders{\"a\":1}", op, table, row));
  BOOST_TEST((op == esink::change_type::update));
  BOOST_TEST(table == "public.orders");
  BOOST_TEST(row == "{\"a\":1}");
  // The length counts bytes: a name with a colon and multi-byte characters.
  BOOST_TEST_REQUIRE(po::parse_content("d5:a:\xc3\xa9z{}", op, table, row));
  BOOST_TEST((op == esink::change_type::remove));
  BOOST_TEST(table == "a:\xc3\xa9z");
  for (const char* bad : {"", "x5:users{}", "i:users{}", "i5users{}", "i50:users{}", "i5:users", "iabc:users{}"})
    BOOST_TEST(!po::parse_content(bad, op, table, row), bad);
}

BOOST_AUTO_TEST_CASE(status_update_and_lsn_text) {
  const std::string s = po::status_update(0x0000001600000010ull, po::pg_epoch_offset_us + 5);
  BOOST_TEST_REQUIRE(s.size() == 34u);
  BOOST_TEST(s[0] == 'r');
  BOOST_TEST(s.substr(1, 8) == be(0x0000001600000010ull, 8));
  BOOST_TEST(s.substr(9, 8) == be(0x0000001600000010ull, 8));
  BOOST_TEST(s.substr(25, 8) == be(5, 8));
  BOOST_TEST(s[33] == '\0');
  BOOST_TEST(po::lsn_text(0x16B374D848ull) == "16/B374D848");
  std::uint64_t v = 0;
  BOOST_TEST_REQUIRE(po::parse_lsn("16/B374D848", v));
  BOOST_TEST(v == 0x16B374D848ull);
  for (const char* bad : {"", "/1", "1/", "16B374D848", "g/1", "123456789/1"}) BOOST_TEST(!po::parse_lsn(bad, v), bad);
}

BOOST_AUTO_TEST_SUITE_END()
