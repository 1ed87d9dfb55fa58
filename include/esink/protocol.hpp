#ifndef ESINK_PROTOCOL_HPP
#define ESINK_PROTOCOL_HPP

#include <esink/protocol/engineio.hpp>
#include <esink/protocol/socketio.hpp>

#endif
