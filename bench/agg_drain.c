/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_drain.c - `shmetrics-bench drain`: how many samples a
 * second the aggregator core drains from the rings and merges into the
 * store, on one core, for counters, SUM gauges and 13-bucket histograms
 * over 1k and 100k distinct series.
 *
 * Each case defines its series in every slot of a fresh segment (struct
 * feed), records every series once and drains (the arena scan that maps
 * ids happens there, untimed), then fills and drains every ring once more
 * untimed (histogram sketches reach their size). A run is a number of
 * rounds; a round fills every ring to capacity (untimed) and times one
 * drain_all(). Series ids follow a random permutation, each slot from its
 * own offset, so that 100k series miss the caches as real traffic does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg.h"
#include "bench.h"

#define NVALUES 4096          /* distinct observation and gauge values, cycled */
#define WARM_OBSERVATIONS 16 /* per histogram series and slot before timing */

struct drain_opts {
    uint64_t runs, slots, ring, samples, series;
    const char *type; /* NULL: all */
    bool smoke;
};

struct drain_case {
    uint8_t type;
    const char *tag; /* figure name part */
    uint64_t nseries;
};

struct drain_run {
    struct feed f;
    const struct drain_case *c;
    uint32_t *perm;   /* local ids in the order records use them */
    uint64_t cur[FEED_SLOTS_MAX];
    uint16_t op;
    double values[NVALUES];
};

static const char help[] =
    "usage: shmetrics-bench drain [--runs N] [--slots N] [--ring-records N] [--samples N]\n"
    "                             [--series N] [--type T] [--smoke]\n"
    "\n"
    "Drain+merge throughput of the aggregator core (drain_all into the store) on one\n"
    "core, in samples/s: counters (add 1), gauges (SUM mode, set), histograms (13\n"
    "buckets), each with 1k and 100k distinct series (three labels each), records\n"
    "in a random series order. Rings are filled before each timed drain_all(); only\n"
    "the drain is timed. Definitions are read before timing starts.\n"
    "\n"
    "  --runs N          repetitions per case; figures are medians (default 7)\n"
    "  --slots N         producer slots, each defining every series (default 4)\n"
    "  --ring-records N  records per ring, a power of two (default 16384)\n"
    "  --samples N       samples drained per run, at least (default 4M)\n"
    "  --series N        one size instead of 1k and 100k (for profiling)\n"
    "  --type T          counter, gauge or histogram only (for profiling)\n"
    "  --smoke           tiny sizes: checks that it runs\n"
    "\n"
    "Output: a table, then BENCH <name> <value> <unit> lines.\n";

static uint16_t op_of(uint8_t type)
{
    return type == SHMET_TYPE_COUNTER ? SHMET_OP_COUNTER_ADD
           : type == SHMET_TYPE_GAUGE ? SHMET_OP_GAUGE_SET
                                      : SHMET_OP_OBSERVE;
}

static int define_all(struct drain_run *r)
{
    const struct drain_case *c = r->c;
    char bufs[MIX_LABELS][MIX_VALUE_MAX];
    const char *vals[MIX_LABELS + 1] = {NULL};
    uint32_t fam, id;
    uint64_t st = 42;
    int rc;

    rc = feed_family(&r->f, c->type, c->type == SHMET_TYPE_HISTOGRAM ? "bench_duration_seconds"
                                     : c->type == SHMET_TYPE_GAUGE   ? "bench_in_progress"
                                                                     : "bench_requests_total",
                     "Benchmark family.", c->type == SHMET_TYPE_HISTOGRAM ? mix_bounds : NULL,
                     c->type == SHMET_TYPE_HISTOGRAM ? MIX_BOUNDS : 0, &fam);
    for (uint64_t i = 0; rc == 0 && i < c->nseries; i++) {
        mix_values(i, bufs, vals);
        if ((rc = feed_series(&r->f, fam, vals, &id)) == 0)
            r->perm[i] = id;
    }
    if (rc < 0)
        return rc;
    for (uint64_t i = c->nseries - 1; i > 0; i--) { /* Fisher-Yates */
        uint64_t j = agg_rand(&st) % (i + 1);
        uint32_t t = r->perm[i];
        r->perm[i] = r->perm[j];
        r->perm[j] = t;
    }
    for (uint32_t k = 0; k < r->f.nslots; k++)
        r->cur[k] = c->nseries * k / r->f.nslots;
    return 0;
}

