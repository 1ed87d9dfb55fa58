#include <esink/protocol/engineio/parser.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bdata = boost::unit_test::data;
namespace eio = esink::protocol::engineio;
using esink::error;

namespace {

struct frame_case {
  std::string_view in;
  eio::packet_type type;
  std::string_view data;
};
std::ostream& operator<<(std::ostream& os, const frame_case& c) { return os << c.in; }

// engine.io-protocol, "Packet encoding": every type, with and without data.
const frame_case frames[] = {
    {"0", eio::packet_type::open, ""},
    {"0{\"sid\":\"abc\"}", eio::packet_type::open, "{\"sid\":\"abc\"}"},
    {"1", eio::packet_type::close, ""},
    {"2", eio::packet_type::ping, ""},
    {"2probe", eio::packet_type::ping, "probe"},
    {"3", eio::packet_type::pong, ""},
    {"3probe", eio::packet_type::pong, "probe"},
    {"4", eio::packet_type::message, ""},
    {"4hello", eio::packet_type::message, "hello"},
    {"4\xe2\x82\xac\xe2\x82\xac", eio::packet_type::message, "\xe2\x82\xac\xe2\x82\xac"},
    {"42[\"ev\",1]", eio::packet_type::message, "2[\"ev\",1]"},
    {"4\x1e", eio::packet_type::message, "\x1e"},
    {"5", eio::packet_type::upgrade, ""},
    {"6", eio::packet_type::noop, ""},
};

struct error_case {
  std::string_view in;
  error e;
};
std::ostream& operator<<(std::ostream& os, const error_case& c) { return os << c.in; }

const error_case bad_frames[] = {
    {"", error::empty_packet},
    {"7", error::bad_packet_type},
    {"9", error::bad_packet_type},
    {"x", error::bad_packet_type},
    {"/", error::bad_packet_type},
    {"bAQID", error::bad_packet_type},  // base64 binary is polling-only
    {" 4hello", error::bad_packet_type},
    {std::string_view("\0", 1), error::bad_packet_type},
    {"\xff", error::bad_packet_type},
};

struct payload_packet {
  eio::packet_type type;
  bool binary;
  std::string data;
  bool operator==(const payload_packet& o) const {
    return type == o.type && binary == o.binary && data == o.data;
  }
};
std::ostream& operator<<(std::ostream& os, const payload_packet& p) {
  return os << static_cast<int>(p.type) << (p.binary ? "b:" : ":") << p.data;
}

struct payload_case {
  std::string_view body;
  std::vector<payload_packet> packets;
};
std::ostream& operator<<(std::ostream& os, const payload_case& c) { return os << c.body; }

// engine.io-protocol, "Packet encoding > HTTP long-polling", and engine.io-parser's examples.
const payload_case payloads[] = {
    {"4hello", {{eio::packet_type::message, false, "hello"}}},
    {"2", {{eio::packet_type::ping, false, ""}}},
    {"4hello\x1e"
     "4\xe2\x82\xac",
     {{eio::packet_type::message, false, "hello"},
      {eio::packet_type::message, false, "\xe2\x82\xac"}}},
    {"4hello\x1e"
     "bAQID",
     {{eio::packet_type::message, false, "hello"},
      {eio::packet_type::message, true, std::string("\x01\x02\x03")}}},
    {"bAQID\x1e"
     "bBAUG\x1e"
     "6",
     {{eio::packet_type::message, true, "\x01\x02\x03"},
      {eio::packet_type::message, true, "\x04\x05\x06"},
      {eio::packet_type::noop, false, ""}}},
    {"b", {{eio::packet_type::message, true, ""}}},
    {"bAA==", {{eio::packet_type::message, true, std::string(1, '\0')}}},
    {"1\x1e"
     "4",
     {{eio::packet_type::close, false, ""}, {eio::packet_type::message, false, ""}}},
    {"40\x1e"
     "42[\"a\"]\x1e"
     "3",
     {{eio::packet_type::message, false, "0"},
      {eio::packet_type::message, false, "2[\"a\"]"},
      {eio::packet_type::pong, false, ""}}},
};

const error_case bad_payloads[] = {
    {"", error::empty_packet},
    {"\x1e", error::empty_packet},
    {"4a\x1e", error::empty_packet},
    {"\x1e"
     "4a",
     error::empty_packet},
    {"4a\x1e\x1e"
     "4b",
     error::empty_packet},
    {"4a\x1e"
     "9",
     error::bad_packet_type},
    {"x", error::bad_packet_type},
    {"4a\x1e"
     "bA",
     error::bad_base64},
    {"bAQI", error::bad_base64},  // "AQI": length not a multiple of 4
    {"b!!!!", error::bad_base64},
    {"bAQ=D", error::bad_base64},
    {"4ok\x1e"
     "bAQID\x1e"
     "b====",
     error::bad_base64},
};

std::vector<payload_packet> collect(std::string_view body, std::error_code& ec,
                                    const eio::limits& lim = {}) {
  std::vector<payload_packet> got;
  const std::size_t n = eio::parse_payload(
      body, [&](const eio::packet& p) { got.push_back({p.type, p.binary, std::string(p.data)}); },
      ec, lim);
  BOOST_TEST(n == (ec ? 0 : body.size()));
  return got;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engineio_parser)

BOOST_DATA_TEST_CASE(text_frame, bdata::make(frames), c) {
  std::error_code ec = error::bad_json;  // must be cleared
  const auto p = eio::parse_text_frame(c.in, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(static_cast<int>(p.type) == static_cast<int>(c.type));
  BOOST_TEST(!p.binary);
  BOOST_TEST(p.data == c.data);
  BOOST_TEST(p.data.data() == c.in.data() + 1);  // a view, no copy
}

BOOST_DATA_TEST_CASE(text_frame_rejects, bdata::make(bad_frames), c) {
  std::error_code ec;
  eio::parse_text_frame(c.in, ec);
  BOOST_TEST(ec == make_error_code(c.e), ec.message());
}

BOOST_AUTO_TEST_CASE(text_frame_limit) {
  const std::string at_limit = "4" + std::string(99, 'a');
  const std::string over = at_limit + "a";
  std::error_code ec;
  eio::parse_text_frame(at_limit, ec, {100, 10});
  BOOST_TEST(!ec);
  eio::parse_text_frame(over, ec, {100, 10});
  BOOST_TEST(ec == make_error_code(error::payload_too_large));
  BOOST_TEST((ec == esink::condition::limit_exceeded));
}

BOOST_AUTO_TEST_CASE(binary_frame) {
  const std::string_view bytes("\x00\x01\x1e\xff", 4);
  const auto p = eio::parse_binary_frame(bytes);
  BOOST_TEST(static_cast<int>(p.type) == static_cast<int>(eio::packet_type::message));
  BOOST_TEST(p.binary);
  BOOST_TEST(p.data.data() == bytes.data());
  BOOST_TEST(p.data.size() == 4u);
  BOOST_TEST(eio::parse_binary_frame({}).data.empty());
}

BOOST_DATA_TEST_CASE(payload, bdata::make(payloads), c) {
  std::error_code ec = error::bad_json;
  const auto got = collect(c.body, ec);
  BOOST_TEST(!ec, ec.message());
  BOOST_TEST(got == c.packets, boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(payload_rejects_without_delivering, bdata::make(bad_payloads), c) {
  std::error_code ec;
  const auto got = collect(c.in, ec);
  BOOST_TEST(ec == make_error_code(c.e), ec.message());
  BOOST_TEST(got.empty());
}

BOOST_AUTO_TEST_CASE(payload_size_limit) {
  const std::string body = "4" + std::string(9, 'a');
  std::error_code ec;
  BOOST_TEST(collect(body, ec, {10, 10}).size() == 1u);
  BOOST_TEST(!ec);
  BOOST_TEST(collect(body + "a", ec, {10, 10}).empty());
  BOOST_TEST(ec == make_error_code(error::payload_too_large));
}

BOOST_AUTO_TEST_CASE(payload_packet_limit) {
  std::string body = "2";
  for (int i = 1; i < 3; ++i) body += "\x1e" "2";
  std::error_code ec;
  BOOST_TEST(collect(body, ec, {1000, 3}).size() == 3u);
  BOOST_TEST(!ec);
  body += "\x1e" "2";
  BOOST_TEST(collect(body, ec, {1000, 3}).empty());
  BOOST_TEST(ec == make_error_code(error::too_many_packets));
}

BOOST_AUTO_TEST_SUITE_END()
