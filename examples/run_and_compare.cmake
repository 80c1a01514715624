# Runs an example and checks its standard output (cmake -P script, used by the example.* tests).
#
#   cmake -DPROGRAM=<exe> -DEXPECTED=<file> -P run_and_compare.cmake
#       stdout must equal <file> exactly, and the exit code must be 0;
#   cmake -DPROGRAM=<exe> "-DMATCH=<regex>;<regex>..." -P run_and_compare.cmake
#       for a program whose output is partly timing-dependent: every regex must match
#       somewhere in stdout, and the exit code must be 0.
# ARGS (a list) is passed to the program as its arguments.
# On a mismatch it prints the first differing line and a unified diff (or both outputs),
# keeps the actual output in <exe>.actual.txt, and fails.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED PROGRAM)
  message(FATAL_ERROR "run_and_compare: PROGRAM is not set")
endif()
if(NOT DEFINED EXPECTED AND NOT DEFINED MATCH)
  message(FATAL_ERROR "run_and_compare: set EXPECTED (a file) or MATCH (regexes)")
endif()

execute_process(COMMAND "${PROGRAM}" ${ARGS}
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors
  RESULT_VARIABLE rc
  TIMEOUT 120)

if(NOT rc STREQUAL "0")
  message("--- stdout ---\n${actual}--- stderr ---\n${errors}")
  message(FATAL_ERROR "${PROGRAM} exited with '${rc}'")
endif()

if(DEFINED EXPECTED)
  file(READ "${EXPECTED}" expected)
  if(NOT actual STREQUAL expected)
    # Find the first line that differs, to say where the outputs part.
    string(REPLACE ";" "\\;" a_esc "${actual}")
    string(REPLACE ";" "\\;" e_esc "${expected}")
    string(REPLACE "\n" ";" a_lines "${a_esc}")
    string(REPLACE "\n" ";" e_lines "${e_esc}")
    list(LENGTH a_lines a_n)
    list(LENGTH e_lines e_n)
    set(line 0)
    set(where "")
    while(line LESS a_n OR line LESS e_n)
      set(a "<end of output>")
      set(e "<end of file>")
      if(line LESS a_n)
        list(GET a_lines ${line} a)
      endif()
      if(line LESS e_n)
        list(GET e_lines ${line} e)
      endif()
      if(NOT a STREQUAL e)
        math(EXPR shown "${line} + 1")
        set(where "first difference at line ${shown}:\n  expected: ${e}\n  actual:   ${a}\n")
        break()
      endif()
      math(EXPR line "${line} + 1")
    endwhile()
    # The actual output is kept beside the program for a closer look; a unified diff is
    # printed when diff(1) is there. message() without a mode prints the text as it is.
    message("${where}")
    set(actual_file "${PROGRAM}.actual.txt")
    file(WRITE "${actual_file}" "${actual}")
    find_program(DIFF_PROGRAM diff)
    if(DIFF_PROGRAM)
      execute_process(COMMAND "${DIFF_PROGRAM}" -u "${EXPECTED}" "${actual_file}" OUTPUT_VARIABLE diff_text)
      message("--- diff -u expected actual ---\n${diff_text}")
    else()
      message("--- expected ---\n${expected}--- actual ---\n${actual}")
    endif()
    if(errors)
      message("--- stderr ---\n${errors}")
    endif()
    message(FATAL_ERROR "${PROGRAM}: output differs from ${EXPECTED} (actual output in ${actual_file})")
  endif()
endif()

foreach(re IN LISTS MATCH)
  if(NOT actual MATCHES "${re}")
    message("--- actual ---\n${actual}--- stderr ---\n${errors}")
    message(FATAL_ERROR "${PROGRAM}: the output does not match '${re}'")
  endif()
endforeach()
