/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/test_store.c - the global store: family get/create and
 * conflicts, series interning at scale, the per-family cap and its
 * __overflow__ fold, gauge modes over producer contributions, histogram
 * buckets (le inclusive), and the sorted views.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

#include "store.h"
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
    s.type = SHMET_TYPE_GAUGE;
    CU_ASSERT_EQUAL(store_family(&st, &s, &b), -EEXIST);
    uint32_t lens2[1];
    struct family_spec s2 = spec("reqs_total", SHMET_TYPE_COUNTER, l2, lens2, 1);
    CU_ASSERT_EQUAL(store_family(&st, &s2, &b), -EEXIST);
    double bounds[] = {1, 2}, bounds2[] = {1, 3};
    struct family_spec h = spec("lat", SHMET_TYPE_HISTOGRAM, NULL, NULL, 0);
    h.bounds = bounds;
    h.nbounds = 2;
    CU_ASSERT_EQUAL(store_family(&st, &h, &a), 0);
    h.bounds = bounds2;
    CU_ASSERT_EQUAL(store_family(&st, &h, &b), -EEXIST);
    struct family_spec g = spec("g", SHMET_TYPE_GAUGE, NULL, NULL, 0);
    g.gauge_mode = SHMET_GAUGE_MAX;
    CU_ASSERT_EQUAL(store_family(&st, &g, &a), 0);
    g.gauge_mode = SHMET_GAUGE_MIN;
    CU_ASSERT_EQUAL(store_family(&st, &g, &b), -EEXIST);
    CU_ASSERT_EQUAL(st.nfamilies, 3);
    CU_ASSERT_PTR_NOT_NULL(store_family_find(&st, "lat", 3));
    CU_ASSERT_PTR_NULL(store_family_find(&st, "la", 2));
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
    CU_ASSERT(store_series_visible(d)); /* folded into: shown */
    CU_ASSERT(store_series_visible(a));
    /* An __overflow__ series defined up front, never reached: hidden. */
    struct store_family *g;
    uint32_t lens2[1];
    struct family_spec s2 = spec("g_total", SHMET_TYPE_COUNTER, l, lens2, 1);
    CU_ASSERT_EQUAL_FATAL(store_family(&st, &s2, &g), 0);
    CU_ASSERT(!store_series_visible(series1(&st, g, SHMET_OVERFLOW_VALUE)));
    CU_ASSERT_STRING_EQUAL(d->values[0], SHMET_OVERFLOW_VALUE);
    CU_ASSERT_EQUAL(f->folded, 2);
    CU_ASSERT_EQUAL(f->nseries, 4); /* a b c + __overflow__ */
    CU_ASSERT_PTR_EQUAL(series1(&st, f, "a"), a); /* existing series still found */
    CU_ASSERT_EQUAL(f->folded, 2);
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
    store_fini(&st);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_store_family_get_or_conflict", test_store_family_get_or_conflict},
        {"test_store_series_many", test_store_series_many},
        {"test_store_series_cap_overflow", test_store_series_cap_overflow},
        {"test_store_gauge_modes", test_store_gauge_modes},
        {"test_store_observe_le_inclusive", test_store_observe_le_inclusive},
        {"test_store_sorted_views", test_store_sorted_views},
    };
    return T_RUN("store", tests);
}
