#ifndef ESINK_PROTOCOL_SOCKETIO_SERIALIZER_HPP
#define ESINK_PROTOCOL_SOCKETIO_SERIALIZER_HPP

#include <esink/protocol/detail/scan.hpp>
#include <esink/protocol/socketio/packet.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esink::protocol::socketio {

/// Appends one packet, `<type>[<attachments>-][<nsp>,][<id>]<json_data>`, to @p out
/// (socket.io-protocol, "Packet encoding"). The namespace is omitted when it is "/" or empty;
/// the attachment count is written for binary_* types only.
///
/// @param json_data already-serialized JSON, appended verbatim. It must not start with a digit
/// when @p id is empty (no valid payload does): the reader would take it for an id.
inline void append_packet(std::string& out, packet_type t, std::string_view nsp,
                          std::optional<std::uint64_t> id, std::string_view json_data,
                          std::size_t attachments = 0) {
  const bool default_nsp = nsp.empty() || nsp == "/";
  // Data starting with '/' would read as a namespace, so then "/," is written explicitly.
  const bool with_nsp = !default_nsp || (!id && !json_data.empty() && json_data[0] == '/');
  if (default_nsp) nsp = "/";
  out.reserve(out.size() + 1 + 21 + (with_nsp ? nsp.size() + 1 : 0) + 20 + json_data.size());
  out.push_back(to_char(t));
  if (is_binary(t)) {
    protocol::detail::append_decimal(out, attachments);
    out.push_back('-');
  }
  if (with_nsp) {
    out.append(nsp);
    out.push_back(',');
  }
  if (id) protocol::detail::append_decimal(out, *id);
  out.append(json_data);
}

/// The placeholder `{"_placeholder":true,"num":num}` that stands for attachment @p num.
inline boost::json::value make_placeholder(std::size_t num,
                                           boost::json::storage_ptr sp = {}) {
  boost::json::object o(std::move(sp));
  o.emplace("_placeholder", true);
  o.emplace("num", static_cast<std::uint64_t>(num));
  return o;
}

}  // namespace esink::protocol::socketio

#endif
