#ifndef ESINK_SOURCE_HPP
#define ESINK_SOURCE_HPP

// Umbrella for the Source policies. Each add-on needs its client library (esink::postgres,
// esink::sqlite, esink::mariadb); include the single header when linking only one.
#include <esink/source/change_event.hpp>
#include <esink/source/concept.hpp>
#include <esink/source/mariadb.hpp>
#include <esink/source/postgres.hpp>
#include <esink/source/sqlite.hpp>
#include <esink/source/table_list.hpp>

#endif
