/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/store/test_store.c - the global store: family get/create,
 * several definitions of one family (a rolling deploy) and the type
 * conflict, series by label set (order and empty values do not count),
 * each series keeping its maker's buckets and gauge mode, series
 * interning at scale, the per-family cap and the __overflow__
 * placeholder known by identity, gauge modes over producer
 * contributions, histogram buckets (le inclusive), and the sorted views.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

#include "store/store.h"
#include "t_util.h"

static struct family_spec spec(const char *name, uint8_t type, const char *const *labels,
                               uint32_t *lens, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        lens[i] = (uint32_t)strlen(labels[i]);
    return (struct family_spec){.name = name, .name_len = strlen(name), .help = "h",
                                .help_len = 1, .type = type, .nlabels = n,
                                .labels = labels, .label_lens = lens};
}

static struct store_series *series1(struct store *st, struct store_family *f, const char *v)
{
    const char *vals[1] = {v};
    uint32_t lens[1] = {(uint32_t)strlen(v)};
    struct store_series *s = NULL;

    CU_ASSERT_EQUAL(store_series(st, f, vals, lens, &s), 0);
    return s;
}

static void test_store_family_get_or_conflict(void)
{
    const char *l1[] = {"method"}, *l2[] = {"path"};
    uint32_t lens[1];
    struct store st;
    struct store_family *a, *b;
    struct family_spec s = spec("reqs_total", SHMET_TYPE_COUNTER, l1, lens, 1);

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL(store_family(&st, &s, &a), 0);
    CU_ASSERT_EQUAL(store_family(&st, &s, &b), 0);
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_EQUAL(a->ndefs, 1);
    s.type = SHMET_TYPE_GAUGE; /* another type: refused */
    CU_ASSERT_EQUAL(store_family(&st, &s, &b), -EEXIST);
    uint32_t lens2[1];
    struct family_spec s2 = spec("reqs_total", SHMET_TYPE_COUNTER, l2, lens2, 1);
    CU_ASSERT_EQUAL(store_family(&st, &s2, &b), 0); /* other labels: a second definition */
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_EQUAL(a->ndefs, 2);
    double bounds[] = {1, 2}, bounds2[] = {1, 3};
    struct family_spec h = spec("lat", SHMET_TYPE_HISTOGRAM, NULL, NULL, 0);
    h.bounds = bounds;
    h.nbounds = 2;
    CU_ASSERT_EQUAL(store_family(&st, &h, &a), 0);
    h.bounds = bounds2;
    CU_ASSERT_EQUAL(store_family(&st, &h, &b), 0);
    CU_ASSERT(a == b && a->ndefs == 2 && a->cur->bounds[1] == 3);
    struct family_spec g = spec("g", SHMET_TYPE_GAUGE, NULL, NULL, 0);
    g.gauge_mode = SHMET_GAUGE_MAX;
    CU_ASSERT_EQUAL(store_family(&st, &g, &a), 0);
    g.gauge_mode = SHMET_GAUGE_MIN;
    CU_ASSERT_EQUAL(store_family(&st, &g, &b), 0);
    CU_ASSERT(a == b && a->ndefs == 2 && a->cur->gauge_mode == SHMET_GAUGE_MIN);
    CU_ASSERT_EQUAL(st.nfamilies, 3);
    CU_ASSERT_PTR_NOT_NULL(store_family_find(&st, "lat", 3));
    CU_ASSERT_PTR_NULL(store_family_find(&st, "la", 2));
    store_fini(&st);
}

/* A rolling deploy: the same name with other labels, help or buckets is
 * one more definition; the newest gives the help; the first one defined
 * again is found, not added; a label twice, or too many definitions,
 * are refused. */
