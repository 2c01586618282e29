/* SPDX-License-Identifier: MIT */
/*
 * bench/client.c - `shmetrics-bench client`: the cost of shmet_inc,
 * shmet_add and shmet_observe while a live shmetricsd drains the rings,
 * against the other ways to aggregate across processes (baseline.h),
 * measured in the same runs with 1 and 2 producer threads.
 *
 * Persistent worker threads run one job at a time between two barriers,
 * so that every run reuses the same slots (a new thread would claim a new
 * slot). A throughput job times its calls with one clock read before and
 * after each chunk; a latency job times batches of BENCH_BATCH calls (one
 * call of a few nanoseconds is below the clock's own cost). Figures are
 * medians over runs; ratios are taken within a run (client_report.c).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "client.h"

/* ---- the recording loops -------------------------------------------- */

/* Kept out of line so that `objdump -d` shows one shmet_inc alone. */
__attribute__((noinline, used)) static void bench_inc_once(struct shmet_series s)
{
    shmet_inc(s);
}

static void loop_inc(struct shmet_series s, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        shmet_inc(s);
}

static void loop_add(struct shmet_series s, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++)
        shmet_add(s, bench_value(i));
}

static void loop_observe(struct shmet_series s, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++)
        shmet_observe(s, bench_value(i));
}

static void loop_client(struct bench *b, enum fig_kind k, uint64_t from, uint64_t n)
{
    if (k == FK_INC || k == FK_INC_SAT)
        loop_inc(b->inc, n);
    else if (k == FK_ADD)
        loop_add(b->inc, from, n);
    else
        loop_observe(b->obs, from, n);
}

/* ---- pacing ----------------------------------------------------------- */

/* The calling thread's slot, found by its tid after its first record. */
static struct shmet_abi_slot *own_slot(struct bench *b)
{
    int32_t tid = shmet__gettid();

    for (uint32_t i = 0; i < b->seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->seg, i);
        /* ACQUIRE/RELAXED: as in a drain; the slot was claimed by this
         * very thread, so it is only a lookup. */
        if (atomic_load_explicit(&sl->state, memory_order_acquire) == SHMET_SLOT_ACTIVE &&
            atomic_load_explicit(&sl->tid, memory_order_relaxed) == tid)
            return sl;
    }
    return NULL;
}

/* Not timed: wait until the ring has room for a whole chunk, so that the
 * timed calls never find it full. RELAXED: only a hint; the ring protocol
 * itself orders the records. */
static void wait_room(struct bench *b, struct shmet_abi_slot *sl)
{
    uint64_t limit = b->seg.ring_records - b->chunk;

    while (sl != NULL && atomic_load_explicit(&sl->head, memory_order_relaxed) -
                                 atomic_load_explicit(&sl->tail, memory_order_relaxed) >
                             limit)
        sched_yield();
}

/* ---- the jobs ----------------------------------------------------------- */

/* Throughput: n calls; paced kinds wait for room between chunks,
 * saturated ones run one loop and drop what finds the ring full. */
static double run_client(struct bench *b, struct worker *w, enum fig_kind k, uint64_t n)
{
    bool paced = k == FK_INC || k == FK_ADD || k == FK_OBSERVE;
    uint64_t chunk = paced ? b->chunk : n, ns = 0;

    for (uint64_t done = 0; done < n; done += chunk) {
        uint64_t c = n - done < chunk ? n - done : chunk, t0;
        if (paced)
            wait_room(b, w->slot);
        t0 = bench_now_ns();
        loop_client(b, k, done, c);
        ns += bench_now_ns() - t0;
    }
    return (double)ns / (double)n;
}

static double run_baseline(struct bench *b, struct worker *w, enum fig_kind k)
{
    const struct bench_opts *o = b->o;
    uint64_t n = k == FK_LOCK_INC || k == FK_LOCK_OBSERVE       ? o->lock_samples
                 : k == FK_STATSD_INC || k == FK_STATSD_OBSERVE ? o->statsd_samples
                                                                : o->samples;
    uint64_t t0 = bench_now_ns();

    w->err = 0;
    if (k == FK_ATOMIC)
        baseline_atomic_loop(b->atomic, n);
    else if (k == FK_HIST)
        baseline_hist_loop(b->atomic, n);
    else if (k == FK_LOCK_INC)
        w->err = lock_loop_inc(b->lock, n);
    else if (k == FK_LOCK_OBSERVE)
        w->err = lock_loop_observe(b->lock, w->id * n, n);
    else if (k == FK_STATSD_INC)
        w->sent = statsd_loop_inc(b->statsd, w->statsd_fd, n);
    else
        w->sent = statsd_loop_observe(b->statsd, w->statsd_fd, w->id * n, n);
    return (double)(bench_now_ns() - t0) / (double)n;
}

