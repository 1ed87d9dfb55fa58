#include <esink/protocol/socketio/parser.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace bdata = boost::unit_test::data;
namespace sio = esink::protocol::socketio;
using esink::error;

namespace {

struct header_case {
  std::string_view in;
  sio::packet_type type;
  std::size_t attachments;
  std::string_view nsp;
  std::optional<std::uint64_t> id;
  std::string_view data;
};
std::ostream& operator<<(std::ostream& os, const header_case& c) { return os << c.in; }

constexpr std::nullopt_t no_id = std::nullopt;
using T = sio::packet_type;

// socket.io-protocol, "Packet encoding" and "Exchange protocol" examples.
const header_case headers[] = {
    {"0", T::connect, 0, "/", no_id, ""},
    {"0{\"token\":\"123\"}", T::connect, 0, "/", no_id, "{\"token\":\"123\"}"},
    {"0/admin,{\"token\":\"123\"}", T::connect, 0, "/admin", no_id, "{\"token\":\"123\"}"},
    {"0/admin,", T::connect, 0, "/admin", no_id, ""},
    {"0/admin", T::connect, 0, "/admin", no_id, ""},  // python-socketio omits the comma
    {"0/,", T::connect, 0, "/", no_id, ""},
    {"1", T::disconnect, 0, "/", no_id, ""},
    {"1/admin,", T::disconnect, 0, "/admin", no_id, ""},
    {"2[\"foo\"]", T::event, 0, "/", no_id, "[\"foo\"]"},
    {"2/admin,[\"bar\"]", T::event, 0, "/admin", no_id, "[\"bar\"]"},
    {"212[\"foo\"]", T::event, 0, "/", 12u, "[\"foo\"]"},
    {"2/a/b,0[\"x\"]", T::event, 0, "/a/b", 0u, "[\"x\"]"},
    {"218446744073709551615[\"x\"]", T::event, 0, "/", 18446744073709551615u, "[\"x\"]"},
    {"2007[\"x\"]", T::event, 0, "/", 7u, "[\"x\"]"},
    {"3/admin,13[\"bar\"]", T::ack, 0, "/admin", 13u, "[\"bar\"]"},
    {"31", T::ack, 0, "/", 1u, ""},
    {"4{\"message\":\"Not authorized\"}", T::connect_error, 0, "/", no_id,
     "{\"message\":\"Not authorized\"}"},
    {"4/admin,\"legacy\"", T::connect_error, 0, "/admin", no_id, "\"legacy\""},
    {"51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", T::binary_event, 1, "/", no_id,
     "[\"baz\",{\"_placeholder\":true,\"num\":0}]"},
    {"52-/admin,456[\"x\",{\"_placeholder\":true,\"num\":1}]", T::binary_event, 2, "/admin",
     456u, "[\"x\",{\"_placeholder\":true,\"num\":1}]"},
    {"50-[\"x\"]", T::binary_event, 0, "/", no_id, "[\"x\"]"},
    {"510-[\"x\"]", T::binary_event, 10, "/", no_id, "[\"x\"]"},
    {"61-/admin,1[{\"_placeholder\":true,\"num\":0}]", T::binary_ack, 1, "/admin", 1u,
     "[{\"_placeholder\":true,\"num\":0}]"},
    {"61-15", T::binary_ack, 1, "/", 15u, ""},
};

struct error_case {
  std::string in;
  error e;
};
std::ostream& operator<<(std::ostream& os, const error_case& c) { return os << c.in; }

const error_case bad_headers[] = {
    {"", error::empty_packet},
    {"7", error::bad_packet_type},
    {"9[\"x\"]", error::bad_packet_type},
    {"x", error::bad_packet_type},
    {"-1", error::bad_packet_type},
    {"/admin,0", error::bad_packet_type},
    {"5", error::bad_attachment_count},           // truncated header
    {"51", error::bad_attachment_count},          // no '-'
    {"5[\"x\"]", error::bad_attachment_count},    // count missing
    {"5-[\"x\"]", error::bad_attachment_count},   // empty count
    {"51x-[\"x\"]", error::bad_attachment_count},
    {"511-[\"x\"]", error::bad_attachment_count},  // over max_attachments (10)
    {"6/admin,1[]", error::bad_attachment_count},
    {"599999999999999999999999-[\"x\"]", error::bad_attachment_count},
    {"218446744073709551616[\"x\"]", error::bad_ack_id},  // 2^64
    {"2/admin,99999999999999999999999[\"x\"]", error::bad_ack_id},
    {"3" + std::string(30, '9'), error::bad_ack_id},
    {"2/" + std::string(256, 'a') + ",[\"x\"]", error::bad_namespace},  // 257 bytes
    {"0/" + std::string(1000, 'a'), error::bad_namespace},
};

struct data_case {
  std::string in;
  std::optional<error> e;  // nullopt: accepted
  std::string json;        // serialized value when accepted
};
std::ostream& operator<<(std::ostream& os, const data_case& c) { return os << c.in; }

std::string nested(std::size_t depth) {
  // An event whose arguments reach `depth` levels of nesting, the outer array included.
  return "2[\"a\"," + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "]";
}

const data_case datas[] = {
    {"0", std::nullopt, "null"},
    {"0{}", std::nullopt, "{}"},
    {"0/admin,{\"token\":\"123\"}", std::nullopt, "{\"token\":\"123\"}"},
    {"0[]", error::bad_json, ""},
    {"0\"x\"", error::bad_json, ""},
    {"0{", error::bad_json, ""},
    {"1", std::nullopt, "null"},
    {"1/admin,", std::nullopt, "null"},
    {"1{}", error::unexpected_payload, ""},
    {"2", error::missing_payload, ""},
    {"2/admin,", error::missing_payload, ""},
    {"2[\"a\"]", std::nullopt, "[\"a\"]"},
    {"21[\"a\",1,{\"b\":[true,null]}]", std::nullopt, "[\"a\",1,{\"b\":[true,null]}]"},
    {"2[]", error::bad_event, ""},
    {"2{}", error::bad_event, ""},
    {"2\"a\"", error::bad_event, ""},
    {"2[1,\"a\"]", error::bad_event, ""},
    {"2[null]", error::bad_event, ""},
    {"2[\"a\"", error::bad_json, ""},
    {"2[\"a\"] x", error::bad_json, ""},
    {"2[\"a\",]", error::bad_json, ""},
    {"2[\"\xff\"]", error::bad_json, ""},  // invalid UTF-8
    {"2[\"a\",{\"_placeholder\":true,\"num\":9}]", std::nullopt,  // not binary: plain data
     "[\"a\",{\"_placeholder\":true,\"num\":9}]"},
    {"3", error::bad_ack_id, ""},  // ack without id
    {"3[]", error::bad_ack_id, ""},
    {"31", error::missing_payload, ""},
    {"31[]", std::nullopt, "[]"},
    {"3/admin,7[1,2]", std::nullopt, "[1,2]"},
    {"31{}", error::bad_event, ""},
    {"4", error::missing_payload, ""},
    {"4{\"message\":\"x\"}", std::nullopt, "{\"message\":\"x\"}"},
    {"4\"legacy\"", std::nullopt, "\"legacy\""},
    {"4[]", error::bad_json, ""},
    {"51-[\"a\",{\"_placeholder\":true,\"num\":0}]", std::nullopt,
     "[\"a\",{\"_placeholder\":true,\"num\":0}]"},
    {"52-[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":1}]}]", std::nullopt,
     "[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":1}]}]"},
    {"51-[\"a\",{\"_placeholder\":false,\"num\":7}]", std::nullopt,
     "[\"a\",{\"_placeholder\":false,\"num\":7}]"},
    {"51-[\"a\",{\"_placeholder\":true,\"num\":1}]", error::bad_placeholder, ""},
    {"50-[\"a\",{\"_placeholder\":true,\"num\":0}]", error::bad_placeholder, ""},
    {"52-[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":2}]}]", error::bad_placeholder, ""},
    {"51-[\"a\",{\"_placeholder\":true,\"num\":-1}]", error::bad_placeholder, ""},
    {"51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]", error::bad_placeholder, ""},
    {"51-[\"a\",{\"_placeholder\":true,\"num\":0.5}]", error::bad_placeholder, ""},
    {"51-[\"a\",{\"_placeholder\":true}]", error::bad_placeholder, ""},
    {"51-", error::missing_payload, ""},
    {"51-[1]", error::bad_event, ""},
    {"61-3[{\"_placeholder\":true,\"num\":0}]", std::nullopt,
     "[{\"_placeholder\":true,\"num\":0}]"},
    {"61-[{\"_placeholder\":true,\"num\":0}]", error::bad_ack_id, ""},
    {"61-3[{\"_placeholder\":true,\"num\":1}]", error::bad_placeholder, ""},
    {"61-3{}", error::bad_event, ""},
    {"2[\"a\",1e400]", error::bad_json, ""},
    {"2[\"a\",{\"x\":[-1e309]}]", error::bad_json, ""},
    {"51-[\"a\",{\"n\":33333333333333E3333333}]", error::bad_json, ""},
    {"2[\"a\",1e308,-0.5,18446744073709551615,-9223372036854775808]", std::nullopt,
     "[\"a\",1E308,-5E-1,18446744073709551615,-9223372036854775808]"},
    {nested(32), std::nullopt, "[\"a\"," + std::string(31, '[') + std::string(31, ']') + "]"},
    {nested(33), error::too_deep, ""},
    {nested(5000), error::too_deep, ""},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(socketio_parser)

