#ifndef ESINK_SERVICE_PUBLISH_HPP
#define ESINK_SERVICE_PUBLISH_HPP

#include <esink/router/user_key.hpp>
#include <esink/service/payload.hpp>
#include <esink/source/change_event.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace esink {

/// Why a published event was refused: the HTTP status, a message, and the offending field.
struct publish_error {
  int status = 400;
  std::string message;
  std::string key;  ///< the body field at fault; empty when none
};

/// A validated published event: its payload and who receives it.
struct published_event {
  change_payload payload;
  bool everyone = false;          ///< `userId` was `"*"`
  std::string user;               ///< the recipient's @ref user_key otherwise
  boost::json::value user_id;     ///< `userId` as given (it goes into the payload)
};

/// Compares a presented token `a` with the secret `b` in time that depends only on the length
/// of `a` (which its sender knows): neither where they differ nor the secret's length shows.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (b.empty()) return a.empty();
  unsigned diff = a.size() != b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i % b.size()]);
  return diff == 0;
}

/** Validates the body of `POST /publish` (or of a republished `event`), the token aside:
    `data` object, `type` insert|update|delete, `userId` string or integer (`"*"`: everyone),
    `table` non-empty string; optional `timestamp` and `version` numbers and `source` string.

    @param require_user whether `userId` must be present (HTTP) or may be left out (republish).
    @return false with `err` (status 400, message, key) naming the first bad field.
*/
inline bool validate_publish(const boost::json::object& body, std::string_view default_source, bool require_user,
                             published_event& out, publish_error& err) {
  auto bad = [&](const char* key, std::string message) {
    err = {400, std::move(message), key};
    return false;
  };
  auto data = body.if_contains("data");
  if (!data) return bad("data", "data is required (an object)");
  if (!data->is_object()) return bad("data", "data must be an object");

  auto type = body.if_contains("type");
  if (!type) return bad("type", "type is required: insert, update or delete");
  if (!type->is_string() || !parse_change_type(type->get_string(), out.payload.type))
    return bad("type", "type must be insert, update or delete");

  auto table = body.if_contains("table");
  if (!table) return bad("table", "table is required (a string)");
  if (!table->is_string() || table->get_string().empty()) return bad("table", "table must be a non-empty string");

  auto uid = body.if_contains("userId");
  if (!uid) {
    if (require_user) return bad("userId", "userId is required (a user id, or \"*\" for everyone)");
  } else if (uid->is_string() && uid->get_string() == "*") {
    out.everyone = true;
    out.user_id = "*";
  } else {
    if (!(uid->is_string() || uid->is_int64() || uid->is_uint64()))
      return bad("userId", "userId must be a string or an integer");
    auto key = user_key(*uid);
    if (!key) return bad("userId", "userId must not be empty");
    out.user = std::move(*key);
    out.user_id = *uid;
  }

  out.payload.timestamp = now_ms();
  if (auto ts = body.if_contains("timestamp"); ts && !ts->is_null()) {
    if (!ts->is_number()) return bad("timestamp", "timestamp must be a number (milliseconds since the epoch)");
    out.payload.timestamp = *ts;
  }
  out.payload.source = std::string(default_source);
  if (auto src = body.if_contains("source"); src && !src->is_null()) {
    if (!src->is_string()) return bad("source", "source must be a string");
    out.payload.source = std::string(src->get_string());
  }
  out.payload.version = 1;
  if (auto v = body.if_contains("version"); v && !v->is_null()) {
    if (!v->is_number()) return bad("version", "version must be a number");
    out.payload.version = *v;
  }
  out.payload.id = make_event_id();
  out.payload.table = std::string(table->get_string());
  out.payload.data = data->get_object();
  return true;
}

}  // namespace esink

#endif
