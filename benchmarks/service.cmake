# Service benchmarks (issue 6): the native load generator that drives esink_service and the
# Node baseline; benchmarks/run.sh builds it and runs every scenario.
if(TARGET PostgreSQL::PostgreSQL AND MARIADB_FOUND)
  add_executable(esink_loadgen ${CMAKE_CURRENT_LIST_DIR}/loadgen/main.cpp)
  target_compile_features(esink_loadgen PRIVATE cxx_std_17)
  target_include_directories(esink_loadgen PRIVATE ${MARIADB_INCLUDE_DIRS})
  target_link_directories(esink_loadgen PRIVATE ${MARIADB_LIBRARY_DIRS})
  target_link_libraries(esink_loadgen PRIVATE PostgreSQL::PostgreSQL ${MARIADB_LIBRARIES} Threads::Threads)
else()
  message(STATUS "esink_loadgen not built: needs libpq and libmariadb")
endif()