BOOST_DATA_TEST_CASE(header, bdata::make(headers), c) {
  sio::packet p;
  std::error_code ec = error::bad_json;
  BOOST_TEST(sio::parse(c.in, p, ec) == c.in.size());
  BOOST_TEST(!ec, ec.message());
  BOOST_TEST(static_cast<int>(p.type) == static_cast<int>(c.type));
  BOOST_TEST(p.attachments == c.attachments);
  BOOST_TEST(p.nsp == c.nsp);
  BOOST_TEST(p.id.has_value() == c.id.has_value());
  if (p.id && c.id) BOOST_TEST(*p.id == *c.id);
  BOOST_TEST(p.data == c.data);
}

BOOST_DATA_TEST_CASE(header_rejects, bdata::make(bad_headers), c) {
  sio::packet p;
  std::error_code ec;
  BOOST_TEST(sio::parse(c.in, p, ec) == 0u);
  BOOST_TEST(ec == make_error_code(c.e), ec.message());
  BOOST_TEST((ec == esink::condition::protocol_violation));
}

BOOST_AUTO_TEST_CASE(custom_limits) {
  sio::limits lim;
  lim.max_attachments = 2;
  lim.max_namespace_length = 6;
  sio::packet p;
  std::error_code ec;
  BOOST_TEST(sio::parse("52-/admin,[\"x\"]", p, ec, lim) == 15u);
  BOOST_TEST(!ec);
  sio::parse("53-[\"x\"]", p, ec, lim);
  BOOST_TEST(ec == make_error_code(error::bad_attachment_count));
  sio::parse("2/admins,[\"x\"]", p, ec, lim);
  BOOST_TEST(ec == make_error_code(error::bad_namespace));
}

