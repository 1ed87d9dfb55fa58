#ifndef ESINK_SOURCE_CONCEPT_HPP
#define ESINK_SOURCE_CONCEPT_HPP

#include <esink/detail/type_traits.hpp>
#include <esink/source/change_event.hpp>

#include <cstdint>
#include <system_error>
#include <type_traits>
#include <utility>

namespace esink {

/** The Source concept: where committed row changes come from.

    A Source watches tables in one database and hands every committed change to a
    sink exactly once, in commit order. It runs its own thread (or waits on its
    database socket asynchronously), never an I/O thread of the transport.

    @par Requirements (`s` a `S&`, `k` a sink, `ec` a `std::error_code&`, `id` a `std::uint64_t`)
    | expression              | type  | semantics |
    |-------------------------|-------|-----------|
    | `S::event_type`         |       | the event it produces, usually @ref change_event |
    | `s.start(k, ec)`        | void  | installs triggers, connects, starts delivering to `k`; startup errors (unknown table, bad URL) in `ec` |
    | `s.stop()`              | void  | stops delivering; returns when no further sink call will be made |
    | `s.acknowledge(id)`     | void  | every event up to `id` was delivered: the restart cursor may move past it |

    @par The sink (supplied by the service)
    | expression                     | semantics |
    |--------------------------------|-----------|
    | `k.on_change(event_type&&)`    | called on the source's thread in commit order; may block while the service's bounded queue is full (backpressure, never loss) |
    | `k.on_status(std::error_code)` | `{}` when connected and caught up; @ref error::source_unavailable while reconnecting |

    @par Minimal conforming source
    @code
    struct null_source {
      using event_type = esink::change_event;
      template <class Sink> void start(Sink&, std::error_code&) {}
      void stop() {}
      void acknowledge(std::uint64_t) {}
    };
    @endcode
*/

namespace detail {

/// A sink that accepts anything, used only to detect `start`.
template <class Event> struct sink_archetype {
  void on_change(Event&&) {}
  void on_status(std::error_code) {}
};

template <class S> using source_event_t = typename S::event_type;
template <class S> using source_start_t = decltype(std::declval<S&>().start(
    std::declval<sink_archetype<typename S::event_type>&>(), std::declval<std::error_code&>()));
template <class S> using source_stop_t = decltype(std::declval<S&>().stop());
template <class S> using source_acknowledge_t =
    decltype(std::declval<S&>().acknowledge(std::declval<std::uint64_t>()));

}  // namespace detail

/// Checks every Source requirement, one named `static_assert` each.
template <class S> struct check_source {
  static_assert(detail::is_detected_v<detail::source_event_t, S>,
                "Source: missing nested type `event_type`");
  static_assert(std::is_void_v<detail::detected_t<detail::source_start_t, S>>,
                "Source: missing `template <class Sink> void start(Sink&, std::error_code&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::source_stop_t, S>>,
                "Source: missing `void stop()`");
  static_assert(std::is_void_v<detail::detected_t<detail::source_acknowledge_t, S>>,
                "Source: missing `void acknowledge(std::uint64_t)`");
  static constexpr bool value = true;
};

/// True when `S` meets the Source requirements.
template <class S>
inline constexpr bool is_source_v =
    detail::is_detected_v<detail::source_event_t, S> &&
    std::is_void_v<detail::detected_t<detail::source_start_t, S>> &&
    std::is_void_v<detail::detected_t<detail::source_stop_t, S>> &&
    std::is_void_v<detail::detected_t<detail::source_acknowledge_t, S>>;

}  // namespace esink

#endif
