/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/test_define.c - definitions read from producers'
 * arenas (ingest/define.c). Producers of a rolling deploy: one family
 * name with other labels, buckets or gauge mode from two producers,
 * served side by side; a definition of another type refused with all its
 * records; the __overflow__ placeholder reached by identity (arena full,
 * cardinality cap) and never through a user value "__overflow__"; DEFINE
 * records binding the entry they name; a hostile arena refused. And a
 * producer writing random definitions and records: each record applied
 * or refused exactly once, no series twice in the exposition, and a
 * checkpoint that brings back exactly what was served.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "ingest/checkpoint.h"
#include "render/debug.h"
#include "ingest/drain.h"
#include "render/expo.h"
#include "t_drain.h"
#include "t_util.h"

/* Counter first, gauge of the same name second: the gauge's definition,
 * its series and its sample are refused as family_conflict, counted in the
 * family's conflict record, and the counter goes on. */
static void test_define_family_conflict_between_slots(void)
{
    struct fixture fx;
    struct shmet_client *c2;
    struct shmet_family *a, *b;
    struct shmet_series as, bs;

    t_setup(&fx, 1024);
    struct shmet_options o = {.ns = fx.ns};
    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c2), 0);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "dup", "", NULL, &a), 0);
    CU_ASSERT_EQUAL(shmet_gauge(c2, "dup", "", (const char *[]){"pool", NULL}, SHMET_GAUGE_SUM,
                                &b), 0);
    shmet_series_get(a, NULL, &as);
    shmet_series_get(b, (const char *[]){"db"}, &bs);
    shmet_inc(as);
    drain_all(&fx.d); /* the counter comes first and wins */
    shmet_set(bs, 3);
    shmet_set(bs, 4);
    shmet_inc(as);
    drain_all(&fx.d);
    /* family, its __overflow__ and "db" series, two samples */
    CU_ASSERT_EQUAL(fx.d.invalid[INV_FAMILY_CONFLICT], 5);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 0);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 5);
    CU_ASSERT_EQUAL(t_find(&fx.st, "dup", NULL)->v.counter, 2);
    struct store_family *f = store_family_find(&fx.st, "dup", 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->type, SHMET_TYPE_COUNTER);
    CU_ASSERT_EQUAL(f->ndefs, 1);
    struct store_conflict *k = f->conflicts[SHMET_TYPE_GAUGE];
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_STRING_EQUAL(k->labels, "pool");
    CU_ASSERT_EQUAL(k->definitions, 1);
    CU_ASSERT_EQUAL(k->records, 4);
    shmet_close(c2);
    t_teardown(&fx);
}

/* A rolling deploy: old producers define [method], new ones [method,
 * code] under one name; both are served, a new label set with an empty
 * code is the old series, totals exact, the newest help. */
static void test_define_rolling_deploy_labels(void)
{
    struct fixture fx;
    struct shmet_client *c2;
    struct shmet_family *old_f, *new_f;
    struct shmet_series get, get200, get_empty, post500;

    t_setup(&fx, 1024);
    struct shmet_options o = {.ns = fx.ns};
    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c2), 0);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "http_requests_total", "Old help.",
                                  (const char *[]){"method", NULL}, &old_f), 0);
    CU_ASSERT_EQUAL(shmet_series_get(old_f, (const char *[]){"GET"}, &get), 0);
    shmet_add(get, 3);
    drain_all(&fx.d); /* the old definition first */
    CU_ASSERT_EQUAL(shmet_counter(c2, "http_requests_total", "New help.",
                                  (const char *[]){"method", "code", NULL}, &new_f), 0);
    CU_ASSERT_EQUAL(shmet_series_get(new_f, (const char *[]){"GET", "200"}, &get200), 0);
    CU_ASSERT_EQUAL(shmet_series_get(new_f, (const char *[]){"GET", ""}, &get_empty), 0);
    CU_ASSERT_EQUAL(shmet_series_get(new_f, (const char *[]){"POST", "500"}, &post500), 0);
    for (int i = 0; i < 1000; i++) {
        shmet_inc(get200);
        shmet_inc(get);
    }
    shmet_add(get_empty, 2);
    shmet_add(post500, 7);
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 0);
    CU_ASSERT_EQUAL(fx.d.samples_total, 1 + 2000 + 2);
    struct store_family *f = store_family_find(&fx.st, "http_requests_total", 19);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->ndefs, 2);
    CU_ASSERT_STRING_EQUAL(f->cur->help, "New help.");
    CU_ASSERT_EQUAL(t_find_kv(&fx.st, "http_requests_total", (const char *[]){"method", "GET", NULL})
                        ->v.counter,
                    3 + 1000 + 2);
    CU_ASSERT_EQUAL(t_find_kv(&fx.st, "http_requests_total",
                            (const char *[]){"method", "GET", "code", "200", NULL})
                        ->v.counter,
                    1000);
    CU_ASSERT_EQUAL(t_find_kv(&fx.st, "http_requests_total",
                            (const char *[]){"method", "POST", "code", "500", NULL})
                        ->v.counter,
                    7);
    CU_ASSERT_PTR_NULL(t_find_kv(&fx.st, "http_requests_total",
                               (const char *[]){"method", "GET", "code", "", NULL}));
    CU_ASSERT_EQUAL(store_family_series(f), 3);
    CU_ASSERT_EQUAL(f->mismatch_samples, 0); /* counters have no layout */
    shmet_close(c2);
    t_teardown(&fx);
}

