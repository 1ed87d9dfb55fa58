// Uses the installed headers and the SQLite add-on target.
#include <esink/protocol/socketio/serializer.hpp>
#include <esink/source/sqlite.hpp>

#include <string>

int main() {
  std::string out;
  esink::protocol::socketio::append_packet(out, esink::protocol::socketio::packet_type::event, "/", std::nullopt,
                                           R"(["hello"])");
  return out == R"(2["hello"])" ? 0 : 1;
}
