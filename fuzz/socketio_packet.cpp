// Socket.IO: header and JSON payload; parse -> serialize -> parse, then the same with the
// payload re-serialized by Boost.JSON.
#include <esink/protocol/socketio.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sio = esink::protocol::socketio;

namespace {
// Boost.JSON 1.81 parses doubles without correct rounding, so a re-serialized double may move
// by an ulp; everything else must match exactly.
bool equal(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return std::fabs(x - y) <= 1e-15 * std::fabs(x) + 1e-300;
  }
  if (a.is_array() && b.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), equal);
  }
  if (a.is_object() && b.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    return x.size() == y.size() && std::all_of(x.begin(), x.end(), [&](const auto& kv) {
             const auto* o = y.if_contains(kv.key());
             return o && equal(kv.value(), *o);
           });
  }
  return a == b;
}
bool same(const sio::packet& a, const sio::packet& b) {
  return a.type == b.type && a.attachments == b.attachments && a.nsp == b.nsp && a.id == b.id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  sio::packet p, q;
  std::error_code ec;
  if (sio::parse(in, p, ec) != in.size() || ec) return 0;
  std::string out;
  sio::append_packet(out, p.type, p.nsp, p.id, p.data, p.attachments);
  if (sio::parse(out, q, ec) != out.size() || ec || !same(p, q) || p.data != q.data) std::abort();

  boost::json::value v, w;
  if (!sio::parse_data(p, v, ec)) return 0;
  const std::string json = v.is_null() ? std::string() : boost::json::serialize(v);
  out.clear();
  sio::append_packet(out, p.type, p.nsp, p.id, json, p.attachments);
  if (sio::parse(out, q, ec) != out.size() || ec || !same(p, q)) std::abort();
  if (!sio::parse_data(q, w, ec) || !equal(v, w)) std::abort();
  return 0;
}
