/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/client.c - `shmetrics-bench client`: the cost of shmet_inc
 * and shmet_observe while a consumer thread drains the rings concurrently,
 * against shared-memory atomics (baseline.c) measured in the same run.
 *
 * Persistent worker threads run one job at a time between two barriers,
 * so that every run reuses the same slots (a new thread would claim a new
 * slot, and this lean consumer frees none). A run is: the throughput loops
 * (one clock read before and after `samples` calls), then the latency
 * passes (batches of BENCH_BATCH calls, each batch timed, divided by the
 * batch size: one call of a few nanoseconds is below the clock's own
 * cost). Figures are medians over runs; ratios are taken within a run.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <shmetrics.h>

#include "bench.h"
#include "shm.h"

#define MAX_THREADS 2
#define BENCH_SLOTS 8
#define LAT_BATCHES_MAX 200000u /* per thread per run, bounds memory */
#define WARMUP_SAMPLES 100000u

enum job {
    JOB_WARMUP,
    JOB_INC, /* paced: the ring never fills */
    JOB_OBSERVE,
    JOB_INC_SAT, /* saturated: as fast as possible, drops when full */
    JOB_OBSERVE_SAT,
    JOB_ATOMIC,
    JOB_HIST,
    JOB_LAT_INC,
    JOB_LAT_OBSERVE,
    JOB_LAT_EMPTY,
    JOB_EXIT,
};

struct worker {
    pthread_t th;
    unsigned id;
    struct bench *b;
    double ns_per_op;            /* result of the last throughput job */
    double *lat;                 /* result of the last latency job: ns per call */
    struct shmet_abi_slot *slot; /* this thread's slot, for pacing */
};

struct consumer {
    pthread_t th;
    struct shmet__seg seg; /* its own mapping, as an aggregator has */
    _Atomic int stop;
    uint64_t drained; /* records consumed; read after join */
};

/* Figures of all runs. */
struct results {
    double *inc, *observe, *inc_sat, *observe_sat, *atomic1, *atomic2, *hist2;
    double *lat_inc, *lat_observe, *lat_empty; /* pooled over runs */
    size_t nlat_inc, nlat_observe, nlat_empty;
    uint64_t dropped_inc, dropped_observe, dropped_sat, dropped_lat;
    uint64_t attempted; /* client calls made, warm-up included */
};

struct bench {
    const struct bench_opts *o;
    pthread_barrier_t start, done;
    enum job job;          /* set by the main thread before start */
    unsigned participants; /* workers [0, participants) run the job */
    size_t nbatches;       /* latency batches per thread per run */
    uint64_t chunk;        /* calls between pacing points: half a ring */
    struct shmet_client *cl;
    struct shmet_series inc, obs;
    struct baseline *base;
    struct worker w[MAX_THREADS];
    struct consumer cons;
    struct results r;
    char ns[64];
};

/* ---- the consumer --------------------------------------------------- */

struct drain_state {
    struct shmet__ring_consumer rc[BENCH_SLOTS];
    uint32_t gen[BENCH_SLOTS];
    struct shmet_abi_record buf[1024];
};

