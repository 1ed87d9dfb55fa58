# MariaDB source: unit tests of its pieces plus the db tests against the fixture's server.
if(TARGET esink::mariadb)
  esink_add_test(source_mariadb LABEL db
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/mariadb.cpp
    LIBS esink::mariadb
    FIXTURES mariadb)
  set_tests_properties(source_mariadb PROPERTIES
    ENVIRONMENT "ESINK_TEST_MARIADB_ENV=${ESINK_TEST_MARIADB_ENV}"
    TIMEOUT 300)
else()
  add_test(NAME source_mariadb COMMAND ${CMAKE_COMMAND} -E echo "libmariadb not found: cannot build source_mariadb")
  set_tests_properties(source_mariadb PROPERTIES LABELS db WILL_FAIL ON)
endif()
