/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_e2e.c - `shmetrics-bench e2e`: producer processes
 * recording flat out through a live shmetricsd.
 *
 *   throughput  N forked producers alternate shmet_inc and shmet_observe
 *               (8 counters, 8 histograms each) as fast as they can for
 *               --seconds; samples applied per second come from GET
 *               /debug samples_total before and after, drops from its
 *               dropped_total; every attempt is accounted for.
 *   latency     a probe process sets a LAST gauge to a sequence number;
 *               "drain" probes wait (polling the segment) until shmetricsd's
 *               timer drain has taken the record off the ring, "scrape"
 *               probes poll GET /metrics until the value shows. Measured
 *               under the load above and with no load (sparse probes).
 *   idle CPU    a fresh shmetricsd with no producers and no scrapes, then
 *               with idle producers attached: CPU time from /proc over
 *               --idle-seconds, as a percentage of one core, measured
 *               once it has settled into its longest drain interval
 *               (ten seconds without a record; in --smoke mode at once).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "agg.h"
#include "bench.h"

#define MAX_PRODUCERS 32
#define IDLE_PRODUCERS 4
#define PROBE_TIMEOUT_NS 2000000000ull
#define LAT_MAX 200000 /* probes kept per kind */
#define SETTLE_NS 1500000000ull
/* shmetricsd drains every 4 ms for ten seconds after its last record,
 * then every 32 ms (aggregator/daemon/loop.h): idle means after that. */
#define DEEP_IDLE_NS 11500000000ull

enum lat_kind { LAT_LOAD_DRAIN, LAT_LOAD_SCRAPE, LAT_IDLE_DRAIN, LAT_IDLE_SCRAPE, LAT_COUNT };

static const char *const lat_tag[LAT_COUNT] = {"load_drain", "load_scrape", "idle_drain",
                                              "idle_scrape"};

/* In a MAP_SHARED page: the producers' run control and counts. */
struct shared {
    _Atomic uint32_t ready; /* producers set up */
    _Atomic uint32_t go;    /* run r starts when go >= r */
    _Atomic uint32_t stop;  /* run r stops when stop >= r */
    _Atomic uint32_t quit;
    _Atomic uint32_t done[MAX_PRODUCERS];     /* last run finished */
    _Atomic uint64_t attempts[MAX_PRODUCERS]; /* calls made, all runs */
};

struct probe_ack {
    uint64_t t0;   /* CLOCK_MONOTONIC when the record was made */
    uint64_t head; /* the slot's head after it */
    uint32_t slot;
    int32_t err;
};

struct e2e_opts {
    uint64_t producers, seconds, runs, probes, idle_seconds;
    bool smoke;
};

struct e2e {
    struct e2e_opts o;
    struct live l; /* shmetricsd; no producer of its own */
    struct shared *sh;
    pid_t kids[MAX_PRODUCERS + 1];
    uint32_t nkids;
    pid_t probe;
    int probe_cmd, probe_ack;
    uint64_t probes_made;
    double *lat[LAT_COUNT]; /* ms */
    size_t nlat[LAT_COUNT];
    uint64_t timeouts[LAT_COUNT];
    double *applied, *attempted, *dropped, *cpu; /* per run */
    int64_t unaccounted;
};

static const char help[] =
    "usage: shmetrics-bench e2e [--producers N] [--seconds S] [--runs N] [--probes N]\n"
    "                           [--idle-seconds S] [--smoke]\n"
    "\n"
    "Producer processes recording flat out through a live shmetricsd (the one next\n"
    "to this program, default geometry):\n"
    "  - samples applied per second (GET /debug samples_total), drops, and\n"
    "    shmetricsd's CPU while loaded;\n"
    "  - sample-to-visible latency of a probe gauge: until shmetricsd's timer drain\n"
    "    took it off the ring (\"drain\"), and until GET /metrics shows it\n"
    "    (\"scrape\"), under the load and with no load; median and p99;\n"
    "  - idle CPU of a fresh shmetricsd, without and with idle producers.\n"
    "\n"
    "  --producers N     producer processes (default 2)\n"
    "  --seconds S       length of one loaded run (default 5)\n"
    "  --runs N          loaded runs; figures are medians (default 3)\n"
    "  --probes N        probes with no load (default 100)\n"
    "  --idle-seconds S  idle CPU measurement, each case (default 10), after\n"
    "                    11.5 s without a record (shmetricsd's idle back-off)\n"
    "  --smoke           tiny sizes: checks that it runs\n"
    "\n"
    "Output: tables, then BENCH <name> <value> <unit> lines.\n";