static uint64_t drain_slot(struct consumer *c, struct drain_state *d, uint32_t i)
{
    struct shmet_abi_slot *sl = shmet__slot(&c->seg, i);
    /* ACQUIRE: pairs with the RELEASE store of ACTIVE in slot claim, so
     * the reset ring indices are seen before we start at them. */
    uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
    uint64_t got = 0;
    int n;

    if (st != SHMET_SLOT_ACTIVE && st != SHMET_SLOT_DEAD)
        return 0;
    /* RELAXED: ordered by the state load above. */
    uint32_t g = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    if (g != d->gen[i]) {
        shmet__ring_consumer_init(&d->rc[i], &c->seg, i);
        d->gen[i] = g;
    }
    while ((n = shmet__ring_consume(&d->rc[i], d->buf, 1024)) > 0)
        got += (uint64_t)n;
    return got;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct drain_state *d = calloc(1, sizeof(*d));
    uint32_t slots = c->seg.slots < BENCH_SLOTS ? c->seg.slots : BENCH_SLOTS;

    if (d == NULL)
        return NULL;
    /* ACQUIRE: pairs with the RELEASE store of stop in consumer_stop(). */
    while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
        uint64_t got = 0;
        for (uint32_t i = 0; i < slots; i++)
            got += drain_slot(c, d, i);
        c->drained += got;
        /* Drain like the aggregator does, in batches, not by spinning on
         * the producers' head lines: a pass that found less than a
         * sixteenth of a ring rests 50 us, so the line each producer
         * writes per record is not pulled away after every store. */
        if (got < c->seg.ring_records / 16) {
            struct timespec rest = {0, 50000};
            nanosleep(&rest, NULL);
        }
    }
    for (uint32_t i = 0; i < slots; i++)
        c->drained += drain_slot(c, d, i);
    free(d);
    return NULL;
}

/* ---- the workers ---------------------------------------------------- */

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

static void loop_observe(struct shmet_series s, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++)
        shmet_observe(s, bench_value(i));
}

/* The calling thread's slot, found by its tid after its first record. */
static struct shmet_abi_slot *own_slot(struct bench *b)
{
    int32_t tid = shmet__gettid();

    for (uint32_t i = 0; i < b->cons.seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->cons.seg, i);
        if (atomic_load_explicit(&sl->state, memory_order_acquire) == SHMET_SLOT_ACTIVE &&
            atomic_load_explicit(&sl->tid, memory_order_relaxed) == tid)
            return sl;
    }
    return NULL;
}

/* Pacing (not timed): wait until the ring has room for a whole chunk, so
 * that the timed calls never find it full. RELAXED: only a hint; the ring
 * protocol itself orders the records. */
static void wait_room(struct bench *b, struct shmet_abi_slot *sl)
{
    uint64_t limit = b->o->ring_records - b->chunk;

    while (sl != NULL && atomic_load_explicit(&sl->head, memory_order_relaxed) -
                                 atomic_load_explicit(&sl->tail, memory_order_relaxed) >
                             limit)
        sched_yield();
}

/* Throughput: samples calls, one clock read before and after each chunk;
 * paced jobs wait for room between chunks, saturated ones never do. */
static double run_client(struct bench *b, struct worker *w, enum job j)
{
    bool paced = j == JOB_INC || j == JOB_OBSERVE;
    uint64_t n = b->o->samples, chunk = paced ? b->chunk : n, ns = 0;

    for (uint64_t done = 0; done < n; done += chunk) {
        uint64_t k = n - done < chunk ? n - done : chunk, t0;
        if (paced)
            wait_room(b, w->slot);
        t0 = bench_now_ns();
        if (j == JOB_INC || j == JOB_INC_SAT)
            loop_inc(b->inc, k);
        else
            loop_observe(b->obs, done, k);
        ns += bench_now_ns() - t0;
    }
    return (double)ns / (double)n;
}

static double run_baseline(struct bench *b, enum job j)
{
    uint64_t n = b->o->samples, t0 = bench_now_ns();

    if (j == JOB_ATOMIC)
        baseline_atomic_loop(b->base, n);
    else
        baseline_hist_loop(b->base, n);
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
    switch (j) {
    case JOB_WARMUP:
        loop_inc(b->inc, WARMUP_SAMPLES);
        loop_observe(b->obs, 0, WARMUP_SAMPLES);
        w->slot = own_slot(b);
        break;
    case JOB_INC:
    case JOB_OBSERVE:
    case JOB_INC_SAT:
    case JOB_OBSERVE_SAT:
        w->ns_per_op = run_client(b, w, j);
        break;
    case JOB_ATOMIC:
    case JOB_HIST:
        w->ns_per_op = run_baseline(b, j);
        break;
    default:
        run_latency(b, w, j);
        break;
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

/* ---- the main thread ------------------------------------------------ */

static uint64_t dropped_sum(struct bench *b)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < b->cons.seg.slots; i++)
        /* RELAXED: a statistic; read between jobs. */
        n += atomic_load_explicit(&shmet__slot(&b->cons.seg, i)->dropped, memory_order_relaxed);
    return n;
}

