# Source benchmarks: commit-to-sink rate and latency beside the database's raw rate.
if(TARGET esink::postgres)
  add_executable(source_postgres_bench ${CMAKE_CURRENT_LIST_DIR}/source_postgres.cpp)
  target_link_libraries(source_postgres_bench PRIVATE esink::postgres)
  target_compile_definitions(source_postgres_bench PRIVATE
    ESINK_PG_FIXTURE="${PROJECT_SOURCE_DIR}/tests/fixtures/postgres/pg_fixture.sh")
endif()
if(TARGET esink::sqlite)
  add_executable(source_sqlite_bench ${CMAKE_CURRENT_LIST_DIR}/source_sqlite.cpp)
  target_link_libraries(source_sqlite_bench PRIVATE esink::sqlite)
endif()