/* Fill every ring to capacity; the records filled. */
static uint64_t fill(struct drain_run *r)
{
    uint64_t n = r->c->nseries, total = 0;

    for (uint32_t k = 0; k < r->f.nslots; k++) {
        uint64_t room = feed_room(&r->f, k), cur = r->cur[k];
        for (uint64_t j = 0; j < room; j++, cur++)
            (void)shmet__ring_push(&r->f.rp[k], r->perm[cur % n], r->op, 0,
                                   r->values[cur % NVALUES]);
        r->cur[k] = cur % n;
        total += room;
    }
    return total;
}

/* Every series once per slot (histograms: WARM_OBSERVATIONS times over
 * the whole value range, so that their sketches have grown to the range
 * the timed records use), then one full round: all untimed. */
static int warm_up(struct drain_run *r)
{
    uint64_t before = r->f.d.samples_total;
    uint32_t times = r->c->type == SHMET_TYPE_HISTOGRAM ? WARM_OBSERVATIONS : 1;

    for (uint32_t k = 0; k < r->f.nslots; k++)
        for (uint32_t t = 0; t < times; t++)
            for (uint64_t i = 0; i < r->c->nseries; i++)
                feed_record(&r->f, k, r->perm[i], r->op,
                            t == 0 ? r->values[i % NVALUES] : mix_observation(i, t));
    (void)drain_all(&r->f.d);
    (void)fill(r);
    (void)drain_all(&r->f.d);
    return drain_invalid_total(&r->f.d) == 0 && r->f.d.samples_total > before ? 0 : -EPROTO;
}

/* One run: samples/s over its rounds; -1 when a drain came up short. */
static double one_run(struct drain_run *r, const struct drain_opts *o)
{
    uint64_t per_round = o->slots * o->ring;
    uint64_t rounds = (o->samples + per_round - 1) / per_round, ns = 0, total = 0;

    for (uint64_t i = 0; i < rounds; i++) {
        uint64_t want = fill(r), t0 = agg_mono_ns();
        uint64_t got = drain_all(&r->f.d);
        ns += agg_mono_ns() - t0;
        if (got != want)
            return -1;
        total += got;
    }
    return (double)total / ((double)ns / 1e9);
}

static int run_case(const struct drain_case *c, const struct drain_opts *o, double *rates)
{
    struct drain_run *r = calloc(1, sizeof(*r));
    int rc = -ENOMEM;

    if (r == NULL || (r->perm = malloc(c->nseries * sizeof(*r->perm))) == NULL)
        goto out;
    r->c = c;
    r->op = op_of(c->type);
    for (uint64_t i = 0; i < NVALUES; i++)
        r->values[i] = c->type == SHMET_TYPE_HISTOGRAM ? mix_observation(i, 0) : (double)(i % 977);
    rc = feed_open(&r->f, "drain", (uint32_t)o->slots, (uint32_t)o->ring,
                   feed_arena_for(c->nseries), UINT32_MAX);
    if (rc < 0)
        goto out;
    if ((rc = define_all(r)) < 0 || (rc = warm_up(r)) < 0) {
        fprintf(stderr, "shmetrics-bench: drain setup (%s): %s\n", c->tag, shmet__strerror(rc));
        goto out_feed;
    }
    for (uint64_t i = 0; i < o->runs && rc == 0; i++)
        if ((rates[i] = one_run(r, o)) < 0)
            rc = -EPROTO;
    if (rc == 0 && drain_invalid_total(&r->f.d) != 0)
        rc = -EPROTO;
    if (rc < 0)
        fprintf(stderr, "shmetrics-bench: drain (%s): records lost or refused\n", c->tag);
out_feed:
    feed_close(&r->f);
out:
    if (r != NULL)
        free(r->perm);
    free(r);
    return rc;
}

/* Rates to Msamples/s; the table row. */
static struct series_stats summarize(const struct drain_case *c, double *rates, uint64_t runs)
{
    char sz[16];
    struct series_stats s;