/* ---- producer processes ------------------------------------------------------ */

static int define_series(struct shmet_client *c, uint32_t who, struct shmet_series *cs,
                         struct shmet_series *hs)
{
    char bufs[MIX_LABELS][MIX_VALUE_MAX];
    const char *vals[MIX_LABELS];
    struct shmet_family *fc, *fh;
    int rc;

    if ((rc = shmet_counter(c, "e2e_requests_total", "Requests.", mix_labels, &fc)) < 0 ||
        (rc = shmet_histogram(c, "e2e_duration_seconds", "Latency.", mix_labels, mix_bounds,
                              MIX_BOUNDS, &fh)) < 0)
        return rc;
    for (uint32_t j = 0; j < 8; j++) {
        mix_values((uint64_t)who * 8 + j, bufs, vals);
        if ((rc = shmet_series_get(fc, vals, &cs[j])) < 0 ||
            (rc = shmet_series_get(fh, vals, &hs[j])) < 0)
            return rc;
        shmet_inc(cs[j]); /* defines it in our slot, outside the runs */
        shmet_observe(hs[j], 0.1);
    }
    return 0;
}

/* Flat out until the run is stopped; the calls made. */
static uint64_t record_run(struct shared *sh, uint32_t run, const struct shmet_series *cs,
                           const struct shmet_series *hs, const double *vals)
{
    uint64_t n = 0;

    for (;;) {
        for (uint32_t k = 0; k < 2048; k++, n += 2) {
            shmet_inc(cs[n & 7]);
            shmet_observe(hs[(n >> 3) & 7], vals[n & 1023]);
        }
        /* RELAXED: a flag polled every 4096 calls; the counts are
         * published by the RELEASE store of done[] below. */
        if (atomic_load_explicit(&sh->stop, memory_order_relaxed) >= run)
            return n;
    }
}

static void producer_main(struct e2e *e, uint32_t who)
{
    struct shmet_options opt = {.ns = e->l.ns};
    struct shmet_series cs[8], hs[8];
    struct shmet_client *c = NULL;
    struct shared *sh = e->sh;
    double vals[1024];

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < 1024; i++)
        vals[i] = mix_observation((uint64_t)i, 0);
    if (shmet_open(&opt, &c) < 0 || define_series(c, who, cs, hs) < 0)
        _exit(1);
    atomic_fetch_add_explicit(&sh->ready, 1, memory_order_release);
    for (uint32_t run = 1;; run++) {
        /* ACQUIRE: pairs with the parent's RELEASE stores of go and quit. */
        while (atomic_load_explicit(&sh->go, memory_order_acquire) < run &&
               !atomic_load_explicit(&sh->quit, memory_order_acquire))
            agg_sleep_ns(200000);
        if (atomic_load_explicit(&sh->quit, memory_order_acquire))
            break;
        uint64_t n = record_run(sh, run, cs, hs, vals);
        atomic_fetch_add_explicit(&sh->attempts[who], n, memory_order_relaxed);
        /* RELEASE: publishes attempts; pairs with the parent's ACQUIRE. */
        atomic_store_explicit(&sh->done[who], run, memory_order_release);
    }
    shmet_close(c);
    _exit(0);
}

