# reel_warnings(target): the project's warning set; fatal when REEL_WERROR is on (CI).
function(reel_warnings target)
  # -Wno-mismatched-new-delete: g++ 12 reports a false positive on every Asio coroutine frame
  # (awaitable_frame's class-specific operator new/delete), so the check is off.
  # (Both are g++ options; clang, which builds the fuzz targets, has neither.)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
                                           $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local -Wno-mismatched-new-delete>)
  if(REEL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# reel_library(name [SOURCES ...] [HEADERS ...] [DEPS ...]): one static library per component,
# named reel_<name>, with include root src/ so headers are included as "redis/client.h". Without
# SOURCES it is a header-only (INTERFACE) library. SOURCES and HEADERS are paths relative to the
# calling folder; they tell the layering check (cmake/ReelLayering.cmake) which library owns which
# header: a header belongs to the library that compiles its .cc, else to the one naming it in
# HEADERS, else to its folder's library.
function(reel_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;HEADERS;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(reel_${name} STATIC ${ARG_SOURCES})
    set(scope PUBLIC)
  else()
    add_library(reel_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(reel_${name} ${scope} ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(reel_${name} ${scope} ${ARG_DEPS})
  # Boost 1.74's Asio needs <utility> before its headers under g++ 12; asio_fwd.h does that, and
  # these definitions keep every translation unit's Asio configuration identical.
  target_compile_definitions(reel_${name} ${scope} BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
  if(ARG_SOURCES)
    reel_warnings(reel_${name})
  endif()
  reel_register_layering(reel_${name} "${ARG_SOURCES}" "${ARG_HEADERS}" "${ARG_DEPS}")
endfunction()

# reel_test(name LABEL unit|integration|cluster|browser SOURCES ... DEPS ...): one GoogleTest
# executable registered with CTest under the given label, so each suite can run alone
# (ctest -L unit).
function(reel_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  reel_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  # GTEST_SHUFFLE: every run takes the suite's tests in a new order, so none can come to rely on
  # another having run first; gtest prints the seed (rerun one order with GTEST_RANDOM_SEED=N).
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "REEL_SOURCE_DIR=${PROJECT_SOURCE_DIR};REEL_BINARY_DIR=${PROJECT_BINARY_DIR};GTEST_SHUFFLE=1")
endfunction()
