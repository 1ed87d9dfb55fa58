#ifndef ESINK_TRANSPORT_ENCODED_PACKET_HPP
#define ESINK_TRANSPORT_ENCODED_PACKET_HPP

#include <esink/protocol/engineio/serializer.hpp>
#include <esink/protocol/socketio/serializer.hpp>
#include <esink/transport/detail/ws_frame.hpp>
#include <esink/transport/message.hpp>

#include <boost/json/serialize.hpp>
#include <websocketpp/message_buffer/alloc.hpp>
#include <websocketpp/message_buffer/message.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esink {

/// A prepared WebSocket message: websocketpp sends it as is, to any number of connections.
using ws_message = websocketpp::message_buffer::message<websocketpp::message_buffer::alloc::con_msg_manager>;
using ws_message_ptr = std::shared_ptr<ws_message>;

/// One frame that goes out as it is: an Engine.IO packet (text) or an attachment (binary).
/// The same object serves a WebSocket connection (header + payload) and a polling payload.
struct outgoing_frame {
  bool binary = false;
  ws_message_ptr ws;

  /// The Engine.IO packet text, or the attachment bytes.
  const std::string& data() const { return ws->get_payload(); }
  std::size_t wire_size() const { return ws->get_header().size() + ws->get_payload().size(); }
};

/// Wraps `payload` in a frame that is ready to be written.
inline outgoing_frame make_frame(std::string payload, bool binary) {
  auto op = binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text;
  auto m = std::make_shared<ws_message>(nullptr, op, 0);
  m->set_header(detail::ws_frame_header(binary, payload.size()));
  m->get_raw_payload() = std::move(payload);
  m->set_prepared(true);
  return {binary, std::move(m)};
}

/// One outgoing Socket.IO packet, encoded once and shared by all of its recipients.
///
/// Holds the Engine.IO text packet (for polling payloads) and the ready WebSocket frames:
/// the head packet and one binary frame per attachment. Fan-out hands the same bytes to
/// every connection; nothing is serialized or copied per recipient.
class encoded_packet {
public:
  /// Encodes a Socket.IO packet whose JSON data is already serialized.
  encoded_packet(protocol::socketio::packet_type type, std::string_view nsp, std::optional<std::uint64_t> id,
                 std::string_view json_data, std::vector<std::string> attachments = {}) {
    std::string text;
    text.reserve(json_data.size() + nsp.size() + 24);
    text.push_back(protocol::engineio::to_char(protocol::engineio::packet_type::message));
    protocol::socketio::append_packet(text, type, nsp, id, json_data, attachments.size());
    frames_.push_back(make_frame(std::move(text), false));
    for (auto& a : attachments) frames_.push_back(make_frame(std::move(a), true));
  }

  /// An EVENT (or BINARY_EVENT when `m` has attachments) named `event` with `m`'s arguments.
  static std::shared_ptr<const encoded_packet> event(std::string_view nsp, std::string_view event,
                                                     const message& m,
                                                     std::optional<std::uint64_t> ack_id = std::nullopt) {
    boost::json::array all;
    all.reserve(m.args.size() + 1);
    all.emplace_back(event);
    for (const auto& a : m.args) all.push_back(a);
    auto type = m.attachments.empty() ? protocol::socketio::packet_type::event
                                      : protocol::socketio::packet_type::binary_event;
    return std::make_shared<const encoded_packet>(type, nsp, ack_id, boost::json::serialize(all), m.attachments);
  }

  /// An EVENT from already serialized arguments: `json_args` is the text of the elements after
  /// the event name, without brackets (e.g. `{"a":1}`), so a payload serialized once is reused.
  static std::shared_ptr<const encoded_packet> event_raw(std::string_view nsp, std::string_view event_json_string,
                                                         std::string_view json_args) {
    std::string data;
    data.reserve(event_json_string.size() + json_args.size() + 3);
    data += '[';
    data += event_json_string;
    if (!json_args.empty()) {
      data += ',';
      data += json_args;
    }
    data += ']';
    return std::make_shared<const encoded_packet>(protocol::socketio::packet_type::event, nsp, std::nullopt, data);
  }

  /// The head packet, then one binary frame per attachment.
  const std::vector<outgoing_frame>& frames() const noexcept { return frames_; }

  /// Bytes all frames put on the wire.
  std::size_t wire_size() const noexcept {
    std::size_t n = 0;
    for (const auto& f : frames_) n += f.wire_size();
    return n;
  }

private:
  std::vector<outgoing_frame> frames_;
};

/// Shared, immutable encoded packet.
using encoded_packet_ptr = std::shared_ptr<const encoded_packet>;

}  // namespace esink

#endif