/* An idle producer: defines its series, records once, then sleeps. */
static void idle_main(struct e2e *e, uint32_t who)
{
    struct shmet_options opt = {.ns = e->l.ns};
    struct shmet_series cs[8], hs[8];
    struct shmet_client *c = NULL;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (shmet_open(&opt, &c) < 0 || define_series(c, who, cs, hs) < 0)
        _exit(1);
    atomic_fetch_add_explicit(&e->sh->ready, 1, memory_order_release);
    while (!atomic_load_explicit(&e->sh->quit, memory_order_acquire))
        agg_sleep_ns(50000000);
    shmet_close(c);
    _exit(0);
}

/* ---- the probe process ------------------------------------------------------- */

static uint32_t own_slot(const struct shmet__seg *seg)
{
    int32_t tid = shmet__gettid();

    for (uint32_t i = 0; i < seg->slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(seg, i);
        if (atomic_load_explicit(&sl->state, memory_order_acquire) == SHMET_SLOT_ACTIVE &&
            atomic_load_explicit(&sl->tid, memory_order_relaxed) == tid)
            return i;
    }
    return UINT32_MAX;
}

/* Reads a sequence number, sets the gauge to it, answers when and where. */
static void probe_main(const char *ns, int cmd, int ack)
{
    struct shmet_options opt = {.ns = ns};
    struct shmet_client *c = NULL;
    struct shmet_family *f;
    struct shmet_series s;
    struct shmet__seg seg;
    struct probe_ack a = {0};
    uint64_t k;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (shmet_open(&opt, &c) < 0 ||
        shmet_gauge(c, "e2e_probe", "Probe.", NULL, SHMET_GAUGE_LAST, &f) < 0 ||
        shmet_series_get(f, NULL, &s) < 0 || shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg) < 0)
        a.err = -EIO;
    if (a.err == 0) {
        shmet_set(s, 0); /* claims the slot and defines the gauge */
        a.slot = own_slot(&seg);
        a.err = a.slot == UINT32_MAX ? -ESRCH : 0;
    }
    while (read(cmd, &k, sizeof(k)) == (ssize_t)sizeof(k) && k != 0) {
        if (a.err == 0) {
            a.t0 = agg_mono_ns();
            shmet_set(s, (double)k);
            /* RELAXED: our own store, made just above in this thread. */
            a.head = atomic_load_explicit(&shmet__slot(&seg, a.slot)->head, memory_order_relaxed);
        }
        if (write(ack, &a, sizeof(a)) != (ssize_t)sizeof(a))
            break;
    }
    shmet_close(c);
    _exit(0);
}

static int start_probe(struct e2e *e)
{
    int cmd[2], ack[2];

    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL);
    if ((e->probe = fork()) == 0)
        probe_main(e->l.ns, cmd[0], ack[1]);
    close(cmd[0]);
    close(ack[1]);
    e->probe_cmd = cmd[1];
    e->probe_ack = ack[0];
    return e->probe < 0 ? -errno : 0;
}

static void stop_probe(struct e2e *e)
{
    uint64_t zero = 0;

    if (e->probe <= 0)
        return;
    if (write(e->probe_cmd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero))
        kill(e->probe, SIGKILL);
    waitpid(e->probe, NULL, 0);
    close(e->probe_cmd);
    close(e->probe_ack);
    e->probe = 0;
}

/* ---- probes ------------------------------------------------------------------ */

static void add_lat(struct e2e *e, enum lat_kind k, double ms)
{
    if (e->nlat[k] < LAT_MAX)
        e->lat[k][e->nlat[k]++] = ms;
}

/* Until the ring's tail passed the probe's record; 0 or -ETIMEDOUT. */
static int wait_tail(struct e2e *e, const struct probe_ack *a)
{
    struct shmet_abi_slot *sl = shmet__slot(&e->l.seg, a->slot);

    /* ACQUIRE: pairs with the RELEASE store of tail after the copy. */
    while (atomic_load_explicit(&sl->tail, memory_order_acquire) < a->head)
        if (agg_mono_ns() - a->t0 > PROBE_TIMEOUT_NS)
            return -ETIMEDOUT;
        else
            agg_sleep_ns(20000);
    return 0;
}

