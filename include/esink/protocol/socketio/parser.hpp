#ifndef ESINK_PROTOCOL_SOCKETIO_PARSER_HPP
#define ESINK_PROTOCOL_SOCKETIO_PARSER_HPP

#include <esink/error.hpp>
#include <esink/protocol/detail/scan.hpp>
#include <esink/protocol/socketio/packet.hpp>

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace esink::protocol::socketio {

/// Parses the header of one Socket.IO packet carried by an Engine.IO text MESSAGE:
/// `<type>[<attachments>-][<nsp>,][<id>]<json>` (socket.io-protocol, "Packet encoding").
///
/// Checks structure only; see @ref parse_data for the payload.
/// - the "<n>-" count is present iff the type is binary_*, and is at most `max_attachments`;
/// - a namespace starts with '/' and ends at ',' or, with no data after it, at the end of the
///   text (socket.io-parser and python-socketio send "0/admin");
/// - the id is a run of digits that fits in `std::uint64_t`.
///
/// @param out reset, then filled; its views point into @p text.
/// @param ec set to `empty_packet`, `bad_packet_type`, `bad_attachment_count`, `bad_namespace`
/// or `bad_ack_id`; cleared on success.
/// @return `text.size()` on success, 0 on error.
inline std::size_t parse(std::string_view text, packet& out, std::error_code& ec,
                         const limits& lim = {}) noexcept {
  out = packet{};
  if (text.empty()) {
    ec = esink::error::empty_packet;
    return 0;
  }
  const auto t = static_cast<unsigned char>(text[0] - '0');
  if (t >= packet_type_count) {
    ec = esink::error::bad_packet_type;
    return 0;
  }
  out.type = static_cast<packet_type>(t);
  std::size_t pos = 1;

  if (is_binary(out.type)) {
    std::uint64_t n = 0;
    const auto r = protocol::detail::scan_decimal(text, pos, n);
    if (r != protocol::detail::scan_result::ok || pos >= text.size() || text[pos] != '-' ||
        n > lim.max_attachments) {
      ec = esink::error::bad_attachment_count;
      return 0;
    }
    out.attachments = static_cast<std::size_t>(n);
    ++pos;
  }

  if (pos < text.size() && text[pos] == '/') {
    std::size_t end = text.find(',', pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    if (end - pos > lim.max_namespace_length) {
      ec = esink::error::bad_namespace;
      return 0;
    }
    out.nsp = text.substr(pos, end - pos);
    pos = next;
  }

  std::uint64_t id = 0;
  switch (protocol::detail::scan_decimal(text, pos, id)) {
    case protocol::detail::scan_result::none: break;
    case protocol::detail::scan_result::ok: out.id = id; break;
    case protocol::detail::scan_result::overflow:
      ec = esink::error::bad_ack_id;
      return 0;
  }

  out.data = text.substr(pos);
  ec = {};
  return text.size();
}

namespace detail {

// A binary placeholder: an object whose "_placeholder" is true (socket.io-parser,
// reconstructPacket). @p num is set when "num" is a non-negative integer.
inline bool is_placeholder(const boost::json::object& o, std::optional<std::uint64_t>& num) noexcept {
  const auto* flag = o.if_contains("_placeholder");
  if (!flag || !flag->is_bool() || !flag->get_bool()) return false;
  num.reset();
  if (const auto* n = o.if_contains("num")) {
    if (n->is_uint64())
      num = n->get_uint64();
    else if (n->is_int64() && n->get_int64() >= 0)
      num = static_cast<std::uint64_t>(n->get_int64());
  }
  return true;
}

// Rejects non-finite numbers: Boost.JSON reads 1e400 as infinity, which it would serialize as
// the invalid JSON "Infinity". With @p binary, also every placeholder num must be below
// @p attachments. Depth is bounded by the parser's max_depth, so recursion is bounded too.
inline esink::error check_tree(const boost::json::value& v, bool binary,
                               std::size_t attachments) noexcept {
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a)
      if (const auto r = check_tree(e, binary, attachments); r != esink::error::success) return r;
  } else if (const auto* o = v.if_object()) {
    std::optional<std::uint64_t> num;
    if (binary && is_placeholder(*o, num))
      return num && *num < attachments ? esink::error::success : esink::error::bad_placeholder;
    for (const auto& kv : *o)
      if (const auto r = check_tree(kv.value(), binary, attachments); r != esink::error::success)
        return r;
  } else if (const auto* d = v.if_double(); d && !std::isfinite(*d)) {
    return esink::error::bad_json;
  }
  return esink::error::success;
}

inline std::size_t count_placeholders(const boost::json::value& v) noexcept {
  std::size_t n = 0;
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) n += count_placeholders(e);
  } else if (const auto* o = v.if_object()) {
    std::optional<std::uint64_t> num;
    if (is_placeholder(*o, num)) return 1;
    for (const auto& kv : *o) n += count_placeholders(kv.value());
  }
  return n;
}

}  // namespace detail

