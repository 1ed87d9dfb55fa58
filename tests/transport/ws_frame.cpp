#include <esink/transport/detail/ws_frame.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace bdata = boost::unit_test::data;

BOOST_AUTO_TEST_SUITE(ws_frame)

struct header_case {
  bool binary;
  std::uint64_t length;
  std::vector<unsigned char> expected;
};

std::ostream& operator<<(std::ostream& os, const header_case& c) {
  return os << (c.binary ? "binary " : "text ") << c.length;
}

const header_case cases[] = {
    {false, 0, {0x81, 0x00}},
    {false, 125, {0x81, 125}},
    {true, 126, {0x82, 126, 0x00, 126}},
    {false, 65535, {0x81, 126, 0xff, 0xff}},
    {true, 65536, {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
    {false, 1000000, {0x81, 127, 0, 0, 0, 0, 0x00, 0x0f, 0x42, 0x40}},
};

BOOST_DATA_TEST_CASE(header_bytes, bdata::make(cases), c) {
  std::string h = esink::detail::ws_frame_header(c.binary, c.length);
  std::vector<unsigned char> got(h.begin(), h.end());
  BOOST_TEST(got == c.expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
