#ifndef ESINK_AUTH_CONCEPT_HPP
#define ESINK_AUTH_CONCEPT_HPP

#include <esink/auth/user.hpp>
#include <esink/detail/type_traits.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace esink {

/** The Auth concept: who a Socket.IO client is, from the token of its handshake.

    @par Requirements (`a` an `A&`, `t` a `std::string`, `h` an @ref auth_handler)
    | expression                    | type | semantics |
    |-------------------------------|------|-----------|
    | `a.async_authenticate(t, h)`  | void | calls `h(ec, user)` exactly once, from any thread, never inline except to refuse with @ref error::queue_full when overloaded: `{}` with the user, @ref error::unauthorized for an unknown or invalid token, another code when the answer is unknown (database down) |
    | `a.stop()`                    | void | no handler runs after it returns; pending ones are dropped or failed |

    Lookups that block (a database query) run on the policy's own threads, never on the
    transport's I/O threads. `async_authenticate` may be called from any thread.

    @par Minimal conforming policy
    @code
    struct nobody_auth {
      void async_authenticate(std::string, esink::auth_handler h) {
        std::thread([h] { h(esink::make_error_code(esink::error::unauthorized), {}); }).detach();
      }
      void stop() {}
    };
    @endcode
*/

namespace detail {

template <class A> using auth_authenticate_t =
    decltype(std::declval<A&>().async_authenticate(std::declval<std::string>(), std::declval<auth_handler>()));
template <class A> using auth_stop_t = decltype(std::declval<A&>().stop());

}  // namespace detail

/// Checks every Auth requirement, one named `static_assert` each.
template <class A> struct check_auth {
  static_assert(std::is_void_v<detail::detected_t<detail::auth_authenticate_t, A>>,
                "Auth: missing `void async_authenticate(std::string token, esink::auth_handler)`");
  static_assert(std::is_void_v<detail::detected_t<detail::auth_stop_t, A>>, "Auth: missing `void stop()`");
  static constexpr bool value = true;
};

/// True when `A` meets the Auth requirements.
template <class A>
inline constexpr bool is_auth_v = std::is_void_v<detail::detected_t<detail::auth_authenticate_t, A>> &&
                                  std::is_void_v<detail::detected_t<detail::auth_stop_t, A>>;

}  // namespace esink

#endif
