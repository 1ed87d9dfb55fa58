#ifndef ESINK_SOURCE_DETAIL_ROW_PARSER_HPP
#define ESINK_SOURCE_DETAIL_ROW_PARSER_HPP

#include <esink/error.hpp>
#include <esink/source/detail/base64.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace esink::detail {

/// How a column's JSON (as the trigger spelled it) becomes the event's JSON.
enum class column_kind : std::uint8_t {
  plain,    ///< Kept as parsed: integers stay 64-bit exact, json/jsonb stay embedded values.
  numeric,  ///< Every number inside becomes a string with its exact digits (numeric, decimal).
  binary,   ///< Every `\x<hex>` string inside becomes base64 (bytea, blob).
  boolean,  ///< A top-level 0/1 becomes false/true (SQLite BOOLEAN columns).
};

/// Column name to @ref column_kind for one table; unlisted columns are `plain`.
class column_types {
public:
  column_types() = default;

  void set(std::string name, column_kind kind) {
    auto it = find(name);
    if (it != cols_.end() && it->first == name) { it->second = kind; return; }
    cols_.emplace(it, std::move(name), kind);
  }
  /// The kind of `name` and whether the column is known at all.
  std::pair<column_kind, bool> get(std::string_view name) const noexcept {
    auto it = find(name);
    if (it != cols_.end() && it->first == name) return {it->second, true};
    return {column_kind::plain, false};
  }
  bool empty() const noexcept { return cols_.empty(); }
  void clear() noexcept { cols_.clear(); }

private:
  using entry = std::pair<std::string, column_kind>;
  std::vector<entry>::const_iterator find(std::string_view name) const noexcept {
    return std::lower_bound(cols_.begin(), cols_.end(), name,
                            [](const entry& e, std::string_view n) { return std::string_view(e.first) < n; });
  }
  std::vector<entry>::iterator find(std::string_view name) noexcept {
    return std::lower_bound(cols_.begin(), cols_.end(), name,
                            [](const entry& e, std::string_view n) { return std::string_view(e.first) < n; });
  }
  std::vector<entry> cols_;  // sorted by name: a handful of columns, no hashing per key
};

/// Limits for @ref parse_row.
struct row_parse_options {
  std::size_t max_depth = 1000;  ///< Deeper json/jsonb values fail with error::too_deep.
};

namespace row_parser_impl {

// Handler for boost::json::basic_parser: builds the row in a value_stack, rewriting numbers and
// strings per column kind. Numbers arrive with their source text, so numerics keep every digit.
struct handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec_t = boost::json::error_code;

  const column_types* types = nullptr;
  boost::json::value_stack st;
  std::size_t depth = 0;
  column_kind kind = column_kind::plain;
  bool unknown_column = false;
  bool not_object = false;
  std::string key, text, scratch;

  bool fail(ec_t& ec) {
    not_object = true;
    ec = boost::json::error::syntax;
    return false;
  }
  bool on_document_begin(ec_t&) { st.reset(); return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t& ec) { return depth++ == 0 ? fail(ec) : true; }
  bool on_array_end(std::size_t n, ec_t&) { --depth; st.push_array(n); return true; }
  bool on_object_begin(ec_t&) { ++depth; return true; }
  bool on_object_end(std::size_t n, ec_t&) { --depth; st.push_object(n); return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, ec_t&) {
    if (depth == 1) key.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, ec_t&) {
    if (depth == 1) {
      key.append(s.data(), s.size());
      auto [k, known] = types->get(key);
      kind = k;
      unknown_column |= !known;
      key.clear();
    }
    st.push_key(s);
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, ec_t& ec) {
    if (depth == 0) return fail(ec);
    if (kind == column_kind::binary) text.append(s.data(), s.size());
    else st.push_chars(s);
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, ec_t& ec) {
    if (depth == 0) return fail(ec);
    if (kind != column_kind::binary) { st.push_string(s); return true; }
    text.append(s.data(), s.size());
    if (hex_to_base64(text, scratch)) st.push_string(scratch);
    else st.push_string(text);
    text.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view s, ec_t& ec) {
    if (depth == 0) return fail(ec);
    text.append(s.data(), s.size());
    return true;
  }
  bool number_text(boost::json::string_view s) {
    text.append(s.data(), s.size());
    st.push_string(text);
    text.clear();
    return true;
  }
  bool on_int64(std::int64_t i, boost::json::string_view s, ec_t& ec) {
    if (depth == 0) return fail(ec);
    if (kind == column_kind::numeric) return number_text(s);
    text.clear();
    if (kind == column_kind::boolean && depth == 1 && (i == 0 || i == 1)) st.push_bool(i == 1);
    else st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view s, ec_t& ec) {
    if (depth == 0) return fail(ec);
    if (kind == column_kind::numeric) return number_text(s);
    text.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, boost::json::string_view s, ec_t& ec) {
    if (depth == 0) return fail(ec);
    // Out of double range (1e400 in a json column): keep the digits rather than emit infinity.
    if (kind == column_kind::numeric || !std::isfinite(d)) return number_text(s);
    text.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, ec_t& ec) { if (depth == 0) return fail(ec); st.push_bool(b); return true; }
  bool on_null(ec_t& ec) { if (depth == 0) return fail(ec); st.push_null(); return true; }
  bool on_comment_part(boost::json::string_view, ec_t&) { return true; }
  bool on_comment(boost::json::string_view, ec_t&) { return true; }
};

}  // namespace row_parser_impl

/** Parses one row as a trigger hands it to esink: a JSON object of column name to value.

    This is the "trigger payload": PostgreSQL's `to_json(NEW)`, SQLite's `json_object(...)`.
    Values are rewritten per @ref column_kind so the event carries faithful JSON: numerics as
    strings with exact digits, binary as base64, integers exact to 64 bits; a number beyond the
    double range becomes a string of its digits. Never throws.

    @param text the JSON text; must be a single object
    @param types the table's column kinds
    @param ec set to error::bad_json (not a JSON object, invalid UTF-8, trailing bytes) or
           error::too_deep
    @param unknown_column set when a key is not in `types` (the table gained a column: reload)
*/
inline boost::json::object parse_row(std::string_view text, const column_types& types,
                                     std::error_code& ec, bool* unknown_column = nullptr,
                                     const row_parse_options& opt = {}) {
  ec.clear();
  boost::json::parse_options po;
  po.max_depth = opt.max_depth;
  boost::json::basic_parser<row_parser_impl::handler> p(po);
  p.handler().types = &types;
  boost::json::error_code jec;
  std::size_t n = p.write_some(false, text.data(), text.size(), jec);
  if (!jec && n != text.size()) jec = boost::json::error::extra_data;
  if (jec) {
    ec = make_error_code(jec == boost::json::error::too_deep ? error::too_deep : error::bad_json);
    return {};
  }
  if (unknown_column) *unknown_column = p.handler().unknown_column;
  boost::json::value v = p.handler().st.release();
  if (!v.is_object()) {
    ec = make_error_code(error::bad_json);
    return {};
  }
  return std::move(v.get_object());
}

/// Parses a decimal transaction id as PostgreSQL prints an `xid8` (the NOTIFY payload).
/// False on anything but 1 to 20 digits that fit in 64 bits.
constexpr bool parse_txid(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace esink::detail

#endif
