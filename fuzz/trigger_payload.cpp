// Fuzzes the trigger payload parser: the row JSON a trigger hands to esink (to_json(NEW),
// json_object(...)) and the NOTIFY payload (a transaction id). Asserts parse -> serialize ->
// parse gives the same value.
#include <esink/source/detail/row_parser.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdlib>

namespace {
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double())  // Boost.JSON 1.81 may round a parsed double by 1 ulp
    return std::fabs(a.get_double() - b.get_double()) <= 1e-12 * std::fabs(a.get_double()) || a == b;
  if (a.kind() != b.kind()) return a.is_number() && b.is_number() && a == b;
  if (a.is_array()) {
    auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) if (!same(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (auto& kv : x) if (!y.contains(kv.key()) || !same(kv.value(), y.at(kv.key()))) return false;
    return true;
  }
  return a == b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::uint64_t xid;
  esink::detail::parse_txid(text, xid);
  static const esink::detail::column_types types = [] {
    esink::detail::column_types t;
    t.set("n", esink::detail::column_kind::numeric);
    t.set("b", esink::detail::column_kind::binary);
    t.set("f", esink::detail::column_kind::boolean);
    return t;
  }();
  std::error_code ec;
  bool unknown = false;
  boost::json::object row = esink::detail::parse_row(text, types, ec, &unknown, {64});
  if (ec) return 0;
  boost::system::error_code jec;
  boost::json::value again = boost::json::parse(boost::json::serialize(row), jec, {}, {64});
  if (jec || !same(again, row)) std::abort();
  return 0;
}
