#ifndef ESINK_CONFIG_HPP
#define ESINK_CONFIG_HPP

#include <esink/config/environment.hpp>
#include <esink/config/routing.hpp>
#include <esink/config/service_config.hpp>

#endif