static void test_store_define_variants(void)
{
    const char *old_l[] = {"method"}, *new_l[] = {"method", "code"}, *twice[] = {"a", "a"};
    uint32_t lo[1], ln[2], lt[2];
    struct family_spec a = spec("http_requests_total", SHMET_TYPE_COUNTER, old_l, lo, 1);
    struct family_spec b = spec("http_requests_total", SHMET_TYPE_COUNTER, new_l, ln, 2);
    struct store_def *da, *db, *dc, *again;
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    a.help = "Old.";
    a.help_len = 4;
    b.help = "New.";
    b.help_len = 4;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &a, &da), 0);
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &b, &db), 0);
    CU_ASSERT_PTR_EQUAL(da->fam, db->fam);
    CU_ASSERT(da != db && da->index == 0 && db->index == 1);
    CU_ASSERT_STRING_EQUAL(db->fam->cur->help, "New.");
    CU_ASSERT_EQUAL(store_define(&st, &a, &again), 0); /* an old worker again */
    CU_ASSERT_PTR_EQUAL(again, da);
    CU_ASSERT_STRING_EQUAL(db->fam->cur->help, "New."); /* still the newest */
    b.help = "Newer.";
    b.help_len = 6;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &b, &dc), 0); /* help alone changed */
    CU_ASSERT(dc != db && dc->index == 2);
    CU_ASSERT_STRING_EQUAL(dc->fam->cur->help, "Newer.");
    char text[64];
    store_def_describe(dc, text, sizeof(text));
    CU_ASSERT_STRING_EQUAL(text, "counter [method,code]");
    struct family_spec t = spec("dup_total", SHMET_TYPE_COUNTER, twice, lt, 2);
    CU_ASSERT_EQUAL(store_define(&st, &t, &again), -EINVAL);
    CU_ASSERT_PTR_NULL(store_family_find(&st, "dup_total", 9));
    char help[16];
    a.help = help;
    for (uint32_t i = 3; i < STORE_DEFS_MAX; i++) {
        a.help_len = (size_t)snprintf(help, sizeof(help), "v%u", i);
        CU_ASSERT_EQUAL(store_define(&st, &a, &again), 0);
    }
    CU_ASSERT_EQUAL(da->fam->ndefs, STORE_DEFS_MAX);
    a.help_len = (size_t)snprintf(help, sizeof(help), "one more");
    CU_ASSERT_EQUAL(store_define(&st, &a, &again), -ENOSPC);
    CU_ASSERT_EQUAL(store_define(&st, &b, &again), 0); /* known ones still are */
    CU_ASSERT_PTR_EQUAL(again, dc);
    store_fini(&st);
}

/* The series of def with values v (n of them). */
static struct store_series *ser(struct store *st, struct store_def *d, const char *const *v,
                                int want_rc)
{
    uint32_t lens[4];
    struct store_series *s = NULL;

    for (uint16_t i = 0; i < d->nlabels; i++)
        lens[i] = (uint32_t)strlen(v[i]);
    CU_ASSERT_EQUAL(store_series_def(st, d, v, lens, &s), want_rc);
    return s;
}

/* Series are label sets, as Prometheus sees them: the order of the labels
 * and labels with empty values do not count; a series keeps the labels
 * and definition of its maker. */