BOOST_AUTO_TEST_CASE(parse_resets_output) {
  sio::packet p;
  std::error_code ec;
  sio::parse("52-/admin,456[\"x\"]", p, ec);
  BOOST_TEST(!ec);
  sio::parse("2[\"y\"]", p, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(p.attachments == 0u);
  BOOST_TEST(p.nsp == "/");
  BOOST_TEST(!p.id.has_value());
}

BOOST_DATA_TEST_CASE(data, bdata::make(datas), c) {
  sio::packet p;
  std::error_code ec;
  BOOST_TEST_REQUIRE(sio::parse(c.in, p, ec) == c.in.size());
  boost::json::value v = "sentinel";
  const bool ok = sio::parse_data(p, v, ec);
  if (c.e) {
    BOOST_TEST(!ok);
    BOOST_TEST(ec == make_error_code(*c.e), ec.message());
  } else {
    BOOST_TEST(ok);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(boost::json::serialize(v) == c.json);
  }
}

BOOST_AUTO_TEST_CASE(depth_limit_is_configurable) {
  sio::packet p;
  std::error_code ec;
  const std::string in = nested(4);
  sio::parse(in, p, ec);
  boost::json::value v;
  sio::limits lim;
  lim.max_depth = 4;
  BOOST_TEST(sio::parse_data(p, v, ec, lim));
  lim.max_depth = 3;
  BOOST_TEST(!sio::parse_data(p, v, ec, lim));
  BOOST_TEST(ec == make_error_code(error::too_deep));
}

BOOST_AUTO_TEST_CASE(placeholders) {
  const auto v = boost::json::parse(
      "[\"a\",{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":1}],"
      "{\"_placeholder\":false,\"num\":2},{\"k\":{\"_placeholder\":true,\"num\":3}}]");
  BOOST_TEST(sio::count_placeholders(v) == 3u);
  std::uint64_t num = 99;
  BOOST_TEST(sio::is_placeholder(v.at(1), num));
  BOOST_TEST(num == 0u);
  BOOST_TEST(!sio::is_placeholder(v.at(3), num));
  BOOST_TEST(!sio::is_placeholder(v.at(0), num));
}

BOOST_AUTO_TEST_SUITE_END()