/// Number of binary placeholders `{"_placeholder":true,"num":n}` in @p v.
inline std::size_t count_placeholders(const boost::json::value& v) noexcept {
  return detail::count_placeholders(v);
}

/// Whether @p v is a binary placeholder; @p num receives its index.
inline bool is_placeholder(const boost::json::value& v, std::uint64_t& num) noexcept {
  const auto* o = v.if_object();
  std::optional<std::uint64_t> n;
  if (!o || !detail::is_placeholder(*o, n) || !n) return false;
  num = *n;
  return true;
}

/// Parses and validates the JSON payload of @p p (socket.io-protocol, "Packet encoding";
/// socket.io-parser, isPayloadValid):
/// - connect: empty or an object (auth);
/// - disconnect: empty (`unexpected_payload`);
/// - event, binary_event: a non-empty array whose first element is a string (`bad_event`);
/// - ack, binary_ack: an array (`bad_event`) and an id (`bad_ack_id`);
/// - connect_error: an object, or a string (legacy);
/// - binary_*: each placeholder's num is below `p.attachments` (`bad_placeholder`);
/// - no number overflows a double (`bad_json`; JSON.parse would give Infinity, which has no
///   JSON form).
/// Types that need data report `missing_payload` when it is empty.
///
/// @param out receives the value (null when data is empty), allocated with `out.storage()`.
/// @param ec set to the errors above, `bad_json` or `too_deep`; cleared on success.
/// @note May still throw `std::bad_alloc`.
inline bool parse_data(const packet& p, boost::json::value& out, std::error_code& ec,
                       const limits& lim = {}) {
  ec = {};
  const bool needs_data = p.type == packet_type::event || p.type == packet_type::ack ||
                          p.type == packet_type::connect_error || is_binary(p.type);
  if ((p.type == packet_type::ack || p.type == packet_type::binary_ack) && !p.id) {
    ec = esink::error::bad_ack_id;
    return false;
  }
  if (p.data.empty()) {
    out.emplace_null();
    if (needs_data) ec = esink::error::missing_payload;
    return !ec;
  }
  if (p.type == packet_type::disconnect) {
    ec = esink::error::unexpected_payload;
    return false;
  }

  boost::json::parse_options opts;
  opts.max_depth = lim.max_depth;
  boost::system::error_code jec;
  boost::json::value v = boost::json::parse(
      boost::json::string_view(p.data.data(), p.data.size()), jec, out.storage(), opts);
  if (jec) {
    ec = jec == boost::json::error::too_deep ? esink::error::too_deep : esink::error::bad_json;
    return false;
  }

  switch (p.type) {
    case packet_type::connect:
      if (!v.is_object()) ec = esink::error::bad_json;
      break;
    case packet_type::disconnect: break;
    case packet_type::event:
    case packet_type::binary_event: {
      const auto* a = v.if_array();
      if (!a || a->empty() || !a->front().is_string()) ec = esink::error::bad_event;
      break;
    }
    case packet_type::ack:
    case packet_type::binary_ack:
      if (!v.is_array()) ec = esink::error::bad_event;
      break;
    case packet_type::connect_error:
      if (!v.is_object() && !v.is_string()) ec = esink::error::bad_json;
      break;
  }
  if (!ec) {
    if (const auto r = detail::check_tree(v, is_binary(p.type), p.attachments);
        r != esink::error::success)
      ec = r;
  }
  if (ec) return false;
  out = std::move(v);
  return true;
}

}  // namespace esink::protocol::socketio

#endif
