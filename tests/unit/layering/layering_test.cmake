# The layering checks of cmake/CheckLayering.cmake, tested: each finds what it is
# meant to catch in a fixture tree, leaves alone what it must not flag, and finds
# nothing in the project itself.
#   cmake -DROOT=<source dir> -P layering_test.cmake
cmake_minimum_required(VERSION 3.25)
include(${ROOT}/cmake/CheckLayering.cmake)
set(fixtures ${ROOT}/tests/unit/layering/fixtures)
set(failures)

function(expect what findings pattern)
  string(REPLACE ";" "\n" text "${findings}")
  if(NOT text MATCHES "${pattern}")
    set(failures ${failures} "${what}: expected a finding matching `${pattern}`, got: `${text}`" PARENT_SCOPE)
  endif()
endfunction()
function(expect_not what findings pattern)
  string(REPLACE ";" "\n" text "${findings}")
  if(text MATCHES "${pattern}")
    set(failures ${failures} "${what}: expected no finding matching `${pattern}`, got: `${text}`" PARENT_SCOPE)
  endif()
endfunction()

# SQL outside store/: found whether run through libpqxx or only spelled out;
# SOQL, comments and store/ are not findings.
syncforce_check_sql_in_store(ROOT ${fixtures}/sql RESULT sql)
expect("sql run outside store/" "${sql}" "engine_io/runs_sql.cpp: 1 line")
expect("sql spelled outside store/" "${sql}" "engine_io/spells_sql.cpp: 1 line")
expect_not("soql" "${sql}" "soql_only")
expect_not("store/" "${sql}" "in_store")
list(LENGTH sql n)
if(NOT n EQUAL 2)
  list(APPEND failures "sql fixture: expected 2 findings, got ${n}: ${sql}")
endif()

# libpqxx reached through project headers, however deep, with the path that reaches it.
syncforce_check_no_pqxx_in(ROOT ${fixtures}/pqxx DIR actors RESULT pqxx)
expect("pqxx two headers deep" "${pqxx}"
       "actors/deep.cpp -> store/rows_with_functions.hpp -> store/db_functions.hpp includes libpqxx")
expect_not("plain rows" "${pqxx}" "clean.cpp")

# With ALLOWED, any project header reached outside it, however deep.
syncforce_check_no_pqxx_in(ROOT ${fixtures}/pqxx DIR actors ALLOWED "^(actors/|store/plain_rows\\.hpp$)" RESULT reach)
expect("a client header" "${reach}" "actors/uses_client.cpp -> salesforce/client.hpp is outside what actors/ may see")
expect("store functions" "${reach}" "actors/deep.cpp -> store/rows_with_functions.hpp is outside")
expect_not("plain rows, allowed" "${reach}" "clean.cpp")

# The project itself: nothing (the configure step checks the same, this says so in ctest too).
syncforce_check_sql_in_store(ROOT ${ROOT} RESULT project_sql)
if(project_sql)
  list(APPEND failures "SQL outside store/: ${project_sql}")
endif()
syncforce_check_no_pqxx_in(ROOT ${ROOT} DIR actors RESULT project_pqxx
  ALLOWED "^(actors/|sync/|metrics/metrics\\.hpp$|store/(rows|cluster_rows|channels)\\.hpp$)")
if(project_pqxx)
  list(APPEND failures "actors/ reaches libpqxx: ${project_pqxx}")
endif()

if(failures)
  string(REPLACE ";" "\n  " text "${failures}")
  message(FATAL_ERROR "layering checks:\n  ${text}")
endif()
message(STATUS "layering checks: all expectations held")
