# PostgreSQL source: db tests against the throwaway server of tests/fixtures/postgres.
if(TARGET esink::postgres)
  esink_add_test(source_postgres LABEL db
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/postgres.cpp
    LIBS esink::postgres
    FIXTURES postgres
    ARGS --run_test=postgres_source_tests --run_test=postgres_table_capture)
  # Once per capture: the common suite and the suite of that capture. Both use the same
  # schemas and tables on the one server, so they never run at the same time.
  set_tests_properties(source_postgres PROPERTIES
    ENVIRONMENT "ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV};ESINK_TEST_PG_CAPTURE=table"
    RESOURCE_LOCK postgres_source_schemas
    TIMEOUT 300)
  add_test(NAME source_postgres_logical COMMAND source_postgres --log_level=test_suite --report_level=short
           --run_test=postgres_source_tests --run_test=postgres_logical_capture)
  set_tests_properties(source_postgres_logical PROPERTIES
    LABELS db FIXTURES_REQUIRED postgres
    ENVIRONMENT "ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV};ESINK_TEST_PG_CAPTURE=logical"
    RESOURCE_LOCK postgres_source_schemas
    TIMEOUT 300)
else()
  add_test(NAME source_postgres COMMAND ${CMAKE_COMMAND} -E echo "libpq not found: cannot build source_postgres")
  set_tests_properties(source_postgres PROPERTIES LABELS db WILL_FAIL ON)
endif()

# Pure unit tests of the shared helpers (TABLE_NAMES, trigger payload parser, quoting, base64).
esink_add_test(source_unit LABEL unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/table_list.cpp ${CMAKE_CURRENT_LIST_DIR}/row_parser.cpp
          ${CMAKE_CURRENT_LIST_DIR}/pgoutput.cpp)
