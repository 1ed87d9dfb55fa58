#include <esink/protocol/engineio/serializer.hpp>

#include <esink/protocol/engineio/parser.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bdata = boost::unit_test::data;
namespace eio = esink::protocol::engineio;

namespace {

struct packet_case {
  eio::packet_type type;
  std::string_view data;
  std::string_view wire;
};
std::ostream& operator<<(std::ostream& os, const packet_case& c) { return os << c.wire; }

const packet_case packets[] = {
    {eio::packet_type::open, "{\"sid\":\"x\"}", "0{\"sid\":\"x\"}"},
    {eio::packet_type::close, "", "1"},
    {eio::packet_type::ping, "", "2"},
    {eio::packet_type::ping, "probe", "2probe"},
    {eio::packet_type::pong, "probe", "3probe"},
    {eio::packet_type::message, "hello", "4hello"},
    {eio::packet_type::message, "\xe2\x82\xac", "4\xe2\x82\xac"},
    {eio::packet_type::upgrade, "", "5"},
    {eio::packet_type::noop, "", "6"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(engineio_serializer)

BOOST_DATA_TEST_CASE(text_packet, bdata::make(packets), c) {
  std::string out = "x";
  eio::append_packet(out, c.type, c.data);
  BOOST_TEST(out == "x" + std::string(c.wire));
}

BOOST_DATA_TEST_CASE(text_round_trip, bdata::make(packets), c) {
  std::string out;
  eio::append_packet(out, c.type, c.data);
  std::error_code ec;
  const auto p = eio::parse_text_frame(out, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(static_cast<int>(p.type) == static_cast<int>(c.type));
  BOOST_TEST(p.data == c.data);
}

BOOST_AUTO_TEST_CASE(default_data_is_empty) {
  std::string out;
  eio::append_packet(out, eio::packet_type::pong);
  BOOST_TEST(out == "3");
}

BOOST_AUTO_TEST_CASE(binary_for_payload) {
  std::string out;
  eio::append_binary_packet_for_payload(out, std::string_view("\x01\x02\x03", 3));
  BOOST_TEST(out == "bAQID");
  out.clear();
  eio::append_binary_packet_for_payload(out, {});
  BOOST_TEST(out == "b");
}

BOOST_AUTO_TEST_CASE(payload_round_trip) {
  // engine.io-parser's example: "4hello\x1ebAQID".
  std::string body;
  eio::append_separator_if_needed(body);
  eio::append_packet(body, eio::packet_type::message, "hello");
  eio::append_separator_if_needed(body);
  eio::append_binary_packet_for_payload(body, std::string_view("\x01\x02\x03", 3));
  eio::append_separator_if_needed(body);
  eio::append_packet(body, eio::packet_type::noop);
  BOOST_TEST(body == "4hello\x1e" "bAQID\x1e" "6");

  std::vector<std::string> got;
  std::error_code ec;
  BOOST_TEST(eio::parse_payload(
                 body,
                 [&](const eio::packet& p) {
                   got.push_back((p.binary ? "b:" : "t:") + std::string(p.data));
                 },
                 ec) == body.size());
  BOOST_TEST(!ec);
  const std::vector<std::string> want{"t:hello", "b:\x01\x02\x03", "t:"};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(open_payload_with_upgrade) {
  // engine.io-protocol, "Handshake": the example body.
  BOOST_TEST(eio::open_payload("lv_VI97HAXpY6yYWAAAC", true, 25000, 20000, 1000000) ==
             "{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],"
             "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");
}

BOOST_AUTO_TEST_CASE(open_payload_without_upgrade) {
  BOOST_TEST(eio::open_payload("a", false, 1, 2, 3) ==
             "{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":1,\"pingTimeout\":2,"
             "\"maxPayload\":3}");
}

BOOST_AUTO_TEST_CASE(open_payload_escapes_sid) {
  const std::string body = eio::open_payload("a\"b\\c\x01", true, 25000, 20000, 100);
  BOOST_TEST(body.find("\"sid\":\"a\\\"b\\\\c\\u0001\"") != std::string::npos, body);
  std::error_code ec;
  const auto v = boost::json::parse(body, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(v.at("sid").as_string() == "a\"b\\c\x01");
  BOOST_TEST(v.at("maxPayload").to_number<std::uint64_t>() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
