/* SPDX-License-Identifier: MIT */
/*
 * bench/client_report.c - what `shmetrics-bench client` prints: the
 * method, one line per run, the table, and the BENCH lines (stats.c).
 *
 * Names: shmetrics figures with 1 producer thread carry no suffix
 * (client_inc_ns_median), with 2 they carry _2p (client_inc_2p_ns_median);
 * baselines always say _1p or _2p. A ratio is baseline / shmetrics with the
 * same number of producers, taken within each run, then the median.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "client.h"

struct kind_info {
    const char *name;  /* BENCH prefix */
    const char *label; /* table row */
    bool client;       /* a shmetrics figure (naming) */
};

static const struct kind_info kinds[FK_COUNT] = {
    [FK_INC] = {"client_inc", "shmet_inc", true},
    [FK_ADD] = {"client_add", "shmet_add", true},
    [FK_OBSERVE] = {"client_observe", "shmet_observe", true},
    [FK_INC_SAT] = {"client_inc_saturated", "shmet_inc, saturated", true},
    [FK_OBSERVE_SAT] = {"client_observe_saturated", "shmet_observe, saturated", true},
    [FK_ATOMIC] = {"baseline_atomic", "(a) atomic fetch_add", false},
    [FK_HIST] = {"baseline_hist", "(a) atomic histogram", false},
    [FK_LOCK_INC] = {"baseline_lock_inc", "(b) locked table, counter", false},
    [FK_LOCK_OBSERVE] = {"baseline_lock_observe", "(b) locked table, histogram", false},
    [FK_STATSD_INC] = {"baseline_statsd_inc", "(c) StatsD UDP, counter", false},
    [FK_STATSD_OBSERVE] = {"baseline_statsd_observe", "(c) StatsD UDP, timer", false},
};

/* Baseline / shmetrics pairs. */
static const struct {
    const char *name;
    enum fig_kind num, den;
} ratios[] = {
    {"atomic", FK_ATOMIC, FK_INC},         {"hist", FK_HIST, FK_OBSERVE},
    {"lock_inc", FK_LOCK_INC, FK_INC},     {"lock_observe", FK_LOCK_OBSERVE, FK_OBSERVE},
    {"statsd_inc", FK_STATSD_INC, FK_INC}, {"statsd_observe", FK_STATSD_OBSERVE, FK_OBSERVE},
};
#define NRATIOS (sizeof(ratios) / sizeof(ratios[0]))