/* Histograms with other buckets, gauges with another mode: a label set
 * keeps the layout it was made with, samples of the other definition are
 * counted into it exactly and counted as mismatched; a new label set takes
 * the new layout. */
static void test_define_rolling_deploy_layouts(void)
{
    static const double old_b[] = {1, 2}, new_b[] = {1, 5};
    struct fixture fx;
    struct shmet_client *c2;
    struct shmet_family *ho, *hn, *go, *gn;
    struct shmet_series hoa, hna, hnb, gos, gns;

    t_setup(&fx, 1024);
    struct shmet_options o = {.ns = fx.ns};
    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c2), 0);
    const char *route[] = {"route", NULL};
    CU_ASSERT_EQUAL(shmet_histogram(fx.c, "lat", "L.", route, old_b, 2, &ho), 0);
    CU_ASSERT_EQUAL(shmet_gauge(fx.c, "conns", "C.", NULL, SHMET_GAUGE_SUM, &go), 0);
    shmet_series_get(ho, (const char *[]){"/a"}, &hoa);
    shmet_series_get(go, NULL, &gos);
    shmet_observe(hoa, 0.5);
    shmet_observe(hoa, 1.5);
    shmet_observe(hoa, 3);
    shmet_set(gos, 3);
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(shmet_histogram(c2, "lat", "L.", route, new_b, 2, &hn), 0);
    CU_ASSERT_EQUAL(shmet_gauge(c2, "conns", "C.", NULL, SHMET_GAUGE_MAX, &gn), 0);
    shmet_series_get(hn, (const char *[]){"/a"}, &hna);
    shmet_series_get(hn, (const char *[]){"/b"}, &hnb);
    shmet_series_get(gn, NULL, &gns);
    shmet_observe(hna, 0.5);
    shmet_observe(hna, 3);
    shmet_observe(hna, 7);
    shmet_observe(hnb, 3);
    shmet_set(gns, 4);
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 0);
    struct store_series *a = t_find(&fx.st, "lat", "/a"), *b = t_find(&fx.st, "lat", "/b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(a->def->nbounds == 2 && a->def->bounds[1] == 2);
    CU_ASSERT_EQUAL(a->v.h.buckets[0], 2); /* 0.5 0.5 */
    CU_ASSERT_EQUAL(a->v.h.buckets[1], 1); /* 1.5 */
    CU_ASSERT_EQUAL(a->v.h.buckets[2], 3); /* 3 3 7 */
    CU_ASSERT_EQUAL(a->v.h.count, 6);
    CU_ASSERT_EQUAL(a->v.h.sum, 0.5 + 1.5 + 3 + 0.5 + 3 + 7);
    CU_ASSERT(b->def->bounds[1] == 5 && b->v.h.buckets[1] == 1 && b->v.h.count == 1);
    CU_ASSERT_EQUAL(a->fam->mismatch_samples, 3);
    struct store_series *g = t_find(&fx.st, "conns", NULL);
    CU_ASSERT_EQUAL(store_gauge_value(g), 7); /* SUM of 3 and 4: its maker's mode */
    CU_ASSERT_EQUAL(g->fam->mismatch_samples, 1);
    CU_ASSERT_EQUAL(g->fam->ndefs, 2);
    shmet_close(c2);
    t_teardown(&fx);
}