/* Latency: batches of BENCH_BATCH calls, each timed; paced like the
 * throughput jobs, between batches. */
static void run_latency(struct bench *b, struct worker *w, enum job j)
{
    uint64_t per_chunk = b->chunk / BENCH_BATCH;

    for (size_t k = 0; k < b->nbatches; k++) {
        if (j != JOB_LAT_EMPTY && k % per_chunk == 0)
            wait_room(b, w->slot);
        uint64_t t0 = bench_now_ns();
        if (j == JOB_LAT_INC)
            loop_inc(b->inc, BENCH_BATCH);
        else if (j == JOB_LAT_OBSERVE)
            loop_observe(b->obs, k * BENCH_BATCH, BENCH_BATCH);
        w->lat[k] = (double)(bench_now_ns() - t0) / BENCH_BATCH;
    }
}

static void run(struct bench *b, struct worker *w, enum job j)
{
    if (j == JOB_WARMUP) {
        /* The first records claim the slot and define the series. */
        loop_inc(b->inc, 1);
        loop_observe(b->obs, 0, 1);
        w->slot = own_slot(b);
        (void)run_client(b, w, FK_INC, WARMUP_SAMPLES);
        (void)run_client(b, w, FK_OBSERVE, WARMUP_SAMPLES);
    } else if (j == JOB_LAT_INC || j == JOB_LAT_OBSERVE || j == JOB_LAT_EMPTY) {
        run_latency(b, w, j);
    } else if (j <= (enum job)FK_OBSERVE_SAT) {
        w->ns_per_op = run_client(b, w, (enum fig_kind)j, b->o->samples);
    } else {
        w->ns_per_op = run_baseline(b, w, (enum fig_kind)j);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct bench *b = w->b;

    for (;;) {
        pthread_barrier_wait(&b->start);
        enum job j = b->job; /* ordered by the barrier */
        if (j == JOB_EXIT)
            return NULL; /* the thread's exit retires its slot */
        if (w->id < b->participants)
            run(b, w, j);
        pthread_barrier_wait(&b->done);
    }
}

int bench_threads_start(struct bench *b)
{
    pthread_barrier_init(&b->start, NULL, MAX_THREADS + 1);
    pthread_barrier_init(&b->done, NULL, MAX_THREADS + 1);
    for (unsigned i = 0; i < MAX_THREADS; i++) {
        struct worker *w = &b->w[i];
        w->id = i;
        w->b = b;
        w->statsd_fd = statsd_sender_open();
        w->lat = calloc(b->nbatches, sizeof(double));
        if (w->statsd_fd < 0 || w->lat == NULL || pthread_create(&w->th, NULL, worker_main, w) != 0)
            abort(); /* the barriers would wait for it forever */
        if (bench_pin(w->th, bench_cpu_producer(b, i)) < 0)
            fprintf(stderr, "shmetrics-bench: cannot pin producer %u\n", i);
    }
    return 0;
}

void bench_threads_stop(struct bench *b)
{
    b->job = JOB_EXIT;
    pthread_barrier_wait(&b->start);
    for (unsigned i = 0; i < MAX_THREADS; i++) {
        pthread_join(b->w[i].th, NULL);
        close(b->w[i].statsd_fd);
        free(b->w[i].lat);
    }
    pthread_barrier_destroy(&b->start);
    pthread_barrier_destroy(&b->done);
}

/* ---- the main thread ---------------------------------------------------- */

static uint64_t dropped_sum(struct bench *b)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < b->seg.slots; i++)
        /* RELAXED: a statistic; read between jobs. */
        n += atomic_load_explicit(&shmet__slot(&b->seg, i)->dropped, memory_order_relaxed);
    return n;
}

/* Start each shmetrics job with empty rings, so every run starts alike. */
static void wait_rings_empty(struct bench *b)
{
    for (uint32_t i = 0; i < b->seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->seg, i);
        /* RELAXED: only waiting for the consumer to catch up. */
        while (atomic_load_explicit(&sl->head, memory_order_relaxed) !=
               atomic_load_explicit(&sl->tail, memory_order_relaxed))
            sched_yield();
    }
}

/* Account what job j on n workers did besides its timing. */
static void account(struct bench *b, enum job j, unsigned n, uint64_t dropped)
{
    struct results *r = &b->r;

    if (j <= (enum job)FK_OBSERVE_SAT)
        r->dropped[j] += dropped;
    else if (j == JOB_WARMUP)
        r->dropped_warmup += dropped;
    else if (j == JOB_LAT_INC || j == JOB_LAT_OBSERVE)
        r->dropped_lat += dropped;
    for (unsigned i = 0; i < n; i++)
        if (r->err == 0)
            r->err = b->w[i].err;
    if (j == (enum job)FK_STATSD_INC || j == (enum job)FK_STATSD_OBSERVE) {
        for (unsigned i = 0; i < n; i++)
            r->statsd_sent += b->w[i].sent;
        r->statsd_received = statsd_settle(b->statsd);
    }
}

