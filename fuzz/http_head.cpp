// HTTP request heads (the keep-alive fast path): parse -> rebuild -> parse gives the same head.
#include <esink/transport/detail/http_head.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
bool within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace esink::detail;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  request_head h;
  if (parse_request_head(in, h, 4096, 1 << 20, 32) != head_parse::complete) return 0;
  if (h.head_bytes > in.size() || h.head_bytes > 4096 || h.headers.size() > 32) std::abort();
  if (h.content_length > (1u << 20)) std::abort();
  if (!within(h.method, in) || !within(h.target, in)) std::abort();
  std::string again = std::string(h.method) + ' ' + std::string(h.target) + (h.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  for (const auto& [k, v] : h.headers) {
    if (!within(k, in) || !within(v, in)) std::abort();
    again.append(k).append(": ").append(v).append("\r\n");
  }
  again += "\r\n";
  request_head h2;
  if (parse_request_head(again, h2, 4096, 1 << 20, 32) != head_parse::complete) std::abort();
  if (h2.method != h.method || h2.target != h.target || h2.http10 != h.http10 ||
      h2.content_length != h.content_length || h2.keep_alive != h.keep_alive ||
      h2.expect_continue != h.expect_continue || h2.headers != h.headers || h2.head_bytes != again.size())
    std::abort();
  return 0;
}
