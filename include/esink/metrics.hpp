#ifndef ESINK_METRICS_HPP
#define ESINK_METRICS_HPP

#include <esink/metrics/counter.hpp>
#include <esink/metrics/gauge.hpp>
#include <esink/metrics/histogram.hpp>
#include <esink/metrics/registry.hpp>

#endif
