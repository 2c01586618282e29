# SPDX-License-Identifier: MIT
# Smoke check of the aggregator benchmarks: `shmetrics-bench drain`,
# `scrape` and `e2e`, each with --smoke (BENCH: the binary; scrape and e2e
# start the shmetricsd built beside it). Each must pass bench_check
# (tests/common/bench_check.cmake) with every figure tools/bench.sh
# reports. Speed is never checked.
cmake_minimum_required(VERSION 3.18) # policies for -P scripts (IN_LIST)
include(${CMAKE_CURRENT_LIST_DIR}/../common/bench_check.cmake)

set(want_drain drain_counter_1k_msps_median drain_gauge_1k_msps_median
               drain_histogram_1k_msps_median drain_counter_100k_msps_median
               drain_gauge_100k_msps_median drain_histogram_100k_msps_median
               drain_histogram_100k_ns_per_sample)
set(want_scrape scrape_render_text_1k_ms_median scrape_render_om_1k_ms_median
                scrape_render_gzip_1k_ms_median scrape_render_text_cold_1k_ms_median
                scrape_render_counters_1k_ms_median scrape_render_text_1k_first_ms
                scrape_text_1k_bytes scrape_om_1k_bytes scrape_gzip_1k_bytes
                scrape_counters_1k_bytes scrape_get_text_1k_ms_median
                scrape_get_om_1k_ms_median scrape_get_gzip_1k_ms_median scrape_get_text_1k_bytes
                mem_store_counter_bytes_per_series mem_store_gauge_bytes_per_series
                mem_store_histogram_1obs_bytes_per_series
                mem_store_histogram_16obs_bytes_per_series mem_daemon_counter_bytes_per_series
                mem_daemon_gauge_bytes_per_series mem_daemon_histogram_16obs_bytes_per_series)
set(want_e2e e2e_applied_msps_median e2e_attempted_msps_median e2e_dropped_pct_median
             e2e_daemon_cpu_loaded_pct_median e2e_unaccounted e2e_latency_load_drain_p50_ms
             e2e_latency_load_drain_p99_ms e2e_latency_load_scrape_p99_ms
             e2e_latency_idle_drain_p50_ms e2e_latency_idle_drain_p99_ms
             e2e_latency_idle_scrape_p99_ms e2e_idle_cpu_no_producers_pct
             e2e_idle_cpu_idle_producers_pct)

foreach(kind drain scrape e2e)
  bench_check(${kind} want_${kind} ${BENCH} ${kind} --smoke)
endforeach()
