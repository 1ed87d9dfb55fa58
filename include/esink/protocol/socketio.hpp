#ifndef ESINK_PROTOCOL_SOCKETIO_HPP
#define ESINK_PROTOCOL_SOCKETIO_HPP

#include <esink/protocol/socketio/packet.hpp>
#include <esink/protocol/socketio/parser.hpp>
#include <esink/protocol/socketio/serializer.hpp>

#endif
