# Common settings for the project's own targets: strict warnings as errors.
# Third-party headers come in as SYSTEM includes through their imported targets,
# so their warnings never fail our build.
function(syncforce_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
    -Wno-unused-parameter -Wno-missing-field-initializers)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# syncforce_library(NAME SOURCES ... DEPS ...): a static library of one module.
function(syncforce_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  syncforce_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# syncforce_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
option(SYNCFORCE_STRICT_TESTS "A test naming a missing source file is an error (scripts/test sets it)" OFF)

function(syncforce_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  # While several people work in one tree, a test whose sources are not written
  # yet must not break everyone's configure; scripts/test and CI are strict.
  if(NOT ARG_SOURCES)
    if(SYNCFORCE_STRICT_TESTS)
      message(FATAL_ERROR "test ${name} has no sources")
    endif()
    message(WARNING "test ${name} skipped: no sources yet")
    return()
  endif()
  foreach(src ${ARG_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    if(NOT EXISTS ${abs})
      if(SYNCFORCE_STRICT_TESTS)
        message(FATAL_ERROR "test ${name}: source ${src} does not exist")
      endif()
      message(WARNING "test ${name} skipped: source ${src} does not exist yet")
      return()
    endif()
  endforeach()
  add_executable(${name} ${ARG_SOURCES})
  syncforce_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} --gtest_color=no)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
    ENVIRONMENT "SYNCFORCE_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SYNCFORCE_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