/* Start each client job with empty rings, so every run starts alike. */
static void wait_rings_empty(struct bench *b)
{
    for (uint32_t i = 0; i < b->cons.seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->cons.seg, i);
        /* RELAXED: only waiting for the consumer to catch up. */
        while (atomic_load_explicit(&sl->head, memory_order_relaxed) !=
               atomic_load_explicit(&sl->tail, memory_order_relaxed))
            sched_yield();
    }
}

/* Run job j on n workers; returns the mean ns per call of those workers
 * and adds the samples the rings dropped meanwhile to *dropped. */
static double run_job(struct bench *b, enum job j, unsigned n, uint64_t *dropped)
{
    uint64_t d0;
    double sum = 0;

    wait_rings_empty(b);
    d0 = dropped_sum(b);
    b->job = j;
    b->participants = n;
    pthread_barrier_wait(&b->start);
    pthread_barrier_wait(&b->done);
    if (dropped != NULL)
        *dropped += dropped_sum(b) - d0;
    for (unsigned i = 0; i < n; i++)
        sum += b->w[i].ns_per_op;
    return sum / n;
}

static void pool_latency(struct bench *b, unsigned n, double *pool, size_t *npool)
{
    for (unsigned i = 0; i < n; i++) {
        memcpy(pool + *npool, b->w[i].lat, b->nbatches * sizeof(double));
        *npool += b->nbatches;
    }
}

static void one_run(struct bench *b, unsigned r)
{
    struct results *res = &b->r;
    unsigned t = b->o->threads;

    res->inc[r] = run_job(b, JOB_INC, t, &res->dropped_inc);
    res->observe[r] = run_job(b, JOB_OBSERVE, t, &res->dropped_observe);
    res->inc_sat[r] = run_job(b, JOB_INC_SAT, t, &res->dropped_sat);
    res->observe_sat[r] = run_job(b, JOB_OBSERVE_SAT, t, &res->dropped_sat);
    res->atomic1[r] = run_job(b, JOB_ATOMIC, 1, NULL);
    res->atomic2[r] = run_job(b, JOB_ATOMIC, 2, NULL);
    res->hist2[r] = run_job(b, JOB_HIST, 2, NULL);
    res->attempted += 4 * b->o->samples * t;

    run_job(b, JOB_LAT_INC, t, &res->dropped_lat);
    pool_latency(b, t, res->lat_inc, &res->nlat_inc);
    run_job(b, JOB_LAT_OBSERVE, t, &res->dropped_lat);
    pool_latency(b, t, res->lat_observe, &res->nlat_observe);
    run_job(b, JOB_LAT_EMPTY, 1, NULL);
    pool_latency(b, 1, res->lat_empty, &res->nlat_empty);
    res->attempted += 2 * (uint64_t)b->nbatches * BENCH_BATCH * t;
}

/* ---- setup and teardown --------------------------------------------- */

static int results_alloc(struct results *r, unsigned runs, size_t lat_per_run)
{
    double **runs_v[] = {&r->inc,     &r->observe, &r->inc_sat, &r->observe_sat,
                         &r->atomic1, &r->atomic2, &r->hist2};
    double **lat_v[] = {&r->lat_inc, &r->lat_observe, &r->lat_empty};

    for (size_t i = 0; i < sizeof(runs_v) / sizeof(runs_v[0]); i++)
        if ((*runs_v[i] = calloc(runs, sizeof(double))) == NULL)
            return -ENOMEM;
    for (size_t i = 0; i < sizeof(lat_v) / sizeof(lat_v[0]); i++)
        if ((*lat_v[i] = calloc((size_t)runs * lat_per_run, sizeof(double))) == NULL)
            return -ENOMEM;
    return 0;
}

