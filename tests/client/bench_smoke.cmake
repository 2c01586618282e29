# SPDX-License-Identifier: MIT
# The benchmarks' smoke checks. KIND=client runs `shmetrics-bench client
# --smoke` (BENCH: the binary; it starts the shmetricsd built beside it);
# KIND=python runs `bench/python.sh --smoke` (SCRIPT: its path) and is
# skipped where prometheus_client is not installed. Each must pass
# bench_check (tests/common/bench_check.cmake) with every figure the
# reports depend on. Speed is never checked.
cmake_minimum_required(VERSION 3.18) # policies for -P scripts (IN_LIST)
include(${CMAKE_CURRENT_LIST_DIR}/../common/bench_check.cmake)
if(KIND STREQUAL "python")
  execute_process(COMMAND /usr/bin/python3 -c "import prometheus_client"
                  RESULT_VARIABLE missing OUTPUT_QUIET ERROR_QUIET)
  if(NOT missing EQUAL 0)
    message(STATUS "SKIPPED: /usr/bin/python3 has no prometheus_client")
    return()
  endif()
  set(cmd ${SCRIPT} --smoke --no-install)
  set(wanted python_counter_inc_ns python_histogram_observe_ns python_scrape_64_ms
             python_scrape_1024_ms)
else()
  set(cmd ${BENCH} client --smoke)
  # shmetrics with shmetricsd draining (1 and 2 producers), the three
  # baselines, the ratios, per-call percentiles and every kind of drop.
  set(wanted client_inc_ns_median client_add_ns_median client_observe_ns_median
             client_inc_2p_ns_median client_observe_2p_ns_median
             baseline_atomic_2p_ns_median baseline_hist_2p_ns_median
             baseline_lock_inc_1p_ns_median baseline_lock_inc_2p_ns_median
             baseline_lock_observe_2p_ns_median baseline_statsd_inc_1p_ns_median
             baseline_statsd_observe_2p_ns_median
             ratio_atomic_2p_over_inc ratio_hist_2p_over_observe ratio_lock_inc_2p_over_inc
             ratio_lock_observe_2p_over_observe ratio_statsd_inc_1p_over_inc
             ratio_statsd_observe_2p_over_observe
             client_inc_p50_ns client_inc_p99_ns client_inc_p999_ns client_inc_2p_p999_ns
             client_observe_p999_ns client_inc_dropped client_saturated_dropped
             daemon_samples_total daemon_dropped_total daemon_invalid_total client_unaccounted
             lock_owner_dead_recovered statsd_sent statsd_received statsd_dropped)
endif()
bench_check(${KIND} wanted ${cmd})
