# Instrumentation of the project's own targets: sanitizers (SIGS_SANITIZE) and gcov coverage
# (SIGS_COVERAGE). Both are applied through sigs_instrumentation, an INTERFACE target that
# sigs_warnings links, so the library and every test, property, fuzz, example, model and
# benchmark target gets them, and nothing else does (not consumers, not imported targets).
# CMAKE_CXX_FLAGS stays the user's: the two variables combine freely, e.g.
#   -DSIGS_SANITIZE=address,undefined -DSIGS_COVERAGE=ON
# and work with either compiler.
#
# Optimisation: a sanitized Debug build runs at -O1 (the usual sanitizer level, with
# assertions on); other build types keep their own level. Coverage always compiles at -O0,
# which wins over the sanitizers' -O1.
#
# After this file, SIGS_SANITIZE is the resolved list (semicolon-separated, with `fuzzer`
# when SIGS_FUZZ is ON) and SIGS_FUZZ is ON when `fuzzer` is in it: test `if(SIGS_SANITIZE)`
# for "any sanitizer", never CMAKE_CXX_FLAGS.

set(SIGS_SANITIZE "" CACHE STRING
  "Sanitizers for the project's own targets, a comma-separated list of address, undefined, leak, thread, fuzzer (libFuzzer instrumentation, clang; the same as SIGS_FUZZ=ON); empty for none")

# A build tree configured before SIGS_SANITIZE existed keeps the old flag string in its
# cache; with it the tests that replace operator new would be built beside a sanitizer.
# (Only when sigs is the top-level project: a consumer's flags are the consumer's.)
if(SIGS_MASTER_PROJECT AND CMAKE_CXX_FLAGS MATCHES "-fsanitize|--coverage")
  message(FATAL_ERROR
    "CMAKE_CXX_FLAGS is '${CMAKE_CXX_FLAGS}': sanitizers and coverage are set with "
    "SIGS_SANITIZE and SIGS_COVERAGE, not CMAKE_CXX_FLAGS. For a build tree configured by an "
    "older preset, reconfigure it from scratch: cmake --fresh --preset <name>")
endif()

string(REPLACE "," ";" _sigs_sanitizers "${SIGS_SANITIZE}")
list(TRANSFORM _sigs_sanitizers STRIP)
list(REMOVE_ITEM _sigs_sanitizers "")
if(SIGS_FUZZ)
  list(APPEND _sigs_sanitizers fuzzer)
endif()
list(REMOVE_DUPLICATES _sigs_sanitizers)

foreach(_sigs_s IN LISTS _sigs_sanitizers)
  if(NOT _sigs_s MATCHES "^(address|undefined|leak|thread|fuzzer)$")
    message(FATAL_ERROR "SIGS_SANITIZE: unknown sanitizer '${_sigs_s}' (known: address, undefined, leak, thread, fuzzer)")
  endif()
endforeach()
if("thread" IN_LIST _sigs_sanitizers AND ("address" IN_LIST _sigs_sanitizers OR "leak" IN_LIST _sigs_sanitizers))
  message(FATAL_ERROR "SIGS_SANITIZE: thread cannot be combined with address or leak")
endif()
if("fuzzer" IN_LIST _sigs_sanitizers)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SIGS_SANITIZE: fuzzer (libFuzzer) needs clang; use the fuzz preset")
  endif()
  set(SIGS_FUZZ ON)  # fuzz/: the targets link libFuzzer
endif()
set(SIGS_SANITIZE "${_sigs_sanitizers}")

add_library(sigs_instrumentation INTERFACE)
if(SIGS_SANITIZE)
  # Every target is compiled for libFuzzer's coverage feedback; only the fuzz targets link
  # libFuzzer itself (-fsanitize=fuzzer, fuzz/CMakeLists.txt).
  string(REPLACE "fuzzer" "fuzzer-no-link" _sigs_flag "${SIGS_SANITIZE}")
  list(JOIN _sigs_flag "," _sigs_flag)
  set(_sigs_sanitize_options -fsanitize=${_sigs_flag} -fno-omit-frame-pointer)
  if("undefined" IN_LIST SIGS_SANITIZE)
    list(APPEND _sigs_sanitize_options -fno-sanitize-recover=undefined)
  endif()
  target_compile_options(sigs_instrumentation INTERFACE ${_sigs_sanitize_options})
  target_link_options(sigs_instrumentation INTERFACE -fsanitize=${_sigs_flag})
  if(NOT SIGS_COVERAGE)
    target_compile_options(sigs_instrumentation INTERFACE $<$<CONFIG:Debug>:-O1>)
  endif()
endif()
if(SIGS_COVERAGE)
  # -fprofile-update=atomic: the counters are bumped from many threads at once.
  target_compile_options(sigs_instrumentation INTERFACE --coverage -fprofile-update=atomic -O0)
  target_link_options(sigs_instrumentation INTERFACE --coverage)
endif()

if(SIGS_SANITIZE OR SIGS_COVERAGE)
  list(JOIN SIGS_SANITIZE "," _sigs_flag)
  message(STATUS "sigs: sanitizers '${_sigs_flag}', coverage ${SIGS_COVERAGE}")
endif()
unset(_sigs_s)
unset(_sigs_flag)
unset(_sigs_sanitizers)
unset(_sigs_sanitize_options)
