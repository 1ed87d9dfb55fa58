#include <esink/protocol/socketio/serializer.hpp>

#include <esink/protocol/socketio/parser.hpp>

#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace bdata = boost::unit_test::data;
namespace sio = esink::protocol::socketio;

namespace {

using T = sio::packet_type;
constexpr std::nullopt_t no_id = std::nullopt;

struct packet_case {
  T type;
  std::string_view nsp;
  std::optional<std::uint64_t> id;
  std::string_view data;
  std::size_t attachments;
  std::string_view wire;
};
std::ostream& operator<<(std::ostream& os, const packet_case& c) { return os << c.wire; }

// socket.io-protocol, "Packet encoding": the documented examples, every type.
const packet_case packets[] = {
    {T::connect, "/", no_id, "", 0, "0"},
    {T::connect, "/", no_id, "{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", 0,
     "0{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}"},
    {T::connect, "/admin", no_id, "{\"sid\":\"x\"}", 0, "0/admin,{\"sid\":\"x\"}"},
    {T::connect, "", no_id, "", 0, "0"},
    {T::disconnect, "/admin", no_id, "", 0, "1/admin,"},
    {T::disconnect, "/", no_id, "", 0, "1"},
    {T::event, "/", no_id, "[\"foo\"]", 0, "2[\"foo\"]"},
    {T::event, "/admin", no_id, "[\"bar\"]", 0, "2/admin,[\"bar\"]"},
    {T::event, "/", 12u, "[\"foo\"]", 0, "212[\"foo\"]"},
    {T::event, "/", 18446744073709551615u, "[\"x\"]", 0, "218446744073709551615[\"x\"]"},
    {T::ack, "/admin", 13u, "[\"bar\"]", 0, "3/admin,13[\"bar\"]"},
    {T::ack, "/", 0u, "[]", 0, "30[]"},
    {T::connect_error, "/", no_id, "{\"message\":\"Not authorized\"}", 0,
     "4{\"message\":\"Not authorized\"}"},
    {T::event, "/", no_id, "[\"a\"]", 3, "2[\"a\"]"},  // count only for binary types
    {T::binary_event, "/", no_id, "[\"baz\",{\"_placeholder\":true,\"num\":0}]", 1,
     "51-[\"baz\",{\"_placeholder\":true,\"num\":0}]"},
    {T::binary_event, "/admin", 456u, "[\"x\",{\"_placeholder\":true,\"num\":1}]", 2,
     "52-/admin,456[\"x\",{\"_placeholder\":true,\"num\":1}]"},
    {T::binary_event, "/", no_id, "[\"x\"]", 0, "50-[\"x\"]"},
    {T::binary_ack, "/admin", 15u, "[{\"_placeholder\":true,\"num\":0}]", 1,
     "61-/admin,15[{\"_placeholder\":true,\"num\":0}]"},
    // Not JSON, but must still read back as written: '/' data needs the explicit "/,".
    {T::event, "/", no_id, "/x", 0, "2/,/x"},
    {T::event, "", no_id, "/x", 0, "2/,/x"},
    {T::event, "/", 1u, "/x", 0, "21/x"},
    {T::event, "/a", no_id, "/x", 0, "2/a,/x"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(socketio_serializer)

BOOST_DATA_TEST_CASE(encode, bdata::make(packets), c) {
  std::string out = "4";  // appends after an Engine.IO MESSAGE type, as the transport does
  sio::append_packet(out, c.type, c.nsp, c.id, c.data, c.attachments);
  BOOST_TEST(out == "4" + std::string(c.wire));
}

BOOST_DATA_TEST_CASE(round_trip, bdata::make(packets), c) {
  std::string out;
  sio::append_packet(out, c.type, c.nsp, c.id, c.data, c.attachments);
  sio::packet p;
  std::error_code ec;
  BOOST_TEST(sio::parse(out, p, ec) == out.size());
  BOOST_TEST(!ec, ec.message());
  BOOST_TEST(static_cast<int>(p.type) == static_cast<int>(c.type));
  BOOST_TEST(p.attachments == (sio::is_binary(c.type) ? c.attachments : 0u));
  BOOST_TEST(p.nsp == (c.nsp.empty() ? std::string_view("/") : c.nsp));
  BOOST_TEST((p.id == c.id));
  BOOST_TEST(p.data == c.data);

  std::string again;
  sio::append_packet(again, p.type, p.nsp, p.id, p.data, p.attachments);
  BOOST_TEST(again == out);
}

BOOST_AUTO_TEST_CASE(placeholder_value) {
  const auto v = sio::make_placeholder(3);
  BOOST_TEST(boost::json::serialize(v) == "{\"_placeholder\":true,\"num\":3}");
  std::uint64_t num = 0;
  BOOST_TEST(sio::is_placeholder(v, num));
  BOOST_TEST(num == 3u);
}

BOOST_AUTO_TEST_CASE(binary_event_from_values) {
  // What an echo does: rebuild the args, placeholders included, and re-validate them.
  boost::json::array args{"file", sio::make_placeholder(0), sio::make_placeholder(1)};
  const boost::json::value v = args;
  const std::string json = boost::json::serialize(v);
  std::string out;
  sio::append_packet(out, T::binary_event, "/up", 4u, json, sio::count_placeholders(v));
  BOOST_TEST(out ==
             "52-/up,4[\"file\",{\"_placeholder\":true,\"num\":0},"
             "{\"_placeholder\":true,\"num\":1}]");
  sio::packet p;
  std::error_code ec;
  sio::parse(out, p, ec);
  boost::json::value back;
  BOOST_TEST(sio::parse_data(p, back, ec));
  BOOST_TEST(back == v);
}

BOOST_AUTO_TEST_SUITE_END()