/* Slot idx's FAMILY definition named name: its id and overflow id. */
static bool arena_family(struct fixture *fx, uint32_t idx, const char *name, uint32_t *id,
                         uint32_t *ovf)
{
    struct shmet_abi_slot *sl = shmet__slot(&fx->seg, idx);
    uint64_t off = 0, used = atomic_load(&sl->arena_used);
    struct shmet__def_view v;

    while (shmet__arena_next(&fx->seg, idx, used, &off, fx->d.defbuf, sizeof(fx->d.defbuf), &v) >
           0)
        if (v.kind == SHMET_DEF_FAMILY && v.name.len == strlen(name) &&
            memcmp(v.name.ptr, name, v.name.len) == 0) {
            *id = v.id;
            *ovf = v.overflow_series;
            return true;
        }
    return false;
}

/* A series other than the declared __overflow__ whose value reads
 * "__overflow__" is refused with its samples (a hostile or old producer);
 * the declared one reaches the placeholder by id, counted as an arena
 * fold; the placeholder is no series of the count. */
static void test_define_reserved_value_refused(void)
{
    struct fixture fx;
    struct shmet_family *f;
    struct shmet_series alice;
    uint32_t fid = 0, ovf = 0;
    uint64_t off;

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "u_total", "", (const char *[]){"user", "zone", NULL},
                                  &f), 0);
    shmet_series_get(f, (const char *[]){"alice", "eu"}, &alice);
    shmet_inc(alice);
    uint32_t idx = t_own_slot(&fx);
    CU_ASSERT_FATAL(arena_family(&fx, idx, "u_total", &fid, &ovf));
    const char *evil[] = {"mallory", SHMET_OVERFLOW_VALUE};
    CU_ASSERT_EQUAL_FATAL(shmet__arena_put_series(&fx.seg, idx, 900, fid, evil, 2, &off), 0);
    const char *all[] = {SHMET_OVERFLOW_VALUE, SHMET_OVERFLOW_VALUE};
    CU_ASSERT_EQUAL_FATAL(shmet__arena_put_series(&fx.seg, idx, 901, fid, all, 2, &off), 0);
    t_raw_push(&fx, idx, 900, SHMET_OP_COUNTER_ADD, 5);
    t_raw_push(&fx, idx, 901, SHMET_OP_COUNTER_ADD, 6);
    t_raw_push(&fx, idx, ovf, SHMET_OP_COUNTER_ADD, 2);
    t_raw_push(&fx, idx, ovf, SHMET_OP_COUNTER_ADD, 1);
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_RESERVED_VALUE], 4); /* 2 definitions, 2 samples */
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 4);
    struct store_family *sf = store_family_find(&fx.st, "u_total", 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf->overflow);
    CU_ASSERT_EQUAL(sf->overflow->v.counter, 3);
    CU_ASSERT_EQUAL(sf->overflow_samples[STORE_FOLD_ARENA], 2);
    CU_ASSERT_EQUAL(sf->overflow_samples[STORE_FOLD_CARDINALITY], 0);
    CU_ASSERT_EQUAL(store_family_series(sf), 1); /* alice */
    CU_ASSERT_EQUAL(sf->nseries, 2);
    CU_ASSERT_EQUAL(fx.st.nseries, 1);
    t_teardown(&fx);
}

/* Both folds for real: a producer whose arena is full records into its
 * family's __overflow__ series, and label sets beyond the aggregator's cap
 * fold into the same placeholder; each counted by reason. */
