#include <esink/protocol/detail/base64.hpp>

// The one translation unit that defines the test module.
#define BOOST_TEST_MODULE esink protocol
#include <boost/test/unit_test.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace bdata = boost::unit_test::data;
using esink::protocol::detail::base64_decode;
using esink::protocol::detail::base64_encode;

namespace {

struct pair_case {
  std::string_view raw;
  std::string_view encoded;
};
std::ostream& operator<<(std::ostream& os, const pair_case& c) { return os << c.encoded; }

// RFC 4648 section 10 test vectors, plus every byte value.
const pair_case pairs[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {std::string_view("\x01\x02\x03", 3), "AQID"},
    {std::string_view("\x00", 1), "AA=="},
    {std::string_view("\xff\xfe\xfd\xfc", 4), "//79/A=="},
    {std::string_view("\xfb\xef\xbe", 3), "++++"},
};

const std::string_view invalid[] = {
    "A", "AB", "ABC", "AAAAA", "Zg=", "Zg", "Z===", "====", "=AAA", "AA=A", "Zm9v YmFy",
    "Zm9v\nYmFy", "Zm9v-_==", "Zm9vYmFy=", "Zm8=Zm8=", "\xc3\xa9\xc3\xa9",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(base64)

BOOST_DATA_TEST_CASE(encode_known, bdata::make(pairs), c) {
  std::string out = "prefix:";
  base64_encode(c.raw, out);
  BOOST_TEST(out == "prefix:" + std::string(c.encoded));
}

BOOST_DATA_TEST_CASE(decode_known, bdata::make(pairs), c) {
  std::string out = "prefix:";
  BOOST_TEST(base64_decode(c.encoded, out));
  BOOST_TEST(out == "prefix:" + std::string(c.raw));
}

BOOST_DATA_TEST_CASE(decode_rejects, bdata::make(invalid), in) {
  std::string out = "keep";
  BOOST_TEST(!base64_decode(in, out));
  BOOST_TEST(out == "keep");
}

BOOST_AUTO_TEST_CASE(trailing_bits_ignored) {
  // "Zh==" has non-zero unused bits; Node's Buffer.from decodes it to "f" as well.
  std::string out;
  BOOST_TEST(base64_decode("Zh==", out));
  BOOST_TEST(out == "f");
}

BOOST_AUTO_TEST_CASE(round_trip_all_bytes) {
  std::string raw;
  for (int i = 0; i < 256; ++i) raw.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= raw.size(); n += 37) {
    const std::string_view in(raw.data(), n);
    std::string enc, dec;
    base64_encode(in, enc);
    BOOST_TEST(enc.size() == (n + 2) / 3 * 4);
    BOOST_TEST(base64_decode(enc, dec));
    BOOST_TEST(dec == in);
  }
}

BOOST_AUTO_TEST_SUITE_END()