static void fig_name(char *buf, size_t len, enum fig_kind k, unsigned t, const char *tail)
{
    const char *mid = kinds[k].client ? (t == 1 ? "" : "_2p") : (t == 1 ? "_1p" : "_2p");

    snprintf(buf, len, "%s%s%s", kinds[k].name, mid, tail);
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

/* ---- before and during the runs --------------------------------------- */

void report_header(const struct bench *b)
{
    const struct bench_opts *o = b->o;

    printf("# shmetrics-bench client: runs=%u samples=%llu lock_samples=%llu "
           "statsd_samples=%llu threads=1..%u ring_records=%u cpus=%ld\n",
           o->runs, (unsigned long long)o->samples, (unsigned long long)o->lock_samples,
           (unsigned long long)o->statsd_samples, o->threads, b->seg.ring_records,
           sysconf(_SC_NPROCESSORS_ONLN));
    if (o->pin)
        printf("# pinned: producer thread i on CPU i, the consumer side on CPU %d\n",
               bench_cpu_consumer(b));
    if (o->consumer == BENCH_CONSUMER_DAEMON)
        printf("# consumer: shmetricsd (pid %d, namespace %s, 127.0.0.1:%d) drains the rings\n"
               "#   every 1 ms and applies every record to its store, as in production.\n",
               (int)b->daemon.pid, b->ns, b->daemon.port);
    else
        printf("# consumer: an in-process thread drains the rings and discards the records.\n");
    printf("# throughput: each producer thread makes `samples` calls in tight loops timed\n"
           "#   with clock_gettime(CLOCK_MONOTONIC); ns per call. Paced (shmet_inc,\n"
           "#   shmet_add, shmet_observe): chunks of %llu calls, each started only when the\n"
           "#   ring has room for it (the wait is not timed), so no call finds the ring\n"
           "#   full. Saturated: one timed loop; calls that find the ring full drop.\n",
           (unsigned long long)b->chunk);
    printf("# baselines, same process and runs and producer threads, one series:\n"
           "#   (a) relaxed atomics on one copy in a MAP_SHARED mapping (histogram: bucket\n"
           "#       and count fetch_add, CAS loop on the double sum);\n"
           "#   (b) a PROCESS_SHARED, ROBUST pthread mutex around a label-keyed hash table\n"
           "#       in a MAP_SHARED mapping: lock, hash the key, probe, update, unlock;\n"
           "#   (c) StatsD: snprintf + sendto of one UDP datagram per sample to a loopback\n"
           "#       receiver thread that parses and aggregates (SO_RCVBUF %d bytes).\n"
           "#   Ratios: baseline / shmetrics with as many producers, within a run, median.\n",
           statsd_rcvbuf(b->statsd));
    printf("# latency: %zu batches of %d calls per thread per run, each batch timed and\n"
           "#   divided by %d, paced as above; percentiles over all batches of all runs;\n"
           "#   the timer's own cost is included (timer_overhead_per_call_ns).\n",
           b->nbatches, BENCH_BATCH, BENCH_BATCH);
    fflush(stdout);
}

void report_run(const struct bench *b, unsigned run)
{
    for (unsigned t = 1; t <= b->o->threads; t++) {
        const double *const *f = (const double *const *)b->r.fig;
        printf("# run %2u %up: inc %.2f add %.2f observe %.2f | atomic %.2f hist %.2f | lock "
               "%.1f %.1f | statsd %.0f %.0f ns\n",
               run, t, f[FIG(FK_INC, t)][run], f[FIG(FK_ADD, t)][run], f[FIG(FK_OBSERVE, t)][run],
               f[FIG(FK_ATOMIC, t)][run], f[FIG(FK_HIST, t)][run], f[FIG(FK_LOCK_INC, t)][run],
               f[FIG(FK_LOCK_OBSERVE, t)][run], f[FIG(FK_STATSD_INC, t)][run],
               f[FIG(FK_STATSD_OBSERVE, t)][run]);
    }
    fflush(stdout);
}

/* ---- accounting --------------------------------------------------------- */

/* Every call was applied by the consumer or counted as dropped. */
int64_t report_unaccounted(const struct bench *b)
{
    uint64_t defines = 0, dropped = 0;

    if (b->o->consumer == BENCH_CONSUMER_DAEMON)
        return (int64_t)b->r.attempted - (int64_t)(b->totals.samples + b->totals.dropped);
    for (uint32_t i = 0; i < b->seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&b->seg, i);
        /* RELAXED: statistics; the producers have exited. */
        defines += atomic_load_explicit(&sl->defines, memory_order_relaxed);
        dropped += atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    }
    return (int64_t)(b->r.attempted + defines) - (int64_t)(b->cons.drained + dropped);
}

/* ---- the table and the BENCH lines --------------------------------------- */

static void print_table(const struct bench *b)
{
    unsigned n = b->o->runs;

    printf("\n%-34s %10s %10s %10s   (ns per call, %u runs)\n", "figure", "median", "min", "max",
           n);
    for (unsigned t = 1; t <= b->o->threads; t++)
        for (int k = 0; k < FK_COUNT; k++) {
            char label[64];
            struct series_stats s = stats_of(b->r.fig[FIG(k, t)], n);
            snprintf(label, sizeof(label), "%s, %up", kinds[k].label, t);
            printf("%-34s %10.2f %10.2f %10.2f\n", label, s.median, s.min, s.max);
        }
    printf("\n%-34s", "baseline / shmetrics (median)");
    for (unsigned t = 1; t <= b->o->threads; t++)
        printf(" %9up", t);
    printf("\n");
    for (size_t i = 0; i < NRATIOS; i++) {
        printf("%-34s", ratios[i].name);
        for (unsigned t = 1; t <= b->o->threads; t++)
            printf(" %9.1fx", ratio_median(b->r.fig[FIG(ratios[i].num, t)],
                                           b->r.fig[FIG(ratios[i].den, t)], n));
        printf("\n");
    }
    printf("\n");
}