static void test_define_overflow_reasons(void)
{
    struct fixture fx;
    struct shmet_family *f;
    struct shmet_series s[200];
    char v[16];
    const char *vals[] = {v, NULL};

    t_setup_with(&fx, 1024, 4096, 10);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "af_total", "", (const char *[]){"k", NULL}, &f), 0);
    for (unsigned i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "v%04u", i);
        CU_ASSERT_EQUAL(shmet_series_get(f, vals, &s[i]), 0);
        shmet_inc(s[i]);
    }
    uint32_t idx = t_own_slot(&fx);
    uint64_t arena_dropped = atomic_load(&shmet__slot(&fx.seg, idx)->arena_dropped);
    CU_ASSERT_FATAL(arena_dropped > 0 && arena_dropped < 190);
    CU_ASSERT_EQUAL(drain_all(&fx.d), 200);
    struct store_family *sf = store_family_find(&fx.st, "af_total", 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sf);
    CU_ASSERT_EQUAL(sf->overflow_samples[STORE_FOLD_ARENA], arena_dropped);
    CU_ASSERT_EQUAL(sf->overflow_samples[STORE_FOLD_CARDINALITY], 200 - arena_dropped - 10);
    CU_ASSERT_EQUAL(sf->folded, 200 - arena_dropped - 10);
    CU_ASSERT_EQUAL(sf->overflow->v.counter, 190);
    CU_ASSERT_EQUAL(store_family_series(sf), 10);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 0);
    t_teardown(&fx);
}

/* ---- random definitions and records ---------------------------------- */

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static uint32_t pick(uint64_t *x, uint32_t n)
{
    return (uint32_t)(xorshift(x) % n);
}

/* What the random producer defined (the last definition of an id wins
 * here, while the aggregator keeps the first: a reused id is refused). */
struct rnd {
    uint64_t x;
    int8_t fam_nlabels[30]; /* -1: not defined */
    uint8_t fam_type[30];
    uint32_t fam_ovf[30]; /* the __overflow__ series id it declared */
    uint8_t ser_type[80]; /* 0: not defined */
    uint32_t nfam;        /* family definitions written */
};

/* A family definition drawn from small pools: three names, each of one
 * type but now and then, zero to three of three label names in any order, three helps,
 * three bucket layouts, any gauge mode; some ids reused. */
static void random_family(struct fixture *fx, uint32_t idx, struct rnd *r)
{
    static const char *const names[] = {"fa_total", "fb", "fc"}, *const helps[] = {"", "h1", "h2"};
    static const char *const pool[] = {"a", "b", "c"};
    static const double b0[] = {1, 2}, b1[] = {1, 5}, b2[] = {0.5};
    static const double *const bounds[] = {b0, b1, b2};
    static const uint32_t nb[] = {2, 2, 1};
    const char *labels[3];
    uint16_t n = (uint16_t)pick(&r->x, 4);
    uint32_t first = pick(&r->x, 3), layout = pick(&r->x, 3), name = pick(&r->x, 3);
    uint64_t off;

    for (uint16_t i = 0; i < n; i++)
        labels[i] = pool[(first + i) % 3];
    struct shmet__family_def f = {
        .id = pick(&r->x, 30),
        /* another type now and then, once every name has its own */
        .type = (uint8_t)(r->nfam++ > 12 && pick(&r->x, 6) == 0 ? 1 + pick(&r->x, 3) : 1 + name),
        .gauge_mode = (uint8_t)pick(&r->x, 4), .overflow_series = 100 + pick(&r->x, 20),
        .name = names[name], .help = helps[pick(&r->x, 3)], .labels = labels, .nlabels = n};
    if (f.type == SHMET_TYPE_HISTOGRAM) {
        f.bounds = bounds[layout];
        f.nbounds = nb[layout];
    }
    CU_ASSERT_EQUAL(shmet__arena_put_family(&fx->seg, idx, &f, &off), 0);
    if (r->fam_nlabels[f.id] < 0) { /* the aggregator keeps the first */
        r->fam_nlabels[f.id] = (int8_t)n;
        r->fam_type[f.id] = f.type;
        r->fam_ovf[f.id] = f.overflow_series;
    }
}

/* A series of a defined family mostly, with as many values as it has
 * labels mostly; values from a pool with "" and "__overflow__". */