/* Until GET /metrics shows e2e_probe == k; 0, -ETIMEDOUT or -errno. */
static int wait_scrape(struct agg_http *c, const struct probe_ack *a, uint64_t k)
{
    struct agg_resp r;
    int rc;

    while ((rc = agg_http_get(c, "/metrics", "", &r)) == 0) {
        const char *p = memmem(r.body, r.body_len, "\ne2e_probe ", 11);
        if (p != NULL && strtoull(p + 11, NULL, 10) == k)
            return 0;
        if (agg_mono_ns() - a->t0 > PROBE_TIMEOUT_NS)
            return -ETIMEDOUT;
    }
    return rc;
}

/* One probe of kind k; 0, or -errno when the probe process failed. */
static int probe_once(struct e2e *e, struct agg_http *c, enum lat_kind kind)
{
    uint64_t k = ++e->probes_made;
    struct probe_ack a;
    int rc;

    if (write(e->probe_cmd, &k, sizeof(k)) != (ssize_t)sizeof(k) ||
        read(e->probe_ack, &a, sizeof(a)) != (ssize_t)sizeof(a))
        return -EPIPE;
    if (a.err < 0)
        return a.err;
    bool scrape = kind == LAT_LOAD_SCRAPE || kind == LAT_IDLE_SCRAPE;
    rc = scrape ? wait_scrape(c, &a, k) : wait_tail(e, &a);
    if (rc == -ETIMEDOUT) {
        e->timeouts[kind]++;
        return 0;
    }
    if (rc == 0)
        add_lat(e, kind, (double)(agg_mono_ns() - a.t0) / 1e6);
    return rc;
}

/* Probes alternating drain and scrape until `until`, or n of them. */
static int probe_loop(struct e2e *e, bool load, uint64_t until, uint64_t n, uint64_t *seed)
{
    struct agg_http c;
    int rc;

    if ((rc = agg_http_open(&c, e->l.d.port)) < 0)
        return rc;
    for (uint64_t i = 0; rc == 0 && (until ? agg_mono_ns() < until : i < n); i++) {
        enum lat_kind k = load ? (i & 1 ? LAT_LOAD_SCRAPE : LAT_LOAD_DRAIN)
                               : (i & 1 ? LAT_IDLE_SCRAPE : LAT_IDLE_DRAIN);
        rc = probe_once(e, &c, k);
        /* Random gaps, so that probes do not lock onto the drain timer. */
        agg_sleep_ns(load ? 1000000 + agg_rand(seed) % 4000000
                          : 5000000 + agg_rand(seed) % 45000000);
    }
    agg_http_close(&c);
    return rc;
}

/* ---- runs --------------------------------------------------------------------- */

static int wait_ready(struct e2e *e, uint32_t n)
{
    uint64_t end = agg_mono_ns() + 10000000000ull;

    while (atomic_load_explicit(&e->sh->ready, memory_order_acquire) < n)
        if (agg_mono_ns() > end)
            return -ETIMEDOUT;
        else
            agg_sleep_ns(1000000);
    return 0;
}

static int wait_done(struct e2e *e, uint32_t run)
{
    uint64_t end = agg_mono_ns() + 10000000000ull;

    for (uint32_t i = 0; i < e->o.producers; i++)
        while (atomic_load_explicit(&e->sh->done[i], memory_order_acquire) < run)
            if (agg_mono_ns() > end)
                return -ETIMEDOUT;
            else
                agg_sleep_ns(1000000);
    return 0;
}

static uint64_t total_attempts(struct e2e *e)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < e->o.producers; i++)
        n += atomic_load_explicit(&e->sh->attempts[i], memory_order_acquire);
    return n;
}

