# SPDX-License-Identifier: MIT
# Runs `shmetrics-bench client --smoke` and checks that it exits 0, that
# every BENCH line is `BENCH <name> <number> <unit>`, and that the figures
# the reports depend on are all there. Speed is never checked.
cmake_minimum_required(VERSION 3.18) # policies for -P scripts (IN_LIST)
execute_process(COMMAND ${BENCH} client --smoke
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "shmetrics-bench exited with ${rc}\n${out}\n${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(names "")
foreach(line IN LISTS lines)
  if(line MATCHES "^BENCH")
    if(NOT line MATCHES "^BENCH ([a-z0-9_]+) -?[0-9]+(\\.[0-9]+)? [a-z]+$")
      message(FATAL_ERROR "malformed line: '${line}'")
    endif()
    list(APPEND names ${CMAKE_MATCH_1})
  endif()
endforeach()
foreach(want client_inc_ns_median client_observe_ns_median baseline_atomic_2p_ns_median
             baseline_hist_2p_ns_median ratio_atomic_2p_over_inc ratio_hist_2p_over_observe
             client_inc_p50_ns client_inc_p99_ns client_inc_p999_ns client_inc_dropped
             client_unaccounted)
  if(NOT want IN_LIST names)
    message(FATAL_ERROR "missing figure: ${want}\n${out}")
  endif()
endforeach()
list(LENGTH names n)
message(STATUS "${n} well-formed BENCH lines")
