#ifndef ESINK_TRANSPORT_HPP
#define ESINK_TRANSPORT_HPP

#include <esink/transport/encoded_packet.hpp>
#include <esink/transport/http.hpp>
#include <esink/transport/message.hpp>
#include <esink/transport/server_options.hpp>
#include <esink/transport/socket.hpp>
#include <esink/transport/socket_namespace.hpp>
#include <esink/transport/websocketpp.hpp>

#endif
