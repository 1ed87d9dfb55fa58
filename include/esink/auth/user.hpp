#ifndef ESINK_AUTH_USER_HPP
#define ESINK_AUTH_USER_HPP

#include <esink/router/user_key.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <string>
#include <system_error>

namespace esink {

/// An authenticated user: the id routing compares against, and whatever else the policy knows.
struct user {
  /// The user id as the policy found it (the row's id column, the JWT's `sub`).
  boost::json::value id;
  /// @ref user_key of `id`: the name of the user's room.
  std::string key;
  /// The user row (table/column policy) or the JWT claims; never sent to clients.
  boost::json::object row;
};

/// Receives the outcome of one authentication: `{}` and the user, @ref error::unauthorized,
/// or another error (database unreachable, shutting down).
using auth_handler = std::function<void(std::error_code, user)>;

/// The sample user the seed returns for the token `TEST`.
inline user test_user() {
  user u;
  u.id = -1;
  u.key = "-1";
  u.row["id"] = -1;
  u.row["name"] = "Test User";
  return u;
}

}  // namespace esink

#endif