static void test_store_series_label_set_identity(void)
{
    const char *la[] = {"method"}, *lb[] = {"method", "code"}, *lc[] = {"code", "method"};
    uint32_t a_[1], b_[2], c_[2];
    struct family_spec sa = spec("r_total", SHMET_TYPE_COUNTER, la, a_, 1);
    struct family_spec sb = spec("r_total", SHMET_TYPE_COUNTER, lb, b_, 2);
    struct family_spec sc = spec("r_total", SHMET_TYPE_COUNTER, lc, c_, 2);
    struct store_def *da, *db, *dc;
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &sa, &da), 0);
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &sb, &db), 0);
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &sc, &dc), 0);
    struct store_series *get = ser(&st, da, (const char *[]){"GET"}, 0);
    struct store_series *get200 = ser(&st, db, (const char *[]){"GET", "200"}, 0);
    CU_ASSERT(get != get200);
    CU_ASSERT_PTR_EQUAL(ser(&st, db, (const char *[]){"GET", ""}, 0), get); /* code="" */
    CU_ASSERT_PTR_EQUAL(ser(&st, dc, (const char *[]){"200", "GET"}, 0), get200);
    CU_ASSERT_PTR_EQUAL(ser(&st, dc, (const char *[]){"", "GET"}, 0), get);
    CU_ASSERT(ser(&st, db, (const char *[]){"200", "GET"}, 0) != get200); /* values swapped */
    CU_ASSERT(ser(&st, db, (const char *[]){"", ""}, 0) != get);
    CU_ASSERT_PTR_EQUAL(get->def, da);
    CU_ASSERT_PTR_EQUAL(get200->def, db);
    CU_ASSERT_EQUAL(da->fam->nseries, 4);
    CU_ASSERT_EQUAL(st.nseries, 4);
    CU_ASSERT(da->nseries == 1 && db->nseries == 3 && dc->nseries == 0);
    /* {} of a definition without labels is {method="",code=""} */
    struct family_spec s0 = spec("r_total", SHMET_TYPE_COUNTER, NULL, NULL, 0);
    struct store_def *d0;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &s0, &d0), 0);
    CU_ASSERT_PTR_EQUAL(ser(&st, d0, NULL, 0), ser(&st, db, (const char *[]){"", ""}, 0));
    store_fini(&st);
}

/* Each series counts into the buckets and combines by the gauge mode of
 * the definition that made it, whichever definition finds it. */
static void test_store_series_keeps_maker_layout(void)
{
    const char *l[] = {"route"};
    uint32_t lens[1];
    double old_b[] = {0.1, 1}, new_b[] = {0.5, 1, 5};
    struct family_spec h = spec("lat", SHMET_TYPE_HISTOGRAM, l, lens, 1);
    struct store_def *dold, *dnew, *gsum, *gmax;
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    h.bounds = old_b;
    h.nbounds = 2;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &h, &dold), 0);
    h.bounds = new_b;
    h.nbounds = 3;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &h, &dnew), 0);
    CU_ASSERT(!store_def_same_layout(dold, dnew));
    struct store_series *a = ser(&st, dold, (const char *[]){"/a"}, 0);
    struct store_series *a2 = ser(&st, dnew, (const char *[]){"/a"}, 0);
    struct store_series *b = ser(&st, dnew, (const char *[]){"/b"}, 0);
    CU_ASSERT_PTR_EQUAL(a, a2);
    CU_ASSERT(a->def == dold && b->def == dnew);
    double obs[] = {0.05, 0.3, 0.7, 3, 7};
    for (int i = 0; i < 5; i++) {
        store_observe(a2, obs[i]);
        store_observe(b, obs[i]);
    }
    CU_ASSERT(a->v.h.buckets[0] == 1 && a->v.h.buckets[1] == 2 && a->v.h.buckets[2] == 2);
    CU_ASSERT(b->v.h.buckets[0] == 2 && b->v.h.buckets[1] == 1 && b->v.h.buckets[2] == 1 &&
              b->v.h.buckets[3] == 1);
    CU_ASSERT(a->v.h.count == 5 && b->v.h.count == 5);
    CU_ASSERT(a->v.h.sum == 0.05 + 0.3 + 0.7 + 3 + 7 && b->v.h.sum == a->v.h.sum);

    struct family_spec g = spec("conns", SHMET_TYPE_GAUGE, NULL, NULL, 0);
    g.gauge_mode = SHMET_GAUGE_SUM;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &g, &gsum), 0);
    g.gauge_mode = SHMET_GAUGE_MAX;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &g, &gmax), 0);
    struct store_series *gs = ser(&st, gsum, NULL, 0);
    CU_ASSERT_PTR_EQUAL(ser(&st, gmax, NULL, 0), gs);
    struct gauge_contrib *c1 = store_gauge_join(gs), *c2 = store_gauge_join(gs);
    c1->value = 3;
    c2->value = 4;
    CU_ASSERT_EQUAL(store_gauge_value(gs), 7); /* SUM, its maker's mode */
    store_gauge_leave(c1);
    store_gauge_leave(c2);
    store_fini(&st);
}

/* The placeholder is known by identity: a series whose values read
 * "__overflow__" is another series, and the placeholder is no series of
 * the count. */