static void random_series(struct fixture *fx, uint32_t idx, struct rnd *r)
{
    static const char *const pool[] = {"", "x", "y", "z", "w", SHMET_OVERFLOW_VALUE};
    const char *values[3];
    uint32_t fam = pick(&r->x, 31), id = pick(&r->x, 80);
    uint16_t n = (uint16_t)pick(&r->x, 4);
    uint64_t off;

    if (fam < 30 && r->fam_nlabels[fam] >= 0 && pick(&r->x, 8) != 0)
        n = (uint16_t)r->fam_nlabels[fam];
    if (fam < 30 && r->fam_nlabels[fam] >= 0 && pick(&r->x, 8) == 0)
        id = r->fam_ovf[fam] - 100; /* its declared __overflow__ */
    for (uint16_t i = 0; i < n; i++)
        values[i] = pool[pick(&r->x, 6)];
    CU_ASSERT_EQUAL(shmet__arena_put_series(&fx->seg, idx, 100 + id, fam, values, n, &off), 0);
    if (fam < 30 && r->ser_type[id] == 0)
        r->ser_type[id] = r->fam_type[fam];
}

/* A record for a random id, mostly of an op that fits its type. */
static void random_record(struct fixture *fx, uint32_t idx, struct rnd *r)
{
    static const double vals[] = {1, 0.5, 3, -1, NAN, 1e300};
    static const uint16_t fits[] = {0, SHMET_OP_COUNTER_ADD, SHMET_OP_GAUGE_SET, SHMET_OP_OBSERVE};
    uint32_t id = pick(&r->x, 86);
    uint16_t op = (uint16_t)(1 + pick(&r->x, 6));

    if (id < 80 && r->ser_type[id] != 0 && pick(&r->x, 4) != 0)
        op = fits[r->ser_type[id]] + (r->ser_type[id] == SHMET_TYPE_GAUGE && pick(&r->x, 2));
    t_raw_push(fx, idx, 100 + id, op, vals[pick(&r->x, 6)]);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Append s to dst (cap bytes, NUL-terminated), cut to fit. */
static void append(char *dst, size_t cap, const char *s, size_t n)
{
    size_t at = strlen(dst);

    if (n > cap - 1 - at)
        n = cap - 1 - at;
    memcpy(dst + at, s, n);
    dst[at + n] = '\0';
}

/* Sample lines whose label sets, as Prometheus reads them (sorted, empty
 * values dropped), were seen before. */
static int duplicate_series(const char *text)
{
    enum { KEYS = 4096, KEY = 640 };
    char (*keys)[KEY] = calloc(KEYS, KEY);
    int n = 0, dup = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(keys);
    for (const char *l = text; *l != '\0'; l = strchr(l, '\n') + 1) {
        const char *end = strchr(l, '\n'), *brace = memchr(l, '{', (size_t)(end - l));
        char pairs[8][64] = {{0}}, key[KEY] = "";
        int np = 0;
        if (*l == '#')
            continue;
        append(key, sizeof(key), l, (size_t)((brace ? brace : strchr(l, ' ')) - l));
        for (const char *p = brace; p != NULL && *p != '}';) {
            const char *q = strchr(p + 1, '"'), *close = strchr(q + 1, '"');
            if (close > q + 1 && np < 8) /* a non-empty value */
                append(pairs[np++], sizeof(pairs[0]), p + 1, (size_t)(close + 1 - (p + 1)));
            p = close + 1;
        }
        qsort(pairs, (size_t)np, sizeof(pairs[0]), cmp_str);
        for (int i = 0; i < np; i++) {
            append(key, sizeof(key), "|", 1);
            append(key, sizeof(key), pairs[i], strlen(pairs[i]));
        }
        for (int i = 0; i < n; i++)
            dup += strcmp(keys[i], key) == 0;
        if (n < KEYS)
            memcpy(keys[n++], key, sizeof(key));
    }
    free(keys);
    return dup;
}

/* The exposition without the lines of gauge families (whose SUM, MAX and
 * MIN values are their producers', not the checkpoint's). */
static char *without_gauges(struct store *st)
{
    struct buf b, out;
    char gauges[16][64];
    int ng = 0;

    buf_init(&b);
    buf_init(&out);
    CU_ASSERT_EQUAL(expo_render(st, EXPO_TEXT, NULL, &b), 0);
    buf_char(&b, '\0');
    for (const char *l = b.data; *l != '\0'; l = strchr(l, '\n') + 1)
        if (strncmp(l, "# TYPE ", 7) == 0 && strncmp(strchr(l + 7, ' '), " gauge\n", 7) == 0 &&
            ng < 16)
            snprintf(gauges[ng++], sizeof(gauges[0]), "%.*s", (int)(strchr(l + 7, ' ') - l - 7),
                     l + 7);
    for (const char *l = b.data; *l != '\0'; l = strchr(l, '\n') + 1) {
        const char *name = l[0] == '#' ? l + 7 : l, *end = strchr(l, '\n');
        size_t n = strcspn(name, "{ ");
        bool skip = false;
        for (int i = 0; i < ng; i++)
            skip |= strlen(gauges[i]) == n && memcmp(gauges[i], name, n) == 0;
        if (!skip)
            buf_put(&out, l, (size_t)(end + 1 - l));
    }
    buf_char(&out, '\0');
    buf_free(&b);
    return out.data;
}

static void test_define_random_definitions(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;
    char path[] = "/tmp/shmet_drain_ckpt_XXXXXX", err[256];
    struct rnd r = {.x = 0x2545f4914f6cdd1dULL};

    t_setup_with(&fx, 1024, 0, 6); /* a low cap: label sets fold */
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "own_total", "", NULL, &c), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_inc(cs);
    uint32_t idx = t_own_slot(&fx);
    memset(r.fam_nlabels, -1, sizeof(r.fam_nlabels));
    for (int i = 0; i < 400; i++) {
        if (pick(&r.x, 3) == 0)
            random_family(&fx, idx, &r);
        else
            random_series(&fx, idx, &r);
    }
    t_raw_push(&fx, idx, 999999, SHMET_OP_COUNTER_ADD, 1); /* unknown: reads every definition */
    drain_all(&fx.d);
    uint64_t before = drain_invalid_total(&fx.d), applied = fx.d.samples_total;
    const uint32_t n = 6000;
    for (uint32_t i = 0; i < n; i++) {
        random_record(&fx, idx, &r);
        if (i % 500 == 499)
            drain_all(&fx.d);
    }
    drain_all(&fx.d);
    /* every record applied or refused, exactly once */
    CU_ASSERT_EQUAL(fx.d.samples_total - applied + drain_invalid_total(&fx.d) - before, n);
    CU_ASSERT(fx.d.samples_total - applied > n / 10);
    /* no user series holds the reserved value; placeholders are no series */
    uint64_t user = 0, reserved = 0;
    for (uint32_t i = 0; i < fx.st.nfamilies; i++) {
        struct store_family *f = fx.st.families[i];
        user += store_family_series(f);
        for (uint32_t k = 0; k < f->nseries; k++)
            for (uint16_t j = 0; !f->series[k]->overflow && j < f->series[k]->def->nlabels; j++)
                reserved += strcmp(f->series[k]->values[j], SHMET_OVERFLOW_VALUE) == 0;
    }
    CU_ASSERT_EQUAL(user, fx.st.nseries);
    CU_ASSERT_EQUAL(reserved, 0);
    CU_ASSERT(fx.d.invalid[INV_RESERVED_VALUE] > 0);

    struct buf b;
    buf_init(&b);
    CU_ASSERT_EQUAL_FATAL(expo_render(&fx.st, EXPO_TEXT, NULL, &b), 0);
    buf_char(&b, '\0');
    CU_ASSERT_EQUAL(duplicate_series(b.data), 0);
    b.len = 0;
    CU_ASSERT_EQUAL(expo_render(&fx.st, EXPO_OPENMETRICS, NULL, &b), 0);
    b.len = 0;
    struct debug_ctx dc = {.seg = &fx.seg, .st = &fx.st, .path = "-", .attached = true};
    CU_ASSERT_EQUAL_FATAL(debug_render(&dc, &b), 0);
    json_t *doc = json_loadb(b.data, b.len, 0, NULL);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "families")), fx.st.nfamilies);
    json_decref(doc);
    buf_free(&b);

    /* what is served comes back from a checkpoint, but for live gauges */
    struct store back;
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(store_init(&back, 6), 0);
    CU_ASSERT_EQUAL(checkpoint_save(&fx.st, NULL, path), 0);
    CU_ASSERT(checkpoint_take(&back, NULL, path, err, sizeof(err)) >= 0);
    char *want = without_gauges(&fx.st), *got = without_gauges(&back);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT(strlen(want) > 100);
    free(want);
    free(got);
    store_fini(&back);
    unlink(path);
    t_teardown(&fx);
}

