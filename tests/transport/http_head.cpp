#include <esink/transport/detail/http_head.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace bdata = boost::unit_test::data;
using esink::detail::head_parse;
using esink::detail::parse_request_head;
using esink::detail::request_head;

BOOST_AUTO_TEST_SUITE(http_head)

BOOST_AUTO_TEST_CASE(parses_a_request_and_stops_at_the_blank_line) {
  const std::string buf =
      "POST /publish?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type:  application/json \r\n"
      "Content-Length: 2\r\nOrigin: http://o\r\n\r\n{}GET /ping HTTP/1.1\r\n\r\n";
  request_head h;
  BOOST_TEST_REQUIRE(static_cast<int>(parse_request_head(buf, h)) == static_cast<int>(head_parse::complete));
  BOOST_TEST(h.method == "POST");
  BOOST_TEST(h.target == "/publish?x=1");
  BOOST_TEST(!h.http10);
  BOOST_TEST(h.head_bytes == buf.find("{}"));
  BOOST_TEST(h.content_length == 2u);
  BOOST_TEST(h.keep_alive);
  BOOST_TEST(!h.expect_continue);
  BOOST_TEST_REQUIRE(h.headers.size() == 4u);
  BOOST_TEST(h.headers[1].first == "Content-Type");
  BOOST_TEST(h.headers[1].second == "application/json");  // surrounding whitespace is not the value
}

BOOST_AUTO_TEST_CASE(keep_alive_follows_the_version_and_connection_header) {
  struct c { const char* head; bool keep; };
  for (auto [head, keep] : {c{"GET / HTTP/1.1\r\n\r\n", true},
                            c{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
                            c{"GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", false},
                            c{"GET / HTTP/1.0\r\n\r\n", false},
                            c{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
                            c{"GET / HTTP/1.0\r\nconnection: Keep-Alive, close\r\n\r\n", false}}) {
    request_head h;
    BOOST_TEST_REQUIRE(static_cast<int>(parse_request_head(head, h)) == static_cast<int>(head_parse::complete));
    BOOST_TEST(h.keep_alive == keep, head);
  }
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_recognised) {
  request_head h;
  BOOST_TEST_REQUIRE(static_cast<int>(parse_request_head(
                         "POST /publish HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n", h)) ==
                     static_cast<int>(head_parse::complete));
  BOOST_TEST(h.expect_continue);
}

BOOST_DATA_TEST_CASE(a_head_not_yet_complete_is_incomplete,
                     bdata::make({"", "GET", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"}), buf) {
  request_head h;
  BOOST_TEST(static_cast<int>(parse_request_head(buf, h)) == static_cast<int>(head_parse::incomplete));
}

// Everything the fast path should not guess about goes to websocketpp, which answers or
// upgrades it as before.
BOOST_DATA_TEST_CASE(
    anything_unusual_is_left_to_websocketpp,
    bdata::make({
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
        "POST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /publish HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
        "POST /publish HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /publish HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
        "POST /publish HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST /publish HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n",
        "POST /publish HTTP/1.1\r\nExpect: something-else\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n",      // obsolete line folding
        "GET / HTTP/1.1\r\nX-A : 1\r\n\r\n",                 // space before the colon
        "GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n",           // bare LF
        "GET / HTTP/1.1\r\nX-A: 1\r2\r\n\r\n",                // bare CR
        "GET / HTTP/1.1\r\nX-A: \x01\r\n\r\n",                // control character
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "\r\n\r\n",
    }),
    buf) {
  request_head h;
  BOOST_TEST(static_cast<int>(parse_request_head(buf, h)) == static_cast<int>(head_parse::unusual));
}

BOOST_AUTO_TEST_CASE(limits_on_head_size_header_count_and_body_size) {
  request_head h;
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  BOOST_TEST(static_cast<int>(parse_request_head(big, h, 100)) == static_cast<int>(head_parse::unusual));
  BOOST_TEST(static_cast<int>(parse_request_head(std::string(100, 'a'), h, 100)) ==
             static_cast<int>(head_parse::unusual));  // no blank line within the limit
  BOOST_TEST(static_cast<int>(parse_request_head(big, h)) == static_cast<int>(head_parse::complete));

  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X: 1\r\n";
  many += "\r\n";
  BOOST_TEST(static_cast<int>(parse_request_head(many, h)) == static_cast<int>(head_parse::unusual));

  const char* body = "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n";
  BOOST_TEST(static_cast<int>(parse_request_head(body, h, 16000, 1000)) == static_cast<int>(head_parse::unusual));
  BOOST_TEST(static_cast<int>(parse_request_head(body, h, 16000, 1001)) == static_cast<int>(head_parse::complete));
}

BOOST_AUTO_TEST_CASE(status_reasons) {
  BOOST_TEST(esink::detail::status_reason(200) == "OK");
  BOOST_TEST(esink::detail::status_reason(413) == "Payload Too Large");
  BOOST_TEST(esink::detail::status_reason(499) == "Bad Request");
}

BOOST_AUTO_TEST_SUITE_END()
