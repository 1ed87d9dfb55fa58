#ifndef ESINK_PROTOCOL_ENGINEIO_HPP
#define ESINK_PROTOCOL_ENGINEIO_HPP

#include <esink/protocol/engineio/packet.hpp>
#include <esink/protocol/engineio/parser.hpp>
#include <esink/protocol/engineio/serializer.hpp>

#endif
