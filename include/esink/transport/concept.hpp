#ifndef ESINK_TRANSPORT_CONCEPT_HPP
#define ESINK_TRANSPORT_CONCEPT_HPP

#include <esink/detail/type_traits.hpp>
#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/http.hpp>
#include <esink/transport/message.hpp>
#include <esink/transport/socket.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace esink {

/** The Transport concept: what @ref service needs from a Socket.IO server
    (`basic_server<Config>` models it; tests plug in an in-memory one).

    @par Requirements (`t` a `T&`, `n` a `T::namespace_type&`, `s` a `T::socket_type&`,
    `p` an `encoded_packet_ptr`, `ec` a `std::error_code&`)
    | expression                         | type                 | semantics |
    |------------------------------------|----------------------|-----------|
    | `T::socket_type`, `T::namespace_type` |                   | a client's socket on a namespace; the namespace |
    | `t.of("/")`                        | `namespace_type&`    | the namespace (before `start`) |
    | `t.on_http(path, h)`               | void                 | serves `h(const http_request&, http_responder)` at `path` |
    | `t.start(ec)`                      | void                 | listens; a port in use is reported in `ec` |
    | `t.stop()`                         | void                 | closes every session, stops the threads |
    | `t.local_port()`                   | `std::uint16_t`      | the port listened on |
    | `n.use(hook)`                      | void                 | `hook(const handshake&, connect_reply)` admits or refuses, possibly later and from another thread |
    | `n.on_connection(f)`               | void                 | `f(const std::shared_ptr<socket_type>&)` for each admitted socket |
    | `n.send_to_room(room, p)`          | void                 | sends `p` to the room's members, O(members), any thread |
    | `n.broadcast(p)`                   | void                 | sends `p` to every socket of the namespace, any thread |
    | `s.id()`, `s.data()`               | string, json value   | the socket id; what the hook passed to `accept` |
    | `s.join(room)`                     | void                 | joins a room (left automatically on disconnect) |
    | `s.emit(event, message)`           | void                 | sends one event to this socket |
    | `s.send(p)`                        | void                 | sends an encoded packet to this socket |
    | `s.disconnect()`                   | void                 | sends DISCONNECT after what was already emitted |
    | `s.on(event, h)`                   | void                 | `h(socket_type&, message&, ack)` for each `event` the client emits |
    | `s.on_disconnect(h)`               | void                 | `h(socket_type&, std::string_view reason)`, once |

    Packets are encoded once (`encoded_packet::event_raw`) and shared by every recipient.
*/

namespace detail {

template <class T> using transport_socket_t = typename T::socket_type;
template <class T> using transport_namespace_t = typename T::namespace_type;
template <class T> using transport_of_t = decltype(std::declval<T&>().of(std::declval<const std::string&>()));
template <class T> using transport_on_http_t =
    decltype(std::declval<T&>().on_http(std::declval<std::string>(), std::declval<http_handler>()));
template <class T> using transport_start_t = decltype(std::declval<T&>().start(std::declval<std::error_code&>()));
template <class T> using transport_stop_t = decltype(std::declval<T&>().stop());
template <class T> using transport_port_t = decltype(std::declval<const T&>().local_port());

template <class N> using nsp_use_t =
    decltype(std::declval<N&>().use(std::declval<std::function<void(const handshake&, connect_reply)>>()));
template <class N> using nsp_send_to_room_t = decltype(std::declval<const N&>().send_to_room(
    std::declval<const std::string&>(), std::declval<const encoded_packet_ptr&>()));
template <class N> using nsp_broadcast_t =
    decltype(std::declval<const N&>().broadcast(std::declval<const encoded_packet_ptr&>()));

template <class S> using socket_id_t = decltype(std::declval<const S&>().id());
template <class S> using socket_data_t = decltype(std::declval<const S&>().data());
template <class S> using socket_join_t = decltype(std::declval<S&>().join(std::declval<const std::string&>()));
template <class S> using socket_emit_t =
    decltype(std::declval<S&>().emit(std::declval<std::string_view>(), std::declval<const message&>()));
template <class S> using socket_send_t = decltype(std::declval<S&>().send(std::declval<const encoded_packet_ptr&>()));
template <class S> using socket_disconnect_t = decltype(std::declval<S&>().disconnect());

template <class T, class = void> struct namespace_of { using type = nonesuch; };
template <class T> struct namespace_of<T, std::void_t<typename T::namespace_type>> {
  using type = typename T::namespace_type;
};
template <class T, class = void> struct socket_of { using type = nonesuch; };
template <class T> struct socket_of<T, std::void_t<typename T::socket_type>> { using type = typename T::socket_type; };

}  // namespace detail

/// Checks every Transport requirement the service relies on, one named `static_assert` each.
template <class T> struct check_transport {
  using N = typename detail::namespace_of<T>::type;
  using S = typename detail::socket_of<T>::type;
  static_assert(detail::is_detected_v<detail::transport_socket_t, T>, "Transport: missing nested type `socket_type`");
  static_assert(detail::is_detected_v<detail::transport_namespace_t, T>,
                "Transport: missing nested type `namespace_type`");
  static_assert(std::is_same_v<detail::detected_t<detail::transport_of_t, T>, N&>,
                "Transport: missing `namespace_type& of(const std::string&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::transport_on_http_t, T>>,
                "Transport: missing `void on_http(std::string, esink::http_handler)`");
  static_assert(std::is_void_v<detail::detected_t<detail::transport_start_t, T>>,
                "Transport: missing `void start(std::error_code&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::transport_stop_t, T>>, "Transport: missing `void stop()`");
  static_assert(std::is_convertible_v<detail::detected_t<detail::transport_port_t, T>, std::uint16_t>,
                "Transport: missing `std::uint16_t local_port() const`");
  static_assert(std::is_void_v<detail::detected_t<detail::nsp_use_t, N>>,
                "Transport: namespace_type missing `void use(hook)` with hook `void(const handshake&, connect_reply)`");
  static_assert(std::is_void_v<detail::detected_t<detail::nsp_send_to_room_t, N>>,
                "Transport: namespace_type missing `void send_to_room(const std::string&, const encoded_packet_ptr&) const`");
  static_assert(std::is_void_v<detail::detected_t<detail::nsp_broadcast_t, N>>,
                "Transport: namespace_type missing `void broadcast(const encoded_packet_ptr&) const`");
  static_assert(std::is_convertible_v<detail::detected_t<detail::socket_id_t, S>, std::string>,
                "Transport: socket_type missing `const std::string& id() const`");
  static_assert(std::is_convertible_v<detail::detected_t<detail::socket_data_t, S>, const boost::json::value&>,
                "Transport: socket_type missing `const boost::json::value& data() const`");
  static_assert(std::is_void_v<detail::detected_t<detail::socket_join_t, S>>,
                "Transport: socket_type missing `void join(const std::string&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::socket_emit_t, S>>,
                "Transport: socket_type missing `void emit(std::string_view, const message&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::socket_send_t, S>>,
                "Transport: socket_type missing `void send(const encoded_packet_ptr&)`");
  static_assert(std::is_void_v<detail::detected_t<detail::socket_disconnect_t, S>>,
                "Transport: socket_type missing `void disconnect()`");
  static constexpr bool value = true;
};

}  // namespace esink

#endif
