#ifndef ESINK_LOG_HPP
#define ESINK_LOG_HPP

#include <esink/log/config_summary.hpp>
#include <esink/log/logger.hpp>
#include <esink/log/mask.hpp>

#endif
