/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench.h - shmetrics-bench: the options (main.c), the client
 * benchmark (client.c, baseline.c) and the statistics and output helpers
 * (stats.c) that every figure goes through.
 */
#ifndef SHMETRICS_BENCH_H
#define SHMETRICS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_BATCH 64 /* calls per timed batch in the latency passes */

struct bench_opts {
    unsigned runs;         /* repetitions; figures are medians over them */
    uint64_t samples;      /* calls per thread per run */
    unsigned threads;      /* shmetrics producer threads: 1 or 2 */
    uint32_t ring_records; /* ring size of the benchmark segment */
    bool smoke;            /* tiny sizes: checks that it runs */
};

/* client.c */
int bench_client(const struct bench_opts *o);

/* baseline.c: the shared-memory atomics the client is compared with.
 * Lives in a MAP_SHARED mapping, as a multi-process design would. */
struct baseline;
struct baseline *baseline_new(void);
void baseline_free(struct baseline *b);
void baseline_atomic_loop(struct baseline *b, uint64_t n);
void baseline_hist_loop(struct baseline *b, uint64_t n);
uint64_t baseline_count(const struct baseline *b); /* adds, for a sanity check */

/* The value observed by call i in every histogram loop: spread over the
 * Prometheus default buckets. */
static inline double bench_value(uint64_t i)
{
    return (double)(i & 1023) * (1.0 / 128);
}

/* stats.c */
struct series_stats {
    double median, min, max;
};
uint64_t bench_now_ns(void);
struct series_stats stats_of(const double *v, size_t n);
double stats_percentile(const double *sorted, size_t n, double p);
void stats_sort(double *v, size_t n);
void bench_emit(const char *name, double value, const char *unit);
void bench_emit_stats(const char *name, struct series_stats s, const char *unit);

#endif /* SHMETRICS_BENCH_H */