/* Run job j on n workers; returns the mean ns per call of those workers. */
static double run_job(struct bench *b, enum job j, unsigned n)
{
    uint64_t d0;
    double sum = 0;

    wait_rings_empty(b);
    d0 = dropped_sum(b);
    b->job = j;
    b->participants = n;
    pthread_barrier_wait(&b->start);
    pthread_barrier_wait(&b->done);
    account(b, j, n, dropped_sum(b) - d0);
    for (unsigned i = 0; i < n; i++)
        sum += b->w[i].ns_per_op;
    return sum / n;
}

static void run_latency_job(struct bench *b, enum job j, unsigned n, size_t pool)
{
    struct results *r = &b->r;
    double *dst = pool == SIZE_MAX ? r->lat_empty : r->lat[pool];
    size_t *len = pool == SIZE_MAX ? &r->nlat_empty : &r->nlat[pool];

    (void)run_job(b, j, n);
    for (unsigned i = 0; i < n; i++) {
        memcpy(dst + *len, b->w[i].lat, b->nbatches * sizeof(double));
        *len += b->nbatches;
    }
    if (j != JOB_LAT_EMPTY)
        r->attempted += (uint64_t)b->nbatches * BENCH_BATCH * n;
}

/* Interleaved, so that a burst of noise from other jobs on the machine
 * hits a mix of figures rather than all runs of one. */
static const enum fig_kind run_order[] = {
    FK_INC,  FK_ATOMIC,       FK_LOCK_INC,       FK_STATSD_INC, FK_ADD,         FK_OBSERVE,
    FK_HIST, FK_LOCK_OBSERVE, FK_STATSD_OBSERVE, FK_INC_SAT,    FK_OBSERVE_SAT,
};

static void one_run(struct bench *b, unsigned r)
{
    for (unsigned t = 1; t <= b->o->threads; t++) {
        for (size_t i = 0; i < sizeof(run_order) / sizeof(run_order[0]); i++) {
            enum fig_kind k = run_order[i];
            b->r.fig[FIG(k, t)][r] = run_job(b, (enum job)k, t);
            if (k <= FK_OBSERVE_SAT)
                b->r.attempted += b->o->samples * t;
        }
        run_latency_job(b, JOB_LAT_INC, t, LAT(LK_INC, t));
        run_latency_job(b, JOB_LAT_OBSERVE, t, LAT(LK_OBSERVE, t));
    }
    run_latency_job(b, JOB_LAT_EMPTY, 1, SIZE_MAX);
}

/* The totals every baseline must reach, or the comparison is void. */
static int check_baselines(struct bench *b)
{
    const struct bench_opts *o = b->o;
    uint64_t producers = o->threads == 2 ? 3 : 1; /* 1 + 2 per kind per run */
    int bad = 0;

    if (baseline_count(b->atomic) != o->runs * o->samples * producers * 2) {
        fprintf(stderr, "shmetrics-bench: the atomic baseline lost updates\n");
        bad = 1;
    }
    if (b->r.err != 0 || lock_table_count(b->lock) != o->runs * o->lock_samples * producers * 2) {
        fprintf(stderr, "shmetrics-bench: the locked baseline failed: %s\n",
                b->r.err ? strerror(-b->r.err) : "lost updates");
        bad = 1;
    }
    if (statsd_bad_lines(b->statsd) != 0) {
        fprintf(stderr, "shmetrics-bench: the StatsD receiver could not parse some lines\n");
        bad = 1;
    }
    return bad ? -EPROTO : 0;
}

int bench_client(const struct bench_opts *o)
{
    struct bench *b = bench_new(o);
    int64_t lost;
    int rc;

    if (b == NULL)
        return -EINVAL;
    report_header(b);
    (void)run_job(b, JOB_WARMUP, o->threads);
    b->r.attempted += 2 * (1 + (uint64_t)WARMUP_SAMPLES) * o->threads;
    for (unsigned r = 0; r < o->runs; r++) {
        one_run(b, r);
        report_run(b, r);
    }
    rc = bench_finish(b);
    lost = report_unaccounted(b);
    report_all(b, lost);
    if (lost != 0)
        fprintf(stderr, "shmetrics-bench: %lld samples neither applied nor counted as dropped\n",
                (long long)lost);
    if (rc == 0)
        rc = check_baselines(b);
    bench_free(b);
    return rc == 0 && lost == 0 ? 0 : -EPROTO;
}