static void results_free(struct results *r)
{
    free(r->inc);
    free(r->observe);
    free(r->inc_sat);
    free(r->observe_sat);
    free(r->atomic1);
    free(r->atomic2);
    free(r->hist2);
    free(r->lat_inc);
    free(r->lat_observe);
    free(r->lat_empty);
}

/* The segment, one counter and one histogram series, the consumer's own
 * mapping and the baseline. */
static int setup_metrics(struct bench *b)
{
    struct shmet_options opt = {
        .ns = b->ns, .slots = BENCH_SLOTS, .ring_records = b->o->ring_records};
    struct shmet_family *fc, *fh;
    int rc;

    snprintf(b->ns, sizeof(b->ns), "bench_%d", (int)getpid());
    (void)shmet__seg_unlink(b->ns); /* a leftover of a dead namesake */
    if ((rc = shmet_open(&opt, &b->cl)) < 0)
        return rc;
    if ((rc = shmet_counter(b->cl, "bench_requests_total", "", NULL, &fc)) < 0 ||
        (rc = shmet_histogram(b->cl, "bench_latency_seconds", "", NULL, NULL, 0, &fh)) < 0 ||
        (rc = shmet_series_get(fc, NULL, &b->inc)) < 0 ||
        (rc = shmet_series_get(fh, NULL, &b->obs)) < 0)
        return rc;
    if ((rc = shmet__seg_open(b->ns, NULL, 0, 0, &b->cons.seg)) < 0)
        return rc;
    b->base = baseline_new();
    return b->base == NULL ? -ENOMEM : 0;
}

static int start_threads(struct bench *b)
{
    atomic_init(&b->cons.stop, 0);
    if (pthread_create(&b->cons.th, NULL, consumer_main, &b->cons) != 0)
        return -EAGAIN;
    pthread_barrier_init(&b->start, NULL, MAX_THREADS + 1);
    pthread_barrier_init(&b->done, NULL, MAX_THREADS + 1);
    for (unsigned i = 0; i < MAX_THREADS; i++) {
        b->w[i].id = i;
        b->w[i].b = b;
        b->w[i].lat = calloc(b->nbatches, sizeof(double));
        if (b->w[i].lat == NULL || pthread_create(&b->w[i].th, NULL, worker_main, &b->w[i]) != 0)
            abort(); /* the barriers would wait for it forever */
    }
    return 0;
}

static void stop_threads(struct bench *b)
{
    b->job = JOB_EXIT;
    pthread_barrier_wait(&b->start);
    for (unsigned i = 0; i < MAX_THREADS; i++) {
        pthread_join(b->w[i].th, NULL);
        free(b->w[i].lat);
    }
    /* RELEASE: pairs with the ACQUIRE load in consumer_main(); the
     * workers' last records are drained by its final pass. */
    atomic_store_explicit(&b->cons.stop, 1, memory_order_release);
    pthread_join(b->cons.th, NULL);
    pthread_barrier_destroy(&b->start);
    pthread_barrier_destroy(&b->done);
}

static void teardown(struct bench *b)
{
    shmet_close(b->cl);
    shmet__seg_close(&b->cons.seg);
    (void)shmet__seg_unlink(b->ns);
    baseline_free(b->base);
    results_free(&b->r);
}

/* ---- report --------------------------------------------------------- */

/* Every call either reached the consumer or was counted as dropped. */
static int64_t unaccounted(struct bench *b)
{
    uint64_t defines = 0, dropped = 0;

    for (uint32_t i = 0; i < b->cons.seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->cons.seg, i);
        defines += atomic_load_explicit(&sl->defines, memory_order_relaxed);
        dropped += atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    }
    return (int64_t)(b->r.attempted + defines) - (int64_t)(b->cons.drained + dropped);
}

