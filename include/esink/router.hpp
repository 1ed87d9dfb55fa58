#ifndef ESINK_ROUTER_HPP
#define ESINK_ROUTER_HPP

#include <esink/router/column_filter.hpp>
#include <esink/router/concept.hpp>
#include <esink/router/table_router.hpp>
#include <esink/router/user_key.hpp>

#endif