static int one_run(struct e2e *e, uint32_t run, uint64_t *seed)
{
    struct bench_daemon_totals t0, t1;
    uint64_t a0 = total_attempts(e), p0 = e->probes_made, s, ns;
    int64_t cpu0;
    int rc;

    if ((rc = bench_daemon_totals(&e->l.d, &t0)) < 0)
        return rc;
    cpu0 = agg_proc_cpu_ns(e->l.d.pid);
    s = agg_mono_ns();
    /* RELEASE: pairs with the producers' ACQUIRE load of go. */
    atomic_store_explicit(&e->sh->go, run, memory_order_release);
    rc = probe_loop(e, true, s + e->o.seconds * 1000000000ull, 0, seed);
    atomic_store_explicit(&e->sh->stop, run, memory_order_release);
    ns = agg_mono_ns() - s;
    e->cpu[run - 1] = (double)(agg_proc_cpu_ns(e->l.d.pid) - cpu0) / (double)ns * 100;
    if (rc < 0 || (rc = wait_done(e, run)) < 0 ||
        (rc = agg_wait_drained(&e->l.seg, 10000)) < 0 ||
        (rc = bench_daemon_totals(&e->l.d, &t1)) < 0)
        return rc;
    uint64_t applied = t1.samples - t0.samples, dropped = t1.dropped - t0.dropped;
    uint64_t attempted = total_attempts(e) - a0 + (e->probes_made - p0);
    e->applied[run - 1] = (double)applied / ((double)ns / 1e9) / 1e6;
    e->attempted[run - 1] = (double)attempted / ((double)ns / 1e9) / 1e6;
    e->dropped[run - 1] = attempted ? (double)dropped / (double)attempted * 100 : 0;
    e->unaccounted += (int64_t)(attempted - applied - dropped);
    printf("run %u: %.1f s, applied %.2f M/s, attempted %.2f M/s, dropped %.1f%%, "
           "shmetricsd CPU %.0f%%\n",
           run, (double)ns / 1e9, e->applied[run - 1], e->attempted[run - 1],
           e->dropped[run - 1], e->cpu[run - 1]);
    fflush(stdout);
    return 0;
}

static int fork_kids(struct e2e *e, uint32_t n, bool idle)
{
    fflush(NULL);
    for (uint32_t i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0)
            return -errno;
        if (p == 0) {
            if (idle)
                idle_main(e, i);
            producer_main(e, i);
        }
        e->kids[e->nkids++] = p;
    }
    return wait_ready(e, n);
}

static void reap_kids(struct e2e *e)
{
    atomic_store_explicit(&e->sh->quit, 1, memory_order_release);
    for (uint32_t i = 0; i < e->nkids; i++)
        waitpid(e->kids[i], NULL, 0);
    e->nkids = 0;
    memset(e->sh, 0, sizeof(*e->sh));
}

/* Loaded runs, then sparse probes without load. */
static int loaded(struct e2e *e)
{
    uint64_t seed = 0x1234567;
    int rc;

    if ((rc = live_start(&e->l, "e2e", 0, 0, 0)) < 0)
        return rc;
    if ((rc = start_probe(e)) == 0 && (rc = fork_kids(e, (uint32_t)e->o.producers, false)) == 0)
        for (uint32_t r = 1; r <= e->o.runs && rc == 0; r++)
            rc = one_run(e, r, &seed);
    reap_kids(e);
    if (rc == 0) {
        agg_sleep_ns(SETTLE_NS); /* the drain timer backs off */
        rc = probe_loop(e, false, 0, e->o.probes, &seed);
    }
    stop_probe(e);
    live_stop(&e->l);
    if (rc < 0)
        fprintf(stderr, "shmetrics-bench: e2e: %s\n", shmet__strerror(rc));
    return rc;
}

/* Idle CPU over the given seconds in 1 s windows: total and per-window
 * percentages of one core. */
