# SQLite source: an embedded file per test case, no server needed.
if(TARGET esink::sqlite)
  esink_add_test(source_sqlite LABEL db
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/sqlite.cpp
    LIBS esink::sqlite)
  set_tests_properties(source_sqlite PROPERTIES TIMEOUT 300)
else()
  add_test(NAME source_sqlite COMMAND ${CMAKE_COMMAND} -E echo "SQLite3 not found: cannot build source_sqlite")
  set_tests_properties(source_sqlite PROPERTIES LABELS db WILL_FAIL ON)
endif()
