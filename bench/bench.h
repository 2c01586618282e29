/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h - shmetrics-bench: the options (main.c), the client
 * benchmark (client.h) and the statistics and output helpers (stats.c) that
 * every figure goes through.
 */
#ifndef SHMETRICS_BENCH_H
#define SHMETRICS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_BATCH 64 /* calls per timed batch in the latency passes */

/* Who drains the rings in `client`. */
enum bench_consumer {
    BENCH_CONSUMER_DAEMON, /* a live shmetricsd, started for the run */
    BENCH_CONSUMER_INPROC, /* an in-process thread that discards records */
};

struct bench_opts {
    unsigned runs;                /* repetitions; figures are medians over them */
    uint64_t samples;             /* calls per thread per run (shmetrics, atomics) */
    uint64_t lock_samples;        /* calls per thread per run, locked baseline */
    uint64_t statsd_samples;      /* datagrams per thread per run, StatsD baseline */
    unsigned threads;             /* producer threads: 1, or 1 and then 2 */
    uint32_t ring_records;        /* ring size of the benchmark segment */
    enum bench_consumer consumer; /* who drains */
    bool pin;                     /* producer i on CPU i, shmetricsd on the last */
    bool smoke;                   /* tiny sizes: checks that it runs */
};

/* client.c: shmetrics against the baselines (baseline.h). */
int bench_client(const struct bench_opts *o);

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

/* A whole number with an optional k, M or G suffix; 0 or -EINVAL. */
int bench_parse_count(const char *s, uint64_t *out);

#endif /* SHMETRICS_BENCH_H */