static double ratio_median(const double *num, const double *den, unsigned n)
{
    double *q = calloc(n, sizeof(double));
    struct series_stats s;

    for (unsigned i = 0; q != NULL && i < n; i++)
        q[i] = num[i] / den[i];
    s = stats_of(q, q != NULL ? n : 0);
    free(q);
    return s.median;
}

static void row(const char *label, const double *v, unsigned n)
{
    struct series_stats s = stats_of(v, n);

    printf("%-34s %9.2f %9.2f %9.2f\n", label, s.median, s.min, s.max);
}

static void print_table(struct bench *b)
{
    const struct results *r = &b->r;
    unsigned n = b->o->runs;

    printf("\n%-34s %9s %9s %9s   (ns per call, over %u runs)\n", "figure", "median", "min", "max",
           n);
    row("shmet_inc", r->inc, n);
    row("shmet_observe", r->observe, n);
    row("shmet_inc, saturated", r->inc_sat, n);
    row("shmet_observe, saturated", r->observe_sat, n);
    row("atomic fetch_add, 1 thread", r->atomic1, n);
    row("atomic fetch_add, 2 threads", r->atomic2, n);
    row("atomic histogram, 2 threads", r->hist2, n);
}

static void emit_latency(const char *name, double *v, size_t n)
{
    char buf[96];

    stats_sort(v, n);
    snprintf(buf, sizeof(buf), "%s_p50_ns", name);
    bench_emit(buf, stats_percentile(v, n, 0.50), "ns");
    snprintf(buf, sizeof(buf), "%s_p99_ns", name);
    bench_emit(buf, stats_percentile(v, n, 0.99), "ns");
    snprintf(buf, sizeof(buf), "%s_p999_ns", name);
    bench_emit(buf, stats_percentile(v, n, 0.999), "ns");
}

static void print_bench_lines(struct bench *b, int64_t lost)
{
    struct results *r = &b->r;
    unsigned n = b->o->runs;

    bench_emit_stats("client_inc_ns", stats_of(r->inc, n), "ns");
    bench_emit_stats("client_observe_ns", stats_of(r->observe, n), "ns");
    bench_emit_stats("client_inc_saturated_ns", stats_of(r->inc_sat, n), "ns");
    bench_emit_stats("client_observe_saturated_ns", stats_of(r->observe_sat, n), "ns");
    bench_emit_stats("baseline_atomic_1p_ns", stats_of(r->atomic1, n), "ns");
    bench_emit_stats("baseline_atomic_2p_ns", stats_of(r->atomic2, n), "ns");
    bench_emit_stats("baseline_hist_2p_ns", stats_of(r->hist2, n), "ns");
    bench_emit("ratio_atomic_1p_over_inc", ratio_median(r->atomic1, r->inc, n), "x");
    bench_emit("ratio_atomic_2p_over_inc", ratio_median(r->atomic2, r->inc, n), "x");
    bench_emit("ratio_hist_2p_over_observe", ratio_median(r->hist2, r->observe, n), "x");
    emit_latency("client_inc", r->lat_inc, r->nlat_inc);
    emit_latency("client_observe", r->lat_observe, r->nlat_observe);
    bench_emit("timer_overhead_per_call_ns", stats_of(r->lat_empty, r->nlat_empty).median, "ns");
    bench_emit("client_inc_dropped", (double)r->dropped_inc, "samples");
    bench_emit("client_observe_dropped", (double)r->dropped_observe, "samples");
    bench_emit("client_latency_dropped", (double)r->dropped_lat, "samples");
    bench_emit("client_saturated_dropped", (double)r->dropped_sat, "samples");
    bench_emit("client_drained", (double)b->cons.drained, "records");
    bench_emit("client_unaccounted", (double)lost, "samples");
}

