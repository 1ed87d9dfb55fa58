#ifndef ESINK_AUTH_HPP
#define ESINK_AUTH_HPP

// Umbrella for the Auth policies. The database seams need their client library
// (esink::postgres, esink::mariadb, esink::sqlite): include the single header when linking one.
#include <esink/auth/any_auth.hpp>
#include <esink/auth/concept.hpp>
#include <esink/auth/jwt.hpp>
#include <esink/auth/mariadb.hpp>
#include <esink/auth/postgres.hpp>
#include <esink/auth/sqlite.hpp>
#include <esink/auth/table_column.hpp>
#include <esink/auth/user.hpp>
#include <esink/auth/with_test_token.hpp>

#endif
