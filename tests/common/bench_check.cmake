# SPDX-License-Identifier: MIT
# bench_check(<tag> <wanted-list-var> <command...>): run a benchmark's
# smoke mode and check what it printed: it exits 0, every BENCH line reads
# `BENCH <name> <number> <unit>`, no figure is named twice, and every name
# in the list <wanted-list-var> is there. Speed is never checked. Included
# by the smoke scripts of tests/client and tests/tools.
function(bench_check tag wanted_var)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${tag}: ${ARGN} exited with ${rc}\n${out}\n${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(names "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^BENCH")
      if(NOT line MATCHES "^BENCH ([a-z0-9_]+) -?[0-9]+(\\.[0-9]+)? [a-z]+$")
        message(FATAL_ERROR "${tag}: malformed line: '${line}'")
      endif()
      if(CMAKE_MATCH_1 IN_LIST names)
        message(FATAL_ERROR "${tag}: figure printed twice: ${CMAKE_MATCH_1}")
      endif()
      list(APPEND names ${CMAKE_MATCH_1})
    endif()
  endforeach()
  foreach(want IN LISTS ${wanted_var})
    if(NOT want IN_LIST names)
      message(FATAL_ERROR "${tag}: missing figure: ${want}\n${out}")
    endif()
  endforeach()
  list(LENGTH names n)
  message(STATUS "${tag}: ${n} well-formed BENCH lines")
endfunction()
