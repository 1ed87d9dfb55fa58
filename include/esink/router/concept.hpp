#ifndef ESINK_ROUTER_CONCEPT_HPP
#define ESINK_ROUTER_CONCEPT_HPP

#include <esink/detail/type_traits.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace esink {

/// Who a change goes to: everyone, or the users whose canonical keys (see @ref user_key) are
/// listed, each once.
struct route_result {
  bool everyone = false;
  std::vector<std::string> users;

  void clear() noexcept {
    everyone = false;
    users.clear();
  }
};

/** The Router concept: who receives a row change, and what of the row they may see.

    @par Requirements (`r` a `const R&`, `t` a `std::string_view` table name, `row` a
    `const boost::json::object&`, `data` a `boost::json::object&`, `out` a `route_result&`)
    | expression             | type | semantics |
    |------------------------|------|-----------|
    | `r.route(t, row, out)` | void | fills `out` (cleared first) with the recipients of `row`; each user key at most once; O(columns of the rule), never O(connected clients) |
    | `r.filter(t, data)`    | void | removes the columns nobody may see from `data` (a copy of the row, or published data) |

    Both are called concurrently from the delivery thread and the I/O threads.

    @par Minimal conforming router
    @code
    struct everyone_router {
      void route(std::string_view, const boost::json::object&, esink::route_result& out) const {
        out.clear();
        out.everyone = true;
      }
      void filter(std::string_view, boost::json::object&) const {}
    };
    @endcode
*/

namespace detail {

template <class R> using router_route_t = decltype(std::declval<const R&>().route(
    std::declval<std::string_view>(), std::declval<const boost::json::object&>(), std::declval<route_result&>()));
template <class R> using router_filter_t =
    decltype(std::declval<const R&>().filter(std::declval<std::string_view>(), std::declval<boost::json::object&>()));

}  // namespace detail

/// Checks every Router requirement, one named `static_assert` each.
template <class R> struct check_router {
  static_assert(std::is_void_v<detail::detected_t<detail::router_route_t, R>>,
                "Router: missing `void route(std::string_view, const boost::json::object&, route_result&) const`");
  static_assert(std::is_void_v<detail::detected_t<detail::router_filter_t, R>>,
                "Router: missing `void filter(std::string_view, boost::json::object&) const`");
  static constexpr bool value = true;
};

/// True when `R` meets the Router requirements.
template <class R>
inline constexpr bool is_router_v = std::is_void_v<detail::detected_t<detail::router_route_t, R>> &&
                                    std::is_void_v<detail::detected_t<detail::router_filter_t, R>>;

}  // namespace esink

#endif
