// esink's own WebSocket server side (RFC 6455): the frame reader and the opening handshake.
// The wire behaviour (close codes, replies) is pinned end to end by
// tests/interop/websocket_rfc6455.test.mjs.
#include <esink/transport/detail/ws_connection.hpp>
#include <esink/transport/detail/ws_reader.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace {
using esink::detail::ws_reader;

std::string frame(std::uint8_t first, const std::string& payload, bool masked = true) {
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string f(1, static_cast<char>(first));
  const std::uint8_t m = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(m | payload.size()));
  } else if (payload.size() < 65536) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((std::uint64_t(payload.size()) >> s) & 0xff));
  }
  if (!masked) return f + payload;
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

struct result {
  std::vector<ws_reader::event> events;
  std::vector<std::string> data;
  std::uint16_t code = 0;
};

// Feeds `bytes` `chunk` bytes at a time, collecting every event.
result feed(const std::string& bytes, std::size_t chunk = 1 << 20, std::size_t limit = 1000) {
  ws_reader r(limit);
  result out;
  for (std::size_t at = 0; at < bytes.size();) {
    std::size_t len = std::min(chunk, bytes.size() - at);
    const std::size_t end = at + len;
    while (at < end) {
      ws_reader::event ev;
      at += r.consume(bytes.data() + at, end - at, ev);
      if (ev == ws_reader::event::none) continue;
      out.events.push_back(ev);
      if (ev == ws_reader::event::text || ev == ws_reader::event::binary) out.data.push_back(r.message());
      if (ev == ws_reader::event::ping || ev == ws_reader::event::pong) out.data.push_back(r.control());
      if (ev == ws_reader::event::close) {
        out.code = r.close_code();
        out.data.emplace_back(r.close_reason());
      }
      if (ev == ws_reader::event::error) {
        out.code = r.error_code();
        return out;
      }
    }
  }
  return out;
}

using E = ws_reader::event;
}  // namespace

namespace esink::detail {
std::ostream& operator<<(std::ostream& os, ws_reader::event e) { return os << static_cast<int>(e); }
}  // namespace esink::detail

BOOST_AUTO_TEST_SUITE(ws_reader_tests)

BOOST_AUTO_TEST_CASE(rfc_example_masked_hello_in_any_split) {
  // RFC 6455 §5.7: a single-frame masked text message "Hello".
  const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 11u}) {
    auto r = feed(hello, chunk);
    BOOST_TEST_CONTEXT("chunk " << chunk) {
      BOOST_TEST(r.events == std::vector<E>{E::text});
      BOOST_TEST(r.data == std::vector<std::string>{"Hello"});
    }
  }
}

BOOST_AUTO_TEST_CASE(fragments_with_a_ping_between_and_utf8_split_across_them) {
  auto r = feed(frame(0x01, "\xE2") + frame(0x89, "abc") + frame(0x00, "\x82") + frame(0x80, "\xAC!"), 3);
  BOOST_TEST(r.events == (std::vector<E>{E::ping, E::text}));
  BOOST_TEST(r.data == (std::vector<std::string>{"abc", "\xE2\x82\xAC!"}));
}

BOOST_AUTO_TEST_CASE(lengths_of_16_and_64_bits) {
  const std::string mid(300, 'm'), big(70000, 'b');
  auto r = feed(frame(0x82, mid) + frame(0x82, big), 4096, 100000);
  BOOST_TEST(r.events == (std::vector<E>{E::binary, E::binary}));
  BOOST_TEST(r.data.at(0) == mid);
  BOOST_TEST(r.data.at(1) == big);
}

BOOST_AUTO_TEST_CASE(close_frames) {
  auto r = feed(frame(0x88, std::string("\x03\xe8", 2) + "bye"));
  BOOST_TEST(r.events == std::vector<E>{E::close});
  BOOST_TEST(r.code == 1000);
  BOOST_TEST(r.data.at(0) == "bye");
  BOOST_TEST(feed(frame(0x88, "")).code == 1005);  // no status: 1005, never sent on the wire
  BOOST_TEST(feed(frame(0x88, std::string("\x0f\x9f", 2))).code == 3999);
}

