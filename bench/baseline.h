/* SPDX-License-Identifier: MIT */
/*
 * bench/baseline.h - the other ways to aggregate metrics across
 * processes that `shmetrics-bench client` measures shmetrics against, in the
 * same runs:
 *   (a) baseline.c         read-modify-write atomics on one shared copy
 *   (b) baseline_lock.c    a robust process-shared mutex around a
 *                          label-keyed hash table in shared memory
 *   (c) baseline_statsd.c  one UDP datagram per sample to a StatsD-style
 *                          receiver that parses and aggregates
 * Every loop records one series, like the shmetrics loops it is set
 * against; histograms use the Prometheus default buckets.
 */
#ifndef SHMETRICS_BENCH_BASELINE_H
#define SHMETRICS_BENCH_BASELINE_H

#include <stdint.h>

#define BENCH_NBOUNDS 11

extern const double bench_bounds[BENCH_NBOUNDS]; /* Prometheus defaults */

/* The bucket of v: the first bound >= v, or BENCH_NBOUNDS (+Inf). */
static inline unsigned bench_bucket(double v)
{
    unsigned k = 0;

    while (k < BENCH_NBOUNDS && v > bench_bounds[k])
        k++;
    return k;
}

/* (a) baseline.c: lives in a MAP_SHARED mapping, as a multi-process
 * design would. */
struct baseline;
struct baseline *baseline_new(void);
void baseline_free(struct baseline *b);
void baseline_atomic_loop(struct baseline *b, uint64_t n);
void baseline_hist_loop(struct baseline *b, uint64_t n);
uint64_t baseline_count(const struct baseline *b); /* adds, for a sanity check */

/* (b) baseline_lock.c. The loops return 0 or a negative errno (a lock
 * that could not be taken or recovered, a full table). */
struct lock_table;
struct lock_table *lock_table_new(void);
void lock_table_free(struct lock_table *t);
int lock_loop_inc(struct lock_table *t, uint64_t n);
int lock_loop_observe(struct lock_table *t, uint64_t from, uint64_t n);
uint64_t lock_table_count(struct lock_table *t);     /* samples recorded */
uint64_t lock_table_recovered(struct lock_table *t); /* EOWNERDEAD handled */
/* Fork a child that dies holding the lock; the next sample must recover
 * it. Returns 0, or a negative errno. */
int lock_table_owner_death_check(struct lock_table *t);

/* (c) baseline_statsd.c. A receiver thread bound to an ephemeral loopback
 * port; each producer thread sends through its own socket. */
struct statsd;
struct statsd *statsd_new(void);
void statsd_free(struct statsd *s);
int statsd_sender_open(void); /* a UDP socket, or a negative errno */
/* The loops return the datagrams handed to the kernel (sendto succeeded). */
uint64_t statsd_loop_inc(const struct statsd *s, int fd, uint64_t n);
uint64_t statsd_loop_observe(const struct statsd *s, int fd, uint64_t from, uint64_t n);
/* Wait until the receiver has read everything queued for it; returns the
 * datagrams it has parsed so far. */
uint64_t statsd_settle(struct statsd *s);
uint64_t statsd_bad_lines(const struct statsd *s); /* malformed datagrams */
int statsd_rcvbuf(const struct statsd *s);         /* receive buffer, bytes */

#endif /* SHMETRICS_BENCH_BASELINE_H */