static void test_define_slot_hostile_arena(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "y_total", "", NULL, &c), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_inc(cs);
    uint32_t idx = t_own_slot(&fx);
    /* Corrupt the family entry's name before the aggregator ever reads it. */
    uint8_t *arena = shmet__slot_arena(&fx.seg, idx);
    memcpy(arena + 16 + 16 + 4, "9", 1); /* name now starts with a digit */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_DEFINITION], 2); /* family, then its series */
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 1);
    CU_ASSERT_EQUAL(fx.st.nfamilies, 0);
    t_teardown(&fx);
}

/* A DEFINE record binds the entry it names when it comes: a series
 * defined and not yet recorded is in the store after one drain. A record
 * naming no entry start, an entry of another kind, or an offset beyond
 * the arena is refused; one naming an entry already read changes
 * nothing. */
static void test_define_define_record_offset(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;
    const char *v[] = {"a"};

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "d_total", "", (const char *[]){"k", NULL}, &c), 0);
    CU_ASSERT_EQUAL(shmet_series_get(c, v, &cs), 0);
    shmet_inc(cs); /* the producer writes its definitions at the first record */
    uint32_t idx = t_own_slot(&fx);
    uint64_t used = shmet__slot(&fx.seg, idx)->arena_used;
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(t_find(&fx.st, "d_total", "a")->v.counter, 1);
    t_raw_define(&fx, idx, SHMET_DEF_FAMILY, 0);        /* read already: nothing */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_DEFINITION], 0);
    t_raw_define(&fx, idx, SHMET_DEF_SERIES, used + 8); /* beyond the arena */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_DEFINITION], 1);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_OP], 0);
    /* The client's (family, series and the family's placeholder) and ours. */
    CU_ASSERT_EQUAL(fx.d.defines, shmet__slot(&fx.seg, idx)->defines + 2);
    t_teardown(&fx);
}

