#ifndef ESINK_SERVICE_PAYLOAD_HPP
#define ESINK_SERVICE_PAYLOAD_HPP

#include <esink/source/change_event.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace esink {

/// One change as clients see it: `{id, type, table, data, timestamp, source, version, userId}`
/// (the seed's payload), before `userId` is known.
struct change_payload {
  std::string id;               ///< unique per event (a random UUID)
  change_type type = change_type::insert;
  std::string table;
  boost::json::object data;     ///< the row, already filtered
  boost::json::value timestamp; ///< milliseconds since the epoch, as JavaScript counts them
  std::string source = "database";
  boost::json::value version = 1;
};

/// A random RFC 4122 version 4 UUID: event ids stay unique across sources, publishers and restarts.
inline std::string make_event_id() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 15; i >= 0; --i) {
    out += hex[(hi >> (i * 4)) & 15];
    if (i == 8 || i == 4) out += '-';
  }
  out += '-';
  for (int i = 15; i >= 0; --i) {
    out += hex[(lo >> (i * 4)) & 15];
    if (i == 12) out += '-';
  }
  return out;
}

/// Now, in JavaScript milliseconds.
inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/** The serialized payload of one change, shared by all of its recipients: everything up to
    `"userId":` is written once; @ref for_user appends one user id.
*/
class serialized_payload {
public:
  explicit serialized_payload(const change_payload& p) {
    boost::json::object o;
    o["id"] = p.id;
    o["type"] = to_string(p.type);
    o["table"] = p.table;
    o["data"] = p.data;
    o["timestamp"] = p.timestamp;
    o["source"] = p.source;
    o["version"] = p.version;
    o["userId"] = nullptr;
    prefix_ = boost::json::serialize(o);
    // Drop the trailing `null}`: the user id goes there.
    prefix_.resize(prefix_.size() - 5);
    table_json_ = boost::json::serialize(boost::json::value(p.table));
  }

  /// The whole payload for `user_id` (its JSON text, e.g. `101` or `"abc"`).
  std::string for_user(std::string_view user_id_json) const {
    std::string s;
    s.reserve(prefix_.size() + user_id_json.size() + 1);
    s += prefix_;
    s += user_id_json;
    s += '}';
    return s;
  }

  /// The table name as a JSON string: the event name.
  const std::string& table_json() const noexcept { return table_json_; }

private:
  std::string prefix_;
  std::string table_json_;
};

}  // namespace esink

#endif
