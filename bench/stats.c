/* SPDX-License-Identifier: MIT */
/*
 * bench/stats.c - medians, percentiles and the output format. Every
 * figure is printed as one machine-readable line
 *     BENCH <name> <value> <unit>
 * (name [a-z0-9_]+, value a plain decimal, unit [a-z]+), which scripts and
 * the smoke test parse; the human tables are printed beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void stats_sort(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
}

/* Nearest-rank percentile of sorted[0..n), p in [0, 1]. */
double stats_percentile(const double *sorted, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)n);
    return sorted[i < n ? i : n - 1];
}

struct series_stats stats_of(const double *v, size_t n)
{
    struct series_stats s = {0, 0, 0};
    double *c;

    if (n == 0 || (c = malloc(n * sizeof(*c))) == NULL)
        return s;
    memcpy(c, v, n * sizeof(*c));
    stats_sort(c, n);
    s.min = c[0];
    s.max = c[n - 1];
    s.median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return s;
}

void bench_emit(const char *name, double value, const char *unit)
{
    printf("BENCH %s %.3f %s\n", name, value, unit);
}

/* name_median, name_min and name_max. */
void bench_emit_stats(const char *name, struct series_stats s, const char *unit)
{
    char buf[128];

    snprintf(buf, sizeof(buf), "%s_median", name);
    bench_emit(buf, s.median, unit);
    snprintf(buf, sizeof(buf), "%s_min", name);
    bench_emit(buf, s.min, unit);
    snprintf(buf, sizeof(buf), "%s_max", name);
    bench_emit(buf, s.max, unit);
}
