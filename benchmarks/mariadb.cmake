# MariaDB source benchmark (needs a server; see the comment at the top of source_mariadb.cpp).
if(TARGET esink::mariadb)
  add_executable(bench_source_mariadb ${CMAKE_CURRENT_SOURCE_DIR}/source_mariadb.cpp)
  target_link_libraries(bench_source_mariadb PRIVATE esink::mariadb)
endif()
