# Layering checks that read the sources (no compiler needed), run when CMake
# configures (the top CMakeLists.txt) and as tests (tests/unit/layering), where
# fixtures show that each one fails on what it is meant to catch.
#
#   syncforce_check_sql_in_store(ROOT <dir> [RESULT <var>])
#     All SQL lives in store/ (issue #20): no file outside store/, tests/, bench/
#     and emulator/ (sfemu has no PostgreSQL) runs a statement through libpqxx or
#     spells one out. SOQL ("SELECT Id FROM Contact") is not SQL to this check:
#     it looks for libpqxx's execution calls and for statements only PostgreSQL takes.
#
#   syncforce_check_no_pqxx_in(ROOT <dir> DIR <subdir> [ALLOWED <regex>] [RESULT <var>])
#     No file of <subdir> (actors/) includes libpqxx, directly or through a
#     project header it includes, however deep: the actors see store/'s rows as
#     plain structs (store/rows.hpp, store/cluster_rows.hpp, store/channels.hpp).
#     With ALLOWED, every project file reached that way must match <regex> too:
#     actors/ depends on CAF and interfaces only (#20), so it reaches no header of
#     the Salesforce client, engine_io/ or store/'s functions.
#
# Without RESULT a finding is a FATAL_ERROR; with it, <var> is set to the findings
# (empty: none) so that a caller can test the check itself.
#
# Run as a script: cmake -DCHECK=sql|pqxx -DROOT=<dir> [-DDIR=actors] -P CheckLayering.cmake

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  cmake_minimum_required(VERSION 3.25) # the functions below are recorded with these policies
endif()

# libpqxx runs statements through these (6.x and 7.x spellings).
set(SYNCFORCE_SQL_CALL_REGEX
  "\\.(exec|exec0|exec1|exec_n|exec_params|exec_params0|exec_params1|exec_params_n|exec_prepared|query_value)[ \t]*[(<]|pqxx::(stream_from|stream_to|pipeline|tablewriter|tablereader|prepare)")
# Statements in string literals that only PostgreSQL takes (not SOQL).
set(SYNCFORCE_SQL_TEXT_REGEX
  "\"[^\"]*(INSERT INTO |DELETE FROM |UPDATE syncforce\\.|FROM syncforce\\.|CREATE (TABLE|TRIGGER|INDEX|SCHEMA|FUNCTION|OR REPLACE)|DROP (TABLE|TRIGGER|INDEX|SCHEMA|FUNCTION)|ALTER (TABLE|ROLE|SCHEMA)|TRUNCATE |LOCK TABLE|SET LOCAL |RESET [a-z_]|pg_notify\\(|LISTEN syncforce|NOTIFY syncforce|pg_advisory|set_config\\(|to_regclass\\()")

# Files outside store/ allowed to hold SQL, as "path=most matching lines", each with
# its reason next to it. None: every statement is a store/ function (#20).
set(SYNCFORCE_SQL_ALLOWED)