static void test_store_overflow_identity(void)
{
    const char *l[] = {"user"};
    uint32_t lens[1];
    struct family_spec s = spec("u_total", SHMET_TYPE_COUNTER, l, lens, 1);
    struct store_def *d;
    struct store_series *p, *q, *look;
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &s, &d), 0);
    CU_ASSERT_EQUAL_FATAL(store_overflow(&st, d, &p), 0);
    CU_ASSERT(p->overflow && !p->touched && !store_series_visible(p));
    CU_ASSERT_STRING_EQUAL(p->values[0], SHMET_OVERFLOW_VALUE);
    CU_ASSERT_EQUAL_FATAL(store_overflow(&st, d, &q), 0);
    CU_ASSERT_PTR_EQUAL(p, q);
    look = ser(&st, d, (const char *[]){SHMET_OVERFLOW_VALUE}, 0);
    CU_ASSERT(look != p && !look->overflow);
    CU_ASSERT_EQUAL(d->fam->nseries, 2);
    CU_ASSERT_EQUAL(store_family_series(d->fam), 1);
    CU_ASSERT_EQUAL(st.nseries, 1);
    CU_ASSERT_EQUAL(d->nseries, 1);
    store_fini(&st);
}

/* Definitions of another type are noted once per type, described. */
static void test_store_conflict_note(void)
{
    const char *l[] = {"method", "code"};
    uint32_t lens[2];
    struct family_spec c = spec("x_total", SHMET_TYPE_COUNTER, l, lens, 1);
    struct family_spec g = spec("x_total", SHMET_TYPE_GAUGE, l, lens, 2);
    struct store_family *f;
    struct store st;
    bool first;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &c, &f), 0);
    CU_ASSERT_EQUAL(store_family(&st, &g, &f), -EEXIST);
    struct store_conflict *k = store_conflict_note(f, &g, &first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT(first);
    CU_ASSERT_STRING_EQUAL(k->labels, "method,code");
    CU_ASSERT_EQUAL(k->type, SHMET_TYPE_GAUGE);
    CU_ASSERT_PTR_EQUAL(store_conflict_note(f, &g, &first), k);
    CU_ASSERT(!first);
    CU_ASSERT_PTR_EQUAL(f->conflicts[SHMET_TYPE_GAUGE], k);
    CU_ASSERT_PTR_NULL(f->conflicts[SHMET_TYPE_HISTOGRAM]);
    store_fini(&st);
}

static void test_store_series_many(void)
{
    const char *l[] = {"id"};
    uint32_t lens[1];
    struct store st;
    struct store_family *f;
    struct family_spec s = spec("c_total", SHMET_TYPE_COUNTER, l, lens, 1);
    char v[32];

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 1000000), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s, &f), 0);
    for (int i = 0; i < 50000; i++) {
        snprintf(v, sizeof(v), "%d", i);
        series1(&st, f, v)->v.counter = i;
    }
    CU_ASSERT_EQUAL(f->nseries, 50000);
    CU_ASSERT_EQUAL(st.nseries, 50000);
    for (int i = 0; i < 50000; i += 7) {
        snprintf(v, sizeof(v), "%d", i);
        CU_ASSERT_EQUAL(series1(&st, f, v)->v.counter, i);
    }
    CU_ASSERT_EQUAL(f->nseries, 50000);
    store_fini(&st);
}

