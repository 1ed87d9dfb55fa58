#ifndef ESINK_ESINK_HPP
#define ESINK_ESINK_HPP

// Everything. The Source and Auth database add-ons need their client libraries (link
// esink::postgres, esink::mariadb and esink::sqlite); include the area headers to need fewer.
#include <esink/auth.hpp>
#include <esink/config.hpp>
#include <esink/log.hpp>
#include <esink/metrics.hpp>
#include <esink/protocol.hpp>
#include <esink/router.hpp>
#include <esink/service.hpp>
#include <esink/source.hpp>
#include <esink/transport.hpp>

#endif