function(syncforce_sql_sources root out)
  file(GLOB tops LIST_DIRECTORIES true RELATIVE ${root} ${root}/*)
  set(files)
  foreach(top ${tops})
    if(NOT IS_DIRECTORY ${root}/${top} OR top MATCHES "^(store|tests|bench|emulator|build.*|node_modules|docs|deploy|scripts|cmake|proto|\\..*)$")
      continue()
    endif()
    file(GLOB_RECURSE found RELATIVE ${root} ${root}/${top}/*.cpp ${root}/${top}/*.hpp ${root}/${top}/*.h ${root}/${top}/*.cc)
    list(APPEND files ${found})
  endforeach()
  set(${out} ${files} PARENT_SCOPE)
endfunction()

# The lines of `path` as a CMake list: `;` and brackets, which a list would take
# for separators and quoting, are replaced first (nothing below looks for them).
function(syncforce_source_lines path out)
  file(READ ${path} content)
  string(REPLACE ";" "," content "${content}")
  string(REPLACE "[" "{" content "${content}")
  string(REPLACE "]" "}" content "${content}")
  string(REPLACE "\\" "/" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(syncforce_check_sql_in_store)
  cmake_parse_arguments(ARG "" "ROOT;RESULT" "" ${ARGN})
  syncforce_sql_sources(${ARG_ROOT} files)
  set(findings)
  foreach(f ${files})
    syncforce_source_lines(${ARG_ROOT}/${f} lines)
    list(FILTER lines INCLUDE REGEX "${SYNCFORCE_SQL_CALL_REGEX}|${SYNCFORCE_SQL_TEXT_REGEX}")
    # Comments may name statements.
    list(FILTER lines EXCLUDE REGEX "^[ \t]*(//|/?\\*)")
    list(LENGTH lines n)
    if(n EQUAL 0)
      continue()
    endif()
    set(allowed 0)
    foreach(entry ${SYNCFORCE_SQL_ALLOWED})
      if(entry MATCHES "^${f}=([0-9]+)$")
        set(allowed ${CMAKE_MATCH_1})
      endif()
    endforeach()
    if(n GREATER allowed)
      list(GET lines 0 first)
      string(STRIP "${first}" first)
      list(APPEND findings "${f}: ${n} line(s) of SQL (allowed ${allowed}), e.g. `${first}`")
    endif()
  endforeach()
  if(DEFINED ARG_RESULT)
    set(${ARG_RESULT} "${findings}" PARENT_SCOPE)
  elseif(findings)
    string(REPLACE ";" "\n  " text "${findings}")
    message(FATAL_ERROR "SQL outside store/ (all SQL lives in store/, in functions named for what they do; "
                        "see docs/architecture.md):\n  ${text}")
  endif()
endfunction()

# The project headers `file` (relative to root) includes, resolved against the root
# (the project's include directory) or the including file's folder.
function(syncforce_project_includes root file out)
  file(STRINGS ${root}/${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  get_filename_component(dir ${file} DIRECTORY)
  set(found)
  foreach(line ${lines})
    if(line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      set(name ${CMAKE_MATCH_1})
      if(EXISTS ${root}/${dir}/${name} AND NOT IS_DIRECTORY ${root}/${dir}/${name})
        file(RELATIVE_PATH rel ${root} ${root}/${dir}/${name})
        list(APPEND found ${rel})
      elseif(EXISTS ${root}/${name} AND NOT IS_DIRECTORY ${root}/${name})
        list(APPEND found ${name})
      endif()
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

function(syncforce_check_no_pqxx_in)
  cmake_parse_arguments(ARG "" "ROOT;DIR;ALLOWED;RESULT" "" ${ARGN})
  file(GLOB starts RELATIVE ${ARG_ROOT} ${ARG_ROOT}/${ARG_DIR}/*.cpp ${ARG_ROOT}/${ARG_DIR}/*.hpp)
  # Which project headers include libpqxx, directly or not: a walk of the include
  # graph from every file of DIR, remembering how each file was reached.
  set(findings)
  set(seen)
  set(queue ${starts})
  foreach(s ${starts})
    string(MAKE_C_IDENTIFIER "${s}" key)
    set(via_${key} "${s}")
  endforeach()
  while(queue)
    list(POP_FRONT queue f)
    if(f IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${f})
    string(MAKE_C_IDENTIFIER "${f}" key)
    file(STRINGS ${ARG_ROOT}/${f} direct REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]pqxx/")
    if(direct)
      list(APPEND findings "${via_${key}} includes libpqxx")
    endif()
    if(DEFINED ARG_ALLOWED AND NOT f MATCHES "${ARG_ALLOWED}")
      list(APPEND findings "${via_${key}} is outside what ${ARG_DIR}/ may see")
    endif()
    syncforce_project_includes(${ARG_ROOT} ${f} next)
    foreach(n ${next})
      string(MAKE_C_IDENTIFIER "${n}" nkey)
      if(NOT DEFINED via_${nkey})
        set(via_${nkey} "${via_${key}} -> ${n}")
      endif()
      list(APPEND queue ${n})
    endforeach()
  endwhile()
  if(DEFINED ARG_RESULT)
    set(${ARG_RESULT} "${findings}" PARENT_SCOPE)
  elseif(findings)
    string(REPLACE ";" "\n  " text "${findings}")
    message(FATAL_ERROR "${ARG_DIR}/ reaches libpqxx or a header outside its interfaces (it sees store/'s rows as "
                        "plain structs: store/rows.hpp, store/cluster_rows.hpp, store/channels.hpp; blocking I/O "
                        "is engine_io/'s):\n  ${text}")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(CHECK STREQUAL "sql")
    syncforce_check_sql_in_store(ROOT ${ROOT})
  elseif(CHECK STREQUAL "pqxx")
    syncforce_check_no_pqxx_in(ROOT ${ROOT} DIR ${DIR})
  else()
    message(FATAL_ERROR "CHECK must be sql or pqxx")
  endif()
endif()
