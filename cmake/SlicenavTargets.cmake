# Helpers for the project's own test and benchmark programs (tests/, benchmarks/), so that each program is one
# call instead of a repeated block of add_executable, target_link_libraries and registration.

# slicenav_add_gtest(NAME [LINK target...] [LABEL label] [TIMEOUT s] [DISCOVERY_TIMEOUT s])
#   A GoogleTest program NAME built from NAME.cpp in the calling folder, linked with LINK, the tests' shared
#   helpers (slicenav_test_common) and gtest_main; every test in it becomes a ctest test with LABEL (default
#   core) and, when given, TIMEOUT. DISCOVERY_TIMEOUT (default 60 s) bounds listing its tests at build time.
function(slicenav_add_gtest name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT;DISCOVERY_TIMEOUT" "LINK" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL core)
  endif()
  if(NOT ARG_DISCOVERY_TIMEOUT)
    set(ARG_DISCOVERY_TIMEOUT 60)
  endif()
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE ${ARG_LINK} slicenav_test_common GTest::gtest_main)
  set(properties LABELS ${ARG_LABEL})
  if(ARG_TIMEOUT)
    list(APPEND properties TIMEOUT ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT ${ARG_DISCOVERY_TIMEOUT} PROPERTIES ${properties})
endfunction()

# slicenav_add_benchmark(NAME SOURCE [LINK target...] [TORCH_VERSION])
#   A benchmark harness NAME from SOURCE, in build/bin: linked with the engine, the docs/benchmarks.md section
#   writer and CLI11 (plus LINK), with the tests' data locator, and told the data folder and the build type (and,
#   with TORCH_VERSION, LibTorch's version) for its machine notes.
function(slicenav_add_benchmark name source)
  cmake_parse_arguments(ARG "TORCH_VERSION" "" "LINK" ${ARGN})
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE slicenav_core slicenav_benchmark_markdown CLI11::CLI11 ${ARG_LINK})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests/common")
  target_compile_definitions(${name} PRIVATE
    SLICENAV_DEFAULT_DATA_DIR="${SLICENAV_DEFAULT_DATA_DIR}"
    SLICENAV_BUILD_TYPE="$<IF:$<CONFIG:>,unspecified,$<CONFIG>>")
  if(ARG_TORCH_VERSION)
    target_compile_definitions(${name} PRIVATE SLICENAV_TORCH_VERSION="${SLICENAV_BENCHMARK_TORCH_VERSION}")
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
endfunction()