/* A DEFINE record whose kind is not the kind of the entry it names is
 * refused; the entry itself is still read (the arena is the truth). */
static void test_define_define_record_kind(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series a;
    const char *va[] = {"a"};

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "k_total", "", (const char *[]){"k", NULL}, &c), 0);
    CU_ASSERT_EQUAL(shmet_series_get(c, va, &a), 0);
    shmet_inc(a);
    uint32_t idx = t_own_slot(&fx);
    struct shmet_abi_record *r = shmet__slot_ring(&fx.seg, idx);
    CU_ASSERT_EQUAL_FATAL(r[0].op, SHMET_OP_DEFINE);
    CU_ASSERT_EQUAL_FATAL(r[1].op, SHMET_OP_DEFINE);
    CU_ASSERT_EQUAL_FATAL(r[1].aux, SHMET_DEF_SERIES);
    r[1].aux = SHMET_DEF_FAMILY; /* names the series entry as a family */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_DEFINITION], 1);
    CU_ASSERT_EQUAL(t_find(&fx.st, "k_total", "a")->v.counter, 1);
    t_teardown(&fx);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_define_define_record_offset", test_define_define_record_offset},
        {"test_define_define_record_kind", test_define_define_record_kind},
        {"test_define_family_conflict_between_slots", test_define_family_conflict_between_slots},
        {"test_define_rolling_deploy_labels", test_define_rolling_deploy_labels},
        {"test_define_rolling_deploy_layouts", test_define_rolling_deploy_layouts},
        {"test_define_reserved_value_refused", test_define_reserved_value_refused},
        {"test_define_overflow_reasons", test_define_overflow_reasons},
        {"test_define_random_definitions", test_define_random_definitions},
        {"test_define_slot_hostile_arena", test_define_slot_hostile_arena},
    };
    return T_RUN("drain", tests);
}