static int idle_cpu(struct e2e *e, uint32_t producers, double *total, double *win, size_t *nwin)
{
    int rc;

    *nwin = 0;
    if ((rc = live_start(&e->l, "idle", 0, 0, 0)) < 0)
        return rc;
    if (producers > 0)
        rc = fork_kids(e, producers, true);
    agg_sleep_ns(e->o.smoke ? SETTLE_NS : DEEP_IDLE_NS);
    int64_t c0 = agg_proc_cpu_ns(e->l.d.pid), c = c0;
    uint64_t t0 = agg_mono_ns(), t = t0;
    for (uint64_t i = 0; rc == 0 && i < e->o.idle_seconds; i++) {
        agg_sleep_ns(1000000000ull);
        int64_t c2 = agg_proc_cpu_ns(e->l.d.pid);
        uint64_t t2 = agg_mono_ns();
        win[(*nwin)++] = (double)(c2 - c) / (double)(t2 - t) * 100;
        c = c2;
        t = t2;
    }
    *total = (double)(c - c0) / (double)(t - t0) * 100;
    reap_kids(e);
    live_stop(&e->l);
    return rc;
}

/* ---- report ------------------------------------------------------------------- */

static void lat_row(struct e2e *e, enum lat_kind k)
{
    double *v = e->lat[k];
    size_t n = e->nlat[k];

    stats_sort(v, n);
    printf("%-12s %8zu %10.3f %10.3f %10.3f %10.3f %9llu\n", lat_tag[k], n,
           stats_percentile(v, n, 0.5), stats_percentile(v, n, 0.9),
           stats_percentile(v, n, 0.99), n ? v[n - 1] : 0, (unsigned long long)e->timeouts[k]);
}

static void lat_emit(struct e2e *e, enum lat_kind k)
{
    char name[96];

    snprintf(name, sizeof(name), "e2e_latency_%s_p50_ms", lat_tag[k]);
    bench_emit(name, stats_percentile(e->lat[k], e->nlat[k], 0.5), "ms");
    snprintf(name, sizeof(name), "e2e_latency_%s_p99_ms", lat_tag[k]);
    bench_emit(name, stats_percentile(e->lat[k], e->nlat[k], 0.99), "ms");
    snprintf(name, sizeof(name), "e2e_latency_%s_timeouts", lat_tag[k]);
    bench_emit(name, (double)e->timeouts[k], "probes");
}

static void idle_row(const char *tag, double total, double *win, size_t n)
{
    struct series_stats s = stats_of(win, n);

    printf("idle CPU, %-14s %7.3f%% of a core over %zu s (1 s windows: median %.3f%%, "
           "max %.3f%%)\n",
           tag, total, n, s.median, s.max);
}

static void idle_emit(const char *tag, double total, double *win, size_t n)
{
    char name[96];

    snprintf(name, sizeof(name), "e2e_idle_cpu_%s_pct", tag);
    bench_emit(name, total, "pct");
    snprintf(name, sizeof(name), "e2e_idle_cpu_%s_window_max_pct", tag);
    bench_emit(name, stats_of(win, n).max, "pct");
}

static void report(struct e2e *e, const double *total, double *win, const size_t *nwin)
{
    uint64_t r = e->o.runs;
    double *win2 = win + e->o.idle_seconds;

    printf("\n%-12s %8s %10s %10s %10s %10s %9s\n", "latency", "probes", "p50 ms", "p90 ms",
           "p99 ms", "max ms", "timeouts");
    for (int k = 0; k < LAT_COUNT; k++)
        lat_row(e, (enum lat_kind)k);
    printf("\n");
    idle_row("no_producers", total[0], win, nwin[0]);
    idle_row("idle_producers", total[1], win2, nwin[1]);
    printf("\n");
    bench_emit_stats("e2e_applied_msps", stats_of(e->applied, r), "msps");
    bench_emit_stats("e2e_attempted_msps", stats_of(e->attempted, r), "msps");
    bench_emit("e2e_dropped_pct_median", stats_of(e->dropped, r).median, "pct");
    bench_emit("e2e_daemon_cpu_loaded_pct_median", stats_of(e->cpu, r).median, "pct");
    bench_emit("e2e_producers", (double)e->o.producers, "processes");
    bench_emit("e2e_unaccounted", (double)e->unaccounted, "samples");
    for (int k = 0; k < LAT_COUNT; k++)
        lat_emit(e, (enum lat_kind)k);
    idle_emit("no_producers", total[0], win, nwin[0]);
    idle_emit("idle_producers", total[1], win2, nwin[1]);
}

