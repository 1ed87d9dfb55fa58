# End-to-end tests of samples/esink_service with the official socket.io-client: without a
# database server (SQLite default), and on the throwaway PostgreSQL and MariaDB fixtures.
# Included from tests/interop/CMakeLists.txt.
if(TARGET esink_service)
  set(_svc_env "ESINK_SERVICE=$<TARGET_FILE:esink_service>")
  add_test(NAME interop_service_config
           COMMAND ${ESINK_NODE} --test --test-reporter=spec service_config.test.mjs
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(interop_service_config PROPERTIES LABELS interop TIMEOUT 180 ENVIRONMENT "${_svc_env}")

  add_test(NAME interop_service_postgres
           COMMAND ${ESINK_NODE} --test --test-reporter=spec service_postgres.test.mjs
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(interop_service_postgres PROPERTIES LABELS interop TIMEOUT 240
    FIXTURES_REQUIRED postgres RUN_SERIAL TRUE
    ENVIRONMENT "${_svc_env};ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV}")

  add_test(NAME interop_service_mariadb
           COMMAND ${ESINK_NODE} --test --test-reporter=spec service_mariadb.test.mjs
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(interop_service_mariadb PROPERTIES LABELS interop TIMEOUT 240
    FIXTURES_REQUIRED mariadb RUN_SERIAL TRUE
    ENVIRONMENT "${_svc_env};ESINK_TEST_MARIADB_ENV=${ESINK_TEST_MARIADB_ENV}")

  add_test(NAME interop_service_tls
           COMMAND ${ESINK_NODE} --test --test-reporter=spec service_tls.test.mjs
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(interop_service_tls PROPERTIES LABELS interop TIMEOUT 180 ENVIRONMENT "${_svc_env}")
else()
  add_test(NAME interop_service COMMAND ${CMAKE_COMMAND} -E echo "esink_service was not built (needs libpq, libmariadb, SQLite3)")
  set_tests_properties(interop_service PROPERTIES LABELS interop WILL_FAIL ON)
endif()