static void print_run(struct bench *b, unsigned r)
{
    const struct results *x = &b->r;

    printf("# run %2u: inc %.2f observe %.2f inc_sat %.2f observe_sat %.2f atomic_1p %.2f "
           "atomic_2p %.2f hist_2p %.2f ns\n",
           r, x->inc[r], x->observe[r], x->inc_sat[r], x->observe_sat[r], x->atomic1[r],
           x->atomic2[r], x->hist2[r]);
    fflush(stdout);
}

static void print_header(const struct bench_opts *o, size_t nbatches, uint64_t chunk)
{
    printf("# shmetrics-bench client: runs=%u samples=%llu threads=%u ring_records=%u cpus=%ld\n",
           o->runs, (unsigned long long)o->samples, o->threads, o->ring_records,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("# throughput: each producer thread makes `samples` calls in tight loops timed\n"
           "#   with clock_gettime(CLOCK_MONOTONIC); ns per call; a consumer thread drains\n"
           "#   the rings all along. Paced (shmet_inc, shmet_observe): chunks of %llu\n"
           "#   calls, each started only when the ring has room for it (the wait is not\n"
           "#   timed), so no call finds the ring full. Saturated: one timed loop; when\n"
           "#   the consumer falls behind, calls find the ring full and drop.\n",
           (unsigned long long)chunk);
    printf("# baselines: relaxed atomics on one copy in a MAP_SHARED mapping (histogram:\n"
           "#   bucket and count fetch_add, CAS loop on the double sum), 1 and 2 threads;\n"
           "#   ratios are baseline / paced shmetrics within each run, then the median.\n");
    printf("# latency: %zu batches of %d calls per thread per run, each batch timed with\n"
           "#   clock_gettime and divided by %d, paced like above; percentiles over all\n"
           "#   batches of all runs; the timer's own cost is included\n"
           "#   (timer_overhead_per_call_ns).\n",
           nbatches, BENCH_BATCH, BENCH_BATCH);
}

static struct bench *bench_new(const struct bench_opts *o)
{
    struct bench *b = calloc(1, sizeof(*b));
    int rc;

    if (b == NULL)
        return NULL;
    b->o = o;
    b->chunk = o->ring_records / 2;
    b->nbatches = o->samples / BENCH_BATCH;
    if (b->nbatches > LAT_BATCHES_MAX)
        b->nbatches = LAT_BATCHES_MAX;
    if (b->nbatches == 0)
        b->nbatches = 1;
    rc = results_alloc(&b->r, o->runs, b->nbatches * MAX_THREADS);
    if (rc == 0)
        rc = setup_metrics(b);
    if (rc == 0)
        rc = start_threads(b);
    if (rc < 0) {
        fprintf(stderr, "shmetrics-bench: setup failed: %s\n", shmet_strerror(rc));
        teardown(b);
        free(b);
        return NULL;
    }
    return b;
}

int bench_client(const struct bench_opts *o)
{
    struct bench *b = bench_new(o);
    int64_t lost;

    if (b == NULL)
        return -EINVAL;
    print_header(o, b->nbatches, b->chunk);
    fflush(stdout);
    run_job(b, JOB_WARMUP, o->threads, NULL);
    b->r.attempted += 2 * (uint64_t)WARMUP_SAMPLES * o->threads;
    for (unsigned r = 0; r < o->runs; r++) {
        one_run(b, r);
        print_run(b, r);
    }
    stop_threads(b);
    lost = unaccounted(b);
    print_table(b);
    printf("\n");
    print_bench_lines(b, lost);
    if (lost != 0)
        fprintf(stderr, "shmetrics-bench: %lld samples neither drained nor counted as dropped\n",
                (long long)lost);
    if (baseline_count(b->base) != (uint64_t)o->runs * o->samples * 5) {
        fprintf(stderr, "shmetrics-bench: the baseline lost updates\n");
        lost = 1;
    }
    teardown(b);
    free(b);
    return lost == 0 ? 0 : -EPROTO;
}