static void emit_figures(const struct bench *b)
{
    char name[96];

    for (int k = 0; k < FK_COUNT; k++)
        for (unsigned t = 1; t <= b->o->threads; t++) {
            fig_name(name, sizeof(name), k, t, "_ns");
            bench_emit_stats(name, stats_of(b->r.fig[FIG(k, t)], b->o->runs), "ns");
        }
    for (size_t i = 0; i < NRATIOS; i++)
        for (unsigned t = 1; t <= b->o->threads; t++) {
            snprintf(name, sizeof(name), "ratio_%s_%up_over_%s", ratios[i].name, t,
                     ratios[i].den == FK_INC ? "inc" : "observe");
            bench_emit(name,
                       ratio_median(b->r.fig[FIG(ratios[i].num, t)],
                                    b->r.fig[FIG(ratios[i].den, t)], b->o->runs),
                       "x");
        }
}

static void emit_latency(const char *prefix, double *v, size_t n)
{
    static const struct {
        const char *suffix;
        double p;
    } pct[] = {{"_p50_ns", 0.50}, {"_p99_ns", 0.99}, {"_p999_ns", 0.999}};
    char name[96];

    stats_sort(v, n);
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
        snprintf(name, sizeof(name), "%s%s", prefix, pct[i].suffix);
        bench_emit(name, stats_percentile(v, n, pct[i].p), "ns");
    }
}

static void emit_latencies(struct bench *b)
{
    struct results *r = &b->r;

    for (unsigned t = 1; t <= b->o->threads; t++) {
        emit_latency(t == 1 ? "client_inc" : "client_inc_2p", r->lat[LAT(LK_INC, t)],
                     r->nlat[LAT(LK_INC, t)]);
        emit_latency(t == 1 ? "client_observe" : "client_observe_2p", r->lat[LAT(LK_OBSERVE, t)],
                     r->nlat[LAT(LK_OBSERVE, t)]);
    }
    bench_emit("timer_overhead_per_call_ns", stats_of(r->lat_empty, r->nlat_empty).median, "ns");
}

static void emit_accounting(const struct bench *b, int64_t unaccounted)
{
    const struct results *r = &b->r;
    uint64_t lost = r->statsd_sent > r->statsd_received ? r->statsd_sent - r->statsd_received : 0;

    bench_emit("client_inc_dropped", (double)r->dropped[FK_INC], "samples");
    bench_emit("client_add_dropped", (double)r->dropped[FK_ADD], "samples");
    bench_emit("client_observe_dropped", (double)r->dropped[FK_OBSERVE], "samples");
    bench_emit("client_latency_dropped", (double)r->dropped_lat, "samples");
    bench_emit("client_warmup_dropped", (double)r->dropped_warmup, "samples");
    bench_emit("client_saturated_dropped",
               (double)(r->dropped[FK_INC_SAT] + r->dropped[FK_OBSERVE_SAT]), "samples");
    bench_emit("client_samples", (double)r->attempted, "samples");
    if (b->o->consumer == BENCH_CONSUMER_DAEMON) {
        bench_emit("daemon_samples_total", (double)b->totals.samples, "samples");
        bench_emit("daemon_dropped_total", (double)b->totals.dropped, "samples");
        bench_emit("daemon_invalid_total", (double)b->totals.invalid, "records");
    } else {
        bench_emit("client_drained", (double)b->cons.drained, "records");
    }
    bench_emit("client_unaccounted", (double)unaccounted, "samples");
    bench_emit("lock_owner_dead_recovered", (double)lock_table_recovered(b->lock), "events");
    bench_emit("statsd_sent", (double)r->statsd_sent, "datagrams");
    bench_emit("statsd_received", (double)r->statsd_received, "datagrams");
    bench_emit("statsd_dropped", (double)lost, "datagrams");
    bench_emit("statsd_dropped_percent",
               r->statsd_sent ? 100.0 * (double)lost / (double)r->statsd_sent : 0, "percent");
}

void report_all(struct bench *b, int64_t unaccounted)
{
    print_table(b);
    emit_figures(b);
    emit_latencies(b);
    emit_accounting(b, unaccounted);
}
