/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_memory.c - memory per series, for `shmetrics-bench
 * scrape`:
 *   store   the heap the store takes (mallinfo2: in-use arena bytes plus
 *           mmapped chunks) for n series of one type made with the store's
 *           own functions: counters; gauges with one producer's
 *           contribution; histograms after one observation, and after
 *           HIST_SPREAD observations spread over 0.005..8 s (the quantile
 *           sketch grows with the range of values it has seen).
 *   live    shmetricsd's RssAnon (its heap; the segment's pages are shared
 *           memory and not counted) before and after a producer process adds
 *           n series of one type, divided by n. This includes the drain's id
 *           map for that producer (16 bytes per series and producer).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "bench.h"

#define HIST_SPREAD 16

enum mem_kind { MK_COUNTER, MK_GAUGE, MK_HIST1, MK_HIST16, MK_COUNT };

static const char *const mk_tag[MK_COUNT] = {"counter", "gauge", "histogram_1obs",
                                             "histogram_16obs"};

static uint64_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

/* n series of one type; keeps the histograms' series, or the gauges'
 * contributions (which the drain's bindings own), in keep[]. */
static int store_fill(struct store *st, uint8_t type, uint64_t n, void **keep)
{
    char bufs[MIX_LABELS][MIX_VALUE_MAX];
    const char *vals[MIX_LABELS];
    uint32_t lens[MIX_LABELS], llens[MIX_LABELS];
    struct family_spec spec = {.name = "m", .name_len = 1, .help = "", .type = type,
                               .nlabels = MIX_LABELS, .labels = mix_labels, .label_lens = llens,
                               .nbounds = type == SHMET_TYPE_HISTOGRAM ? MIX_BOUNDS : 0,
                               .bounds = mix_bounds};
    struct store_family *f;
    struct store_series *s;
    int rc;

    for (int k = 0; k < MIX_LABELS; k++)
        llens[k] = (uint32_t)strlen(mix_labels[k]);
    if ((rc = store_family(st, &spec, &f)) < 0)
        return rc;
    for (uint64_t i = 0; i < n; i++) {
        mix_values(i, bufs, vals);
        for (int k = 0; k < MIX_LABELS; k++)
            lens[k] = (uint32_t)strlen(vals[k]);
        if ((rc = store_series(st, f, vals, lens, &s)) < 0)
            return rc;
        if (type == SHMET_TYPE_GAUGE && (keep[i] = store_gauge_join(s)) == NULL)
            return -ENOMEM;
        if (type == SHMET_TYPE_HISTOGRAM) {
            store_observe(s, mix_observation(i, 0));
            keep[i] = s;
        }
    }
    return 0;
}

/* Bytes per series in the store, by kind. */
static int store_mem(uint64_t n, double *per)
{
    const uint8_t types[3] = {SHMET_TYPE_COUNTER, SHMET_TYPE_GAUGE, SHMET_TYPE_HISTOGRAM};
    void **keep = calloc(n, sizeof(*keep));
    int rc = keep == NULL ? -ENOMEM : 0;

    for (int t = 0; t < 3 && rc == 0; t++) {
        struct store st;
        uint64_t h0 = heap_used(); /* keep[] is allocated already */
        if ((rc = store_init(&st, UINT32_MAX)) < 0)
            break;
        rc = store_fill(&st, types[t], n, keep);
        per[t] = ((double)heap_used() - (double)h0) / (double)n;
        for (uint64_t i = 0; rc == 0 && types[t] == SHMET_TYPE_HISTOGRAM && i < n; i++)
            for (uint64_t k = 1; k < HIST_SPREAD; k++)
                store_observe(keep[i], mix_observation(i, k));
        if (types[t] == SHMET_TYPE_HISTOGRAM)
            per[MK_HIST16] = ((double)heap_used() - (double)h0) / (double)n;
        store_fini(&st);
        for (uint64_t i = 0; types[t] == SHMET_TYPE_GAUGE && i < n; i++)
            store_gauge_leave(keep[i]); /* frees it; its series is gone */
        memset(keep, 0, n * sizeof(*keep));
    }
    free(keep);
    return rc;
}

/* RssAnon growth of shmetricsd per series while a producer adds n series. */
static int live_mem(uint8_t type, uint32_t obs, uint64_t n, bool smoke, double *anon, double *vm)
{
    uint64_t vm0, an0, vm1, an1;
    struct live l;
    int64_t rc;

    if ((rc = live_start(&l, "mem", smoke ? 65536 : 1u << 20, feed_arena_for(n + 1), 2)) < 0)
        return (int)rc;
    if ((rc = live_producer(&l)) == 0 && (rc = live_add(&l, type, 0, 1, obs)) == 0 &&
        (rc = agg_proc_rss(l.d.pid, &vm0, &an0)) == 0 && (rc = live_add(&l, type, 1, n + 1, obs)) == 0)
        rc = agg_proc_rss(l.d.pid, &vm1, &an1);
    if (rc > 0)
        rc = -ENOBUFS; /* the producer's ring filled */
    if (rc == 0) {
        *anon = ((double)an1 - (double)an0) / (double)n;
        *vm = ((double)vm1 - (double)vm0) / (double)n;
    } else {
        fprintf(stderr, "shmetrics-bench: shmetricsd memory: %s\n", shmet__strerror((int)rc));
    }
    live_stop(&l);
    return (int)rc;
}

int agg_memory(uint64_t n, bool live, bool smoke)
{
    double store[MK_COUNT] = {0}, anon[MK_COUNT] = {0}, vm[MK_COUNT] = {0};
    char name[96];
    int rc = store_mem(n, store);

    for (int k = 0; live && rc == 0 && k < MK_COUNT; k++) {
        if (k == MK_HIST1)
            continue;
        rc = live_mem(k == MK_COUNTER ? SHMET_TYPE_COUNTER
                      : k == MK_GAUGE ? SHMET_TYPE_GAUGE
                                      : SHMET_TYPE_HISTOGRAM,
                      HIST_SPREAD, n, smoke, &anon[k], &vm[k]);
    }
    if (rc < 0)
        return rc;
    printf("memory per series, %llu series of one type, three labels:\n", (unsigned long long)n);
    printf("%-18s %16s %22s %22s\n", "type", "store heap B", "shmetricsd RssAnon B",
           "shmetricsd VmRSS B");
    for (int k = 0; k < MK_COUNT; k++) {
        bool shown = live && k != MK_HIST1;
        printf("%-18s %16.1f %22.1f %22.1f\n", mk_tag[k], store[k], shown ? anon[k] : 0,
               shown ? vm[k] : 0);
    }
    printf("\n");
    for (int k = 0; k < MK_COUNT; k++) {
        snprintf(name, sizeof(name), "mem_store_%s_bytes_per_series", mk_tag[k]);
        bench_emit(name, store[k], "bytes");
        if (!live || k == MK_HIST1)
            continue;
        snprintf(name, sizeof(name), "mem_daemon_%s_bytes_per_series", mk_tag[k]);
        bench_emit(name, anon[k], "bytes");
    }
    return 0;
}
