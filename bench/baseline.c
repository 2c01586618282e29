/* SPDX-License-Identifier: MIT */
/*
 * bench/baseline.c - baseline (a), what a shared-memory metrics
 * library without per-producer rings or locks does: every producer updates
 * the one copy of the metric in a MAP_SHARED mapping with read-modify-write
 * atomics. A counter
 * is one fetch-add; a histogram is a bucket search, two fetch-adds
 * (bucket, count) and a compare-and-swap loop for the double sum. With
 * two producers the cache lines bounce between cores on every call.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "baseline.h"
#include "bench.h"

const double bench_bounds[BENCH_NBOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1.0,  2.5,   5.0,  10.0};

struct baseline {
    _Alignas(64) _Atomic uint64_t counter;
    _Alignas(64) _Atomic uint64_t buckets[BENCH_NBOUNDS + 1];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_bits; /* a double, updated by CAS */
};

struct baseline *baseline_new(void)
{
    void *p = mmap(NULL, sizeof(struct baseline), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p; /* zero-filled */
}

void baseline_free(struct baseline *b)
{
    if (b != NULL)
        munmap(b, sizeof(*b));
}

/* RELAXED throughout: only the totals matter, as in a metrics library. */
void baseline_atomic_loop(struct baseline *b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(&b->counter, 1, memory_order_relaxed);
}

static void hist_observe(struct baseline *b, double v)
{
    uint64_t old, upd;
    double sum;

    atomic_fetch_add_explicit(&b->buckets[bench_bucket(v)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->count, 1, memory_order_relaxed);
    old = atomic_load_explicit(&b->sum_bits, memory_order_relaxed);
    do {
        memcpy(&sum, &old, sizeof(sum));
        sum += v;
        memcpy(&upd, &sum, sizeof(upd));
    } while (!atomic_compare_exchange_weak_explicit(&b->sum_bits, &old, upd, memory_order_relaxed,
                                                    memory_order_relaxed));
}

void baseline_hist_loop(struct baseline *b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        hist_observe(b, bench_value(i));
}

uint64_t baseline_count(const struct baseline *b)
{
    return atomic_load_explicit(&b->counter, memory_order_relaxed) +
           atomic_load_explicit(&b->count, memory_order_relaxed);
}