static void test_store_series_cap_overflow(void)
{
    const char *l[] = {"user"};
    uint32_t lens[1];
    struct store st;
    struct store_family *f;
    struct family_spec s = spec("c_total", SHMET_TYPE_COUNTER, l, lens, 1);

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 3), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s, &f), 0);
    struct store_series *a = series1(&st, f, "a");
    series1(&st, f, "b");
    series1(&st, f, "c");
    struct store_series *d = series1(&st, f, "d");
    struct store_series *e = series1(&st, f, "e");
    CU_ASSERT_PTR_EQUAL(d, e);
    CU_ASSERT(d->overflow);
    CU_ASSERT_PTR_EQUAL(f->overflow, d);
    CU_ASSERT(store_series_visible(d)); /* folded into: shown */
    CU_ASSERT(store_series_visible(a));
    const char *v[1] = {"f"};
    uint32_t vl[1] = {1};
    struct store_series *out;
    CU_ASSERT_EQUAL(store_series_def(&st, f->cur, v, vl, &out), 1); /* told it folded */
    CU_ASSERT_PTR_EQUAL(out, d);
    /* A placeholder defined up front, never reached: hidden. */
    struct store_family *g;
    struct store_series *gp;
    uint32_t lens2[1];
    struct family_spec s2 = spec("g_total", SHMET_TYPE_COUNTER, l, lens2, 1);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s2, &g), 0);
    CU_ASSERT_EQUAL_FATAL(store_overflow(&st, g->cur, &gp), 0);
    CU_ASSERT(!store_series_visible(gp));
    CU_ASSERT_STRING_EQUAL(d->values[0], SHMET_OVERFLOW_VALUE);
    CU_ASSERT_EQUAL(f->folded, 3);
    CU_ASSERT_EQUAL(f->nseries, 4); /* a b c + __overflow__ */
    CU_ASSERT_EQUAL(store_family_series(f), 3);
    CU_ASSERT_EQUAL(st.nseries, 3); /* placeholders are no series */
    CU_ASSERT_PTR_EQUAL(series1(&st, f, "a"), a); /* existing series still found */
    CU_ASSERT_EQUAL(f->folded, 3);
    store_fini(&st);
}

static void test_store_gauge_modes(void)
{
    static const uint8_t modes[] = {SHMET_GAUGE_SUM, SHMET_GAUGE_MAX, SHMET_GAUGE_MIN};
    static const double want_all[] = {6, 5, -1}, want_after[] = {7, 8, 8};
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    for (int m = 0; m < 3; m++) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", m);
        struct family_spec s = spec(name, SHMET_TYPE_GAUGE, NULL, NULL, 0);
        struct store_family *f;
        struct store_series *g = NULL;
        s.gauge_mode = modes[m];
        CU_ASSERT_EQUAL_FATAL(store_family(&st, &s, &f), 0);
        CU_ASSERT_EQUAL_FATAL(store_series(&st, f, NULL, NULL, &g), 0);
        if (m == 0) {
            CU_ASSERT_EQUAL(store_gauge_value(g), 0); /* SUM of nobody */
        } else {
            CU_ASSERT(isnan(store_gauge_value(g))); /* MAX/MIN of nobody: absent */
        }
        struct gauge_contrib *a = store_gauge_join(g), *b = store_gauge_join(g),
                             *c = store_gauge_join(g);
        a->value = 2;
        b->value = 5;
        c->value = -1;
        CU_ASSERT_EQUAL(store_gauge_value(g), want_all[m]);
        store_gauge_leave(c);
        store_gauge_leave(a);
        struct gauge_contrib *d = store_gauge_join(g);
        d->value = 8;
        b->value = 5 - (m == 0 ? 6 : -3); /* SUM: -1 + 8 = 7; MAX/MIN: 8, 8 */
        CU_ASSERT_EQUAL(store_gauge_value(g), want_after[m]);
        store_gauge_leave(b);
        store_gauge_leave(d);
        CU_ASSERT_EQUAL(g->v.g.ncontribs, 0);
    }
    struct family_spec s = spec("glast", SHMET_TYPE_GAUGE, NULL, NULL, 0);
    struct store_family *f;
    struct store_series *g = NULL;
    s.gauge_mode = SHMET_GAUGE_LAST;
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s, &f), 0);
    CU_ASSERT_EQUAL_FATAL(store_series(&st, f, NULL, NULL, &g), 0);
    store_gauge_set_last(&st, g, 3);
    store_gauge_set_last(&st, g, 9);
    CU_ASSERT_EQUAL(store_gauge_value(g), 9);
    store_fini(&st);
}

