/* SPDX-License-Identifier: MIT */
/*
 * bench/client.h - `shmetrics-bench client` internals: the harness
 * (client.c: worker threads, jobs, runs), its setup (client_setup.c: the
 * segment, shmetricsd or the in-process consumer, the baselines), the
 * in-process consumer (consumer.c) and the report (client_report.c).
 */
#ifndef SHMETRICS_BENCH_CLIENT_H
#define SHMETRICS_BENCH_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>

#include <shmetrics.h>

#include "bench.h"
#include "daemon.h"
#include "shm.h"

#define MAX_THREADS 2
#define BENCH_SLOTS 8
#define LAT_BATCHES_MAX 50000u /* per thread per run, bounds memory */
#define WARMUP_SAMPLES 100000u

/* What a throughput job measures; one figure per kind and producer count
 * (1 or 2 threads), FIG(kind, threads). */
enum fig_kind {
    FK_INC,            /* shmet_inc, paced: the ring never fills */
    FK_ADD,            /* shmet_add, paced */
    FK_OBSERVE,        /* shmet_observe, paced */
    FK_INC_SAT,        /* shmet_inc, saturated: drops when the ring is full */
    FK_OBSERVE_SAT,    /* shmet_observe, saturated */
    FK_ATOMIC,         /* (a) fetch_add on one shared counter */
    FK_HIST,           /* (a) atomic shared histogram */
    FK_LOCK_INC,       /* (b) locked table, counter */
    FK_LOCK_OBSERVE,   /* (b) locked table, histogram */
    FK_STATSD_INC,     /* (c) StatsD "name:1|c" */
    FK_STATSD_OBSERVE, /* (c) StatsD "name:V|ms" */
    FK_COUNT,
};
#define FIG(kind, threads) ((kind)*MAX_THREADS + (threads)-1)
#define NFIG (FK_COUNT * MAX_THREADS)

/* Jobs: the figure kinds above, then these. */
enum job {
    JOB_LAT_INC = FK_COUNT, /* batches of BENCH_BATCH calls, each timed */
    JOB_LAT_OBSERVE,
    JOB_LAT_EMPTY, /* the timer alone */
    JOB_WARMUP,
    JOB_EXIT,
};

enum lat_kind { LK_INC, LK_OBSERVE, LK_COUNT };
#define LAT(kind, threads) ((kind)*MAX_THREADS + (threads)-1)
#define NLAT (LK_COUNT * MAX_THREADS)

struct worker {
    pthread_t th;
    unsigned id;
    struct bench *b;
    double ns_per_op;            /* result of the last throughput job */
    uint64_t sent;               /* StatsD: datagrams the last job sent */
    int err;                     /* a baseline's error in the last job, or 0 */
    int statsd_fd;               /* this thread's StatsD socket */
    double *lat;                 /* result of the last latency job: ns per call */
    struct shmet_abi_slot *slot; /* this thread's slot, for pacing */
};

/* The in-process consumer (consumer.c): drains the rings in batches, as
 * the aggregator does, without applying the records. */
struct consumer {
    pthread_t th;
    struct shmet__seg *seg;
    _Atomic int stop;
    uint64_t drained; /* records consumed; read after consumer_stop() */
};

/* Figures of all runs. */
struct results {
    double *fig[NFIG]; /* [run] ns per call */
    double *lat[NLAT]; /* ns per call per batch, pooled over runs */
    size_t nlat[NLAT];
    double *lat_empty;
    size_t nlat_empty;
    uint64_t dropped[FK_OBSERVE_SAT + 1]; /* ring-full drops per shmetrics kind */
    uint64_t dropped_lat;
    uint64_t dropped_warmup;
    uint64_t attempted;   /* shmetrics calls made, warm-up included */
    uint64_t statsd_sent; /* datagrams handed to the kernel */
    uint64_t statsd_received;
    int err; /* the first baseline error */
};

struct bench {
    const struct bench_opts *o;
    pthread_barrier_t start, done;
    enum job job;          /* set by the main thread before start */
    unsigned participants; /* workers [0, participants) run the job */
    size_t nbatches;       /* latency batches per thread per run */
    uint64_t chunk;        /* calls between pacing points */
    struct shmet_client *cl;
    struct shmet_series inc, obs;
    struct shmet__seg seg; /* our own view of the segment: slots, drops */
    struct bench_daemon daemon;
    struct bench_daemon_totals totals; /* read at the end (daemon mode) */
    struct consumer cons;              /* in-process mode */
    bool cons_running;                 /* cons was started and not yet stopped */
    bool threads_started;              /* the workers run */
    struct baseline *atomic;
    struct lock_table *lock;
    struct statsd *statsd;
    struct worker w[MAX_THREADS];
    struct results r;
    char ns[64];
};

/* client_setup.c */
struct bench *bench_new(const struct bench_opts *o);
/* --pin: the CPU of producer thread i, of the consumer side (shmetricsd
 * or the in-process consumer); -1 when not pinning. */
int bench_cpu_producer(const struct bench *b, unsigned i);
int bench_cpu_consumer(const struct bench *b);
int bench_pin(pthread_t th, int cpu); /* 0 or a negative errno; cpu -1: no-op */
int bench_finish(struct bench *b);    /* stop the consumer side, read totals */
void bench_free(struct bench *b);

/* client.c: worker threads */
int bench_threads_start(struct bench *b);
void bench_threads_stop(struct bench *b);

/* consumer.c */
int consumer_start(struct consumer *c, struct shmet__seg *seg);
void consumer_stop(struct consumer *c);

/* client_report.c */
void report_header(const struct bench *b);
void report_run(const struct bench *b, unsigned run);
int64_t report_unaccounted(const struct bench *b);
void report_all(struct bench *b, int64_t unaccounted);

#endif /* SHMETRICS_BENCH_CLIENT_H */