    for (uint64_t i = 0; i < runs; i++)
        rates[i] /= 1e6;
    s = stats_of(rates, runs);
    printf("%-10s %8s %12.1f %10.1f %10.1f %10.2f\n", c->tag,
           agg_size_tag(c->nseries, sz, sizeof(sz)), s.median, s.min, s.max, 1e3 / s.median);
    return s;
}

static void emit(const struct drain_case *c, struct series_stats s)
{
    char name[96], sz[16];

    agg_size_tag(c->nseries, sz, sizeof(sz));
    snprintf(name, sizeof(name), "drain_%s_%s_msps", c->tag, sz);
    bench_emit_stats(name, s, "msps");
    snprintf(name, sizeof(name), "drain_%s_%s_ns_per_sample", c->tag, sz);
    bench_emit(name, 1e3 / s.median, "ns");
}

int bench_drain_main(int argc, char **argv)
{
    struct drain_opts o = {.runs = 7, .slots = 4, .ring = 16384, .samples = 4000000};
    const struct agg_opt opts[] = {
        AGG_NUM("--runs", &o.runs, 1, 1000),
        AGG_NUM("--slots", &o.slots, 1, FEED_SLOTS_MAX),
        AGG_NUM("--ring-records", &o.ring, SHMET_RING_MIN, SHMET_RING_MAX),
        AGG_NUM("--samples", &o.samples, 1, 1ull << 40),
        AGG_NUM("--series", &o.series, 1, 10000000),
        AGG_STR("--type", &o.type),
        AGG_FLAG("--smoke", &o.smoke),
        AGG_END,
    };
    uint64_t sizes[2] = {1000, 100000};
    int nsizes = 2;
    const uint8_t types[3] = {SHMET_TYPE_COUNTER, SHMET_TYPE_GAUGE, SHMET_TYPE_HISTOGRAM};
    const char *const tags[3] = {"counter", "gauge", "histogram"};
    struct drain_case cases[6];
    struct series_stats res[6];
    int rc = 0, ncases = 0;
    double *rates;

    if (agg_parse(argc, argv, opts, help) < 0)
        return 2;
    if ((o.ring & (o.ring - 1)) != 0) {
        fprintf(stderr, "shmetrics-bench: --ring-records must be a power of two\n");
        return 2;
    }
    if (o.type != NULL && strcmp(o.type, "counter") != 0 && strcmp(o.type, "gauge") != 0 &&
        strcmp(o.type, "histogram") != 0) {
        fprintf(stderr, "shmetrics-bench: --type is counter, gauge or histogram\n");
        return 2;
    }
    if (o.series != 0) {
        sizes[0] = o.series;
        nsizes = 1;
    }
    if (o.smoke) {
        o.runs = agg_has_opt(argc, argv, "--runs") ? o.runs : 2;
        o.samples = agg_has_opt(argc, argv, "--samples") ? o.samples : 100000;
    }
    if ((rates = calloc(o.runs, sizeof(*rates))) == NULL)
        return 1;
    printf("# shmetrics-bench drain: %llu runs, %llu slots x %llu records per ring, >= %llu\n"
           "#   samples per run; gauges SUM mode (set), histograms 13 buckets; series\n"
           "#   with three labels; one thread (the aggregator has one)\n",
           (unsigned long long)o.runs, (unsigned long long)o.slots,
           (unsigned long long)o.ring, (unsigned long long)o.samples);
    printf("%-10s %8s %12s %10s %10s %10s\n", "type", "series", "Msamples/s", "min", "max",
           "ns/sample");
    fflush(stdout);
    for (int s = 0; s < nsizes && rc == 0; s++)
        for (int t = 0; t < 3 && rc == 0; t++) {
            if (o.type != NULL && strcmp(o.type, tags[t]) != 0)
                continue;
            cases[ncases] = (struct drain_case){types[t], tags[t], sizes[s]};
            if ((rc = run_case(&cases[ncases], &o, rates)) == 0)
                res[ncases] = summarize(&cases[ncases], rates, o.runs), ncases++;
            fflush(stdout);
        }
    printf("\n");
    for (int i = 0; i < ncases; i++)
        emit(&cases[i], res[i]);
    free(rates);
    return rc == 0 ? 0 : 1;
}