/* ---- main ---------------------------------------------------------------------- */

static int e2e_alloc(struct e2e *e)
{
    e->sh = mmap(NULL, sizeof(*e->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (e->sh == MAP_FAILED) {
        e->sh = NULL;
        return -errno;
    }
    for (int k = 0; k < LAT_COUNT; k++)
        if ((e->lat[k] = calloc(LAT_MAX, sizeof(double))) == NULL)
            return -ENOMEM;
    e->applied = calloc(e->o.runs, sizeof(double));
    e->attempted = calloc(e->o.runs, sizeof(double));
    e->dropped = calloc(e->o.runs, sizeof(double));
    e->cpu = calloc(e->o.runs, sizeof(double));
    return e->applied && e->attempted && e->dropped && e->cpu ? 0 : -ENOMEM;
}

static void e2e_free(struct e2e *e)
{
    if (e->sh != NULL)
        munmap(e->sh, sizeof(*e->sh));
    for (int k = 0; k < LAT_COUNT; k++)
        free(e->lat[k]);
    free(e->applied);
    free(e->attempted);
    free(e->dropped);
    free(e->cpu);
}

static int run_all(struct e2e *e)
{
    double total[2], *win = calloc(e->o.idle_seconds, sizeof(double) * 2);
    size_t nwin[2];
    int rc = win == NULL ? -ENOMEM : e2e_alloc(e);

    printf("# shmetrics-bench e2e: %llu producers x %llu runs of %llu s; %llu idle probes;\n"
           "#   idle CPU over %llu s; shmetricsd with default geometry\n",
           (unsigned long long)e->o.producers, (unsigned long long)e->o.runs,
           (unsigned long long)e->o.seconds, (unsigned long long)e->o.probes,
           (unsigned long long)e->o.idle_seconds);
    fflush(stdout);
    if (rc == 0)
        rc = loaded(e);
    if (rc == 0)
        rc = idle_cpu(e, 0, &total[0], win, &nwin[0]);
    if (rc == 0)
        rc = idle_cpu(e, IDLE_PRODUCERS, &total[1], win + e->o.idle_seconds, &nwin[1]);
    if (rc == 0)
        report(e, total, win, nwin);
    free(win);
    e2e_free(e);
    return rc;
}

int bench_e2e_main(int argc, char **argv)
{
    struct e2e *e = calloc(1, sizeof(*e));
    int rc;

    if (e == NULL)
        return 1;
    e->o = (struct e2e_opts){.producers = 2, .seconds = 5, .runs = 3, .probes = 100,
                             .idle_seconds = 10};
    const struct agg_opt opts[] = {
        AGG_NUM("--producers", &e->o.producers, 1, MAX_PRODUCERS),
        AGG_NUM("--seconds", &e->o.seconds, 1, 3600),
        AGG_NUM("--runs", &e->o.runs, 1, 100),
        AGG_NUM("--probes", &e->o.probes, 2, LAT_MAX),
        AGG_NUM("--idle-seconds", &e->o.idle_seconds, 1, 3600),
        AGG_FLAG("--smoke", &e->o.smoke),
        AGG_END,
    };
    if (agg_parse(argc, argv, opts, help) < 0) {
        free(e);
        return 2;
    }
    if (e->o.smoke) {
        e->o.seconds = agg_has_opt(argc, argv, "--seconds") ? e->o.seconds : 1;
        e->o.runs = agg_has_opt(argc, argv, "--runs") ? e->o.runs : 1;
        e->o.probes = agg_has_opt(argc, argv, "--probes") ? e->o.probes : 10;
        e->o.idle_seconds = agg_has_opt(argc, argv, "--idle-seconds") ? e->o.idle_seconds : 1;
    }
    rc = run_all(e);
    free(e);
    return rc == 0 ? 0 : 1;
}
