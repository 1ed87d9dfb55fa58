// Engine.IO: WebSocket text frames and polling payloads; parse -> serialize -> parse.
#include <esink/protocol/engineio.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace eio = esink::protocol::engineio;

namespace {
struct item { eio::packet_type type; bool binary; std::string data; };
bool operator==(const item& a, const item& b) {
  return a.type == b.type && a.binary == b.binary && a.data == b.data;
}
std::vector<item> parse_all(std::string_view body, std::error_code& ec) {
  std::vector<item> v;
  const auto keep = [&](const eio::packet& p) {
    v.push_back({p.type, p.binary, std::string(p.data)});
  };
  eio::parse_payload(body, keep, ec, {4096, 64});
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::error_code ec;
  const auto p = eio::parse_text_frame(in, ec);
  std::string out;
  if (!ec) {
    eio::append_packet(out, p.type, p.data);
    if (out != in) std::abort();  // a text frame re-serializes byte for byte
  }
  const auto first = parse_all(in, ec);
  if (ec) return 0;
  out.clear();
  for (const auto& i : first) {
    eio::append_separator_if_needed(out);
    if (i.binary) eio::append_binary_packet_for_payload(out, i.data);
    else eio::append_packet(out, i.type, i.data);
  }
  const auto second = parse_all(out, ec);
  if (ec || !(second == first)) std::abort();
  return 0;
}