// Each of these ends the connection with the status RFC 6455 §7.4.1 names.
BOOST_AUTO_TEST_CASE(protocol_errors) {
  struct bad {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::string huge_len("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x00" "abcd", 14);
  const bad cases[] = {
      {"unmasked", frame(0x81, "hi", false), 1002},
      {"RSV1", frame(0xC1, "hi"), 1002},
      {"RSV3", frame(0x91, "hi"), 1002},
      {"opcode 3", frame(0x83, "hi"), 1002},
      {"opcode 0xB", frame(0x8B, "hi"), 1002},
      {"ping of 126 bytes", frame(0x89, std::string(126, 'p')), 1002},
      {"fragmented ping", frame(0x09, "p"), 1002},
      {"continuation first", frame(0x80, "hi"), 1002},
      {"text inside a text", frame(0x01, "a") + frame(0x81, "b"), 1002},
      {"invalid UTF-8", frame(0x81, "\xC3\x28"), 1007},
      {"surrogate", frame(0x81, "\xED\xA0\x80"), 1007},
      {"overlong", frame(0x81, "\xC0\xAF"), 1007},
      {"text ends mid-character", frame(0x81, "\xE2\x82"), 1007},
      {"close of one byte", frame(0x88, "\x03"), 1002},
      {"close code 1005", frame(0x88, std::string("\x03\xed", 2)), 1002},
      {"close code 999", frame(0x88, std::string("\x03\xe7", 2)), 1002},
      {"close code 5000", frame(0x88, std::string("\x13\x88", 2)), 1002},
      {"close reason not UTF-8", frame(0x88, std::string("\x03\xe8\xff", 3)), 1007},
      {"64-bit length with the top bit", huge_len, 1002},
      {"over the limit", frame(0x82, std::string(1001, 'x')), 1009},
      {"over the limit in fragments", frame(0x02, std::string(600, 'x')) + frame(0x80, std::string(401, 'x')), 1009},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      auto r = feed(c.bytes, 1);
      BOOST_TEST_REQUIRE(!r.events.empty());
      BOOST_TEST(r.events.back() == E::error);
      BOOST_TEST(r.code == c.code);
    }
  }
}

BOOST_AUTO_TEST_CASE(over_the_limit_is_refused_from_the_header) {
  // Only the header of a 2 MB frame: refused before any of its payload.
  std::string header = frame(0x82, std::string(2'000'000, 'x')).substr(0, 14);
  auto r = feed(header);
  BOOST_TEST(r.code == 1009);
}

BOOST_AUTO_TEST_CASE(opening_handshake) {
  using namespace esink::detail;
  auto head_of = [](const std::string& text, request_head& h) {
    return parse_request_head(text, h, 16000, std::size_t(-1), 100, true);
  };
  const std::string ok =
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  request_head h;
  BOOST_TEST(static_cast<int>(head_of(ok, h)) == static_cast<int>(head_parse::complete));
  BOOST_TEST(h.upgrade);
  auto key = ws_handshake_key(h);
  BOOST_TEST_REQUIRE(key.has_value());
  // RFC 6455 §1.3's example key and answer.
  BOOST_TEST(ws_accept_response(*key).find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);

  auto refused = [&](std::string text) {
    request_head r;
    return head_of(text, r) != head_parse::complete || !ws_handshake_key(r);
  };
  auto replace = [&](std::string from, std::string to) {
    std::string t = ok;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  BOOST_TEST(refused(replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")));
  BOOST_TEST(refused(replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ")));  // 15 bytes
  BOOST_TEST(refused(replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64!")));
  BOOST_TEST(refused(replace("GET ", "POST ")));
  BOOST_TEST(refused(replace("HTTP/1.1", "HTTP/1.0")));
  BOOST_TEST(refused(replace("Upgrade: websocket", "Upgrade: h2c")));
  BOOST_TEST(refused(replace("keep-alive, Upgrade", "keep-alive")));
  BOOST_TEST(refused(replace("Host: x\r\n", "Host: x\r\nContent-Length: 5\r\n")));
  BOOST_TEST(refused(replace("Host: x\r\n", "Host: x\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")));
  // Without the caller's leave, an upgrade stays a request for websocketpp, as before.
  request_head plain;
  BOOST_TEST(static_cast<int>(parse_request_head(ok, plain)) == static_cast<int>(head_parse::unusual));
}

BOOST_AUTO_TEST_SUITE_END()
