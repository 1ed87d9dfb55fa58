# End-to-end tests of samples/esink_service with the official socket.io-client: without a
# database server (SQLite default), and on the throwaway PostgreSQL and MariaDB fixtures.
# Included from tests/interop/CMakeLists.txt.
if(TARGET esink_service)
  # A test per file service_<name>.test.mjs; with a database fixture it runs alone.
  function(esink_service_test name timeout env)
    add_test(NAME interop_service_${name}
             COMMAND ${ESINK_NODE} --test --test-reporter=spec service_${name}.test.mjs
             WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(interop_service_${name} PROPERTIES LABELS interop TIMEOUT ${timeout} ENVIRONMENT "${env}")
    if(ARGC GREATER 3)
      set_tests_properties(interop_service_${name} PROPERTIES FIXTURES_REQUIRED ${ARGV3} RUN_SERIAL TRUE)
    endif()
  endfunction()

  set(_svc_env "ESINK_SERVICE=$<TARGET_FILE:esink_service>")
  esink_service_test(config 180 "${_svc_env}")
  esink_service_test(tls 180 "${_svc_env}")
  esink_service_test(static 180 "${_svc_env}")
  esink_service_test(http 180 "${_svc_env}")
  esink_service_test(demo 240 "${_svc_env}")  # headless chromium: alone, as the CPU is shared
  set_tests_properties(interop_service_demo PROPERTIES RUN_SERIAL TRUE)
  esink_service_test(metrics 180 "${_svc_env};ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV}" postgres)
  esink_service_test(postgres 240 "${_svc_env};ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV}" postgres)
  esink_service_test(postgres_logical 240 "${_svc_env};ESINK_TEST_PG_ENV=${ESINK_TEST_PG_ENV}" postgres)
  esink_service_test(mariadb 240 "${_svc_env};ESINK_TEST_MARIADB_ENV=${ESINK_TEST_MARIADB_ENV}" mariadb)
else()
  add_test(NAME interop_service COMMAND ${CMAKE_COMMAND} -E echo "esink_service was not built (needs libpq, libmariadb, SQLite3)")
  set_tests_properties(interop_service PROPERTIES LABELS interop WILL_FAIL ON)
endif()
