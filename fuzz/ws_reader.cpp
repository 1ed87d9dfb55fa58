// WebSocket frames from a client: the reader never reads out of bounds, never hands out more
// than the limit or text that is not UTF-8, and gives the same events however the bytes are
// split into reads (the first input byte picks the split).
#include <esink/transport/detail/ws_reader.hpp>

#include <websocketpp/utf8_validator.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
using esink::detail::ws_reader;

struct seen {
  ws_reader::event ev;
  std::string data;
  std::uint16_t code;
  bool operator==(const seen& o) const { return ev == o.ev && data == o.data && code == o.code; }
};

std::vector<seen> run(const char* p, std::size_t n, std::size_t chunk) {
  constexpr std::size_t limit = 4096;
  ws_reader r(limit);
  std::vector<seen> out;
  std::size_t at = 0;
  while (at < n) {
    std::size_t len = std::min(chunk, n - at);
    while (len > 0) {
      ws_reader::event ev;
      std::size_t used = r.consume(p + at, len, ev);
      if (used > len) std::abort();
      at += used;
      len -= used;
      switch (ev) {
        case ws_reader::event::none:
          if (len != 0) std::abort();  // `none` only when the bytes ran out
          break;
        case ws_reader::event::text:
          if (!websocketpp::utf8_validator::validate(r.message())) std::abort();
          [[fallthrough]];
        case ws_reader::event::binary:
          if (r.message().size() > limit) std::abort();
          out.push_back({ev, r.message(), 0});
          r.release_message();
          break;
        case ws_reader::event::ping:
        case ws_reader::event::pong:
          if (r.control().size() > 125) std::abort();
          out.push_back({ev, r.control(), 0});
          break;
        case ws_reader::event::close:
          if (r.close_code() != 1005 && !ws_reader::valid_close_code(r.close_code())) std::abort();
          out.push_back({ev, std::string(r.close_reason()), r.close_code()});
          break;
        case ws_reader::event::error:
          if (r.error_code() != 1002 && r.error_code() != 1007 && r.error_code() != 1009) std::abort();
          out.push_back({ev, {}, r.error_code()});
          return out;
      }
    }
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const char* p = reinterpret_cast<const char*>(data + 1);
  if (run(p, size - 1, size) != run(p, size - 1, chunk)) std::abort();
  return 0;
}
