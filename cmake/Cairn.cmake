# Helpers shared by every subsystem: warnings, sanitizers, libraries and tests.

set(CAIRN_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter)

if(CAIRN_FUZZ)
  # Everything is built with fuzzer coverage, so the fuzzers see into the libraries.
  add_compile_options(-fsanitize=fuzzer-no-link)
  set(CAIRN_SANITIZE ON)
endif()

if(CAIRN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# cairn_library(NAME SOURCES a.cc b.cc DEPS x y)
# Defines target cairn_NAME; includes are rooted at src/.
function(cairn_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(cairn_${name} STATIC ${ARG_SOURCES})
  target_include_directories(cairn_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(cairn_${name} PRIVATE ${CAIRN_WARNINGS})
  target_link_libraries(cairn_${name} PUBLIC ${ARG_DEPS})
endfunction()

# cairn_test(NAME SOURCES a_test.cc DEPS cairn_x)
function(cairn_test name)
  if(NOT CAIRN_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CAIRN_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  # Tests find golden files and the `cairn` binary through these (CAIRN_BINARY in the
  # environment overrides the binary).
  target_compile_definitions(${name} PRIVATE CAIRN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                             CAIRN_DEFAULT_BINARY="${PROJECT_BINARY_DIR}/cairn")
  # OpenMP (XGBoost) threads sleep rather than spin while waiting: tests run two at a time on
  # two cores, and spinning pools starve each other (10 s instead of 0.2 s for one training).
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=passive")
endfunction()