static void test_store_observe_le_inclusive(void)
{
    double bounds[] = {0.1, 1, 2.5};
    struct store st;
    struct store_family *f;
    struct store_series *s = NULL;
    struct family_spec sp = spec("lat", SHMET_TYPE_HISTOGRAM, NULL, NULL, 0);

    sp.bounds = bounds;
    sp.nbounds = 3;
    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &sp, &f), 0);
    CU_ASSERT_EQUAL_FATAL(store_series(&st, f, NULL, NULL, &s), 0);
    double obs[] = {0.05, 0.1, 0.1000001, 1, 2.5, 2.6, INFINITY, -3};
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
        store_observe(s, obs[i]);
    CU_ASSERT_EQUAL(s->v.h.buckets[0], 3); /* 0.05, 0.1, -3 */
    CU_ASSERT_EQUAL(s->v.h.buckets[1], 2); /* 0.1000001, 1 */
    CU_ASSERT_EQUAL(s->v.h.buckets[2], 1); /* 2.5 */
    CU_ASSERT_EQUAL(s->v.h.buckets[3], 2); /* 2.6, +Inf */
    CU_ASSERT_EQUAL(s->v.h.count, 8);
    CU_ASSERT(isinf(s->v.h.sum));
    store_fini(&st);
}

static void test_store_sorted_views(void)
{
    const char *l[] = {"k"};
    uint32_t lens[1];
    struct store st;
    struct store_family *f, *g;
    struct family_spec s1 = spec("zeta", SHMET_TYPE_COUNTER, l, lens, 1);
    struct family_spec s2 = spec("alpha", SHMET_TYPE_COUNTER, NULL, NULL, 0);

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s1, &f), 0);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s2, &g), 0);
    series1(&st, f, "b");
    series1(&st, f, "a");
    series1(&st, f, "c");
    struct store_family *const *fams = store_families_sorted(&st);
    CU_ASSERT_STRING_EQUAL(fams[0]->name, "alpha");
    CU_ASSERT_STRING_EQUAL(fams[1]->name, "zeta");
    struct store_series *const *ss = store_series_sorted(f);
    CU_ASSERT_STRING_EQUAL(ss[0]->values[0], "a");
    CU_ASSERT_STRING_EQUAL(ss[1]->values[0], "b");
    CU_ASSERT_STRING_EQUAL(ss[2]->values[0], "c");
    series1(&st, f, "0"); /* the view is rebuilt after a new series */
    ss = store_series_sorted(f);
    CU_ASSERT_STRING_EQUAL(ss[0]->values[0], "0");
    /* A second definition's series follow the first one's. */
    const char *l2[] = {"k", "z"};
    uint32_t lens2[2];
    struct family_spec s3 = spec("zeta", SHMET_TYPE_COUNTER, l2, lens2, 2);
    struct store_def *d2;
    struct store_series *n;
    CU_ASSERT_EQUAL_FATAL(store_define(&st, &s3, &d2), 0);
    CU_ASSERT_EQUAL(store_series_def(&st, d2, (const char *[]){"0", "x"}, (uint32_t[]){1, 1}, &n),
                    0);
    ss = store_series_sorted(f);
    CU_ASSERT_STRING_EQUAL(ss[0]->values[0], "0");
    CU_ASSERT_PTR_EQUAL(ss[4], n);
    store_fini(&st);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_store_family_get_or_conflict", test_store_family_get_or_conflict},
        {"test_store_define_variants", test_store_define_variants},
        {"test_store_series_label_set_identity", test_store_series_label_set_identity},
        {"test_store_series_keeps_maker_layout", test_store_series_keeps_maker_layout},
        {"test_store_overflow_identity", test_store_overflow_identity},
        {"test_store_conflict_note", test_store_conflict_note},
        {"test_store_series_many", test_store_series_many},
        {"test_store_series_cap_overflow", test_store_series_cap_overflow},
        {"test_store_gauge_modes", test_store_gauge_modes},
        {"test_store_observe_le_inclusive", test_store_observe_le_inclusive},
        {"test_store_sorted_views", test_store_sorted_views},
    };
    return T_RUN("store", tests);
}
