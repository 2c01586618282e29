/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/test_expo.c - exposition, byte-exact against golden
 * files for both formats (escaping of HELP and label values, constant
 * labels, cumulative buckets, OpenMetrics counter naming and # EOF), a
 * family with several definitions (one block, each series with its own
 * labels and buckets, constant labels shadowed per definition, the
 * newest help) and its __overflow__ placeholder. The text of the numbers
 * themselves is test_number.c's.
 */
#include <string.h>

#include <shmetrics.h>

#include "render/expo.h"
#include "t_render.h"
#include "t_util.h"

/* A store exercising every rule the golden files pin down. Returns the
 * gauge contribution it made (owned by the caller, as a producer's is). */
static struct gauge_contrib *populate(struct store *st)
{
    static const double bounds[] = {0.1, 1, 2.5};
    const char *ml[] = {"method", "path", NULL}, *el[] = {"endpoint", NULL};
    struct store_def *reqs = t_def(st, "http_requests_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM,
                                   "Requests \\ served.\nAll \"kinds\".", ml, NULL, 0);
    struct store_def *bytes = t_def(st, "bytes_sent", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "Bytes.", NULL, NULL, 0);
    struct store_def *inprog = t_def(st, "in_progress", SHMET_TYPE_GAUGE, SHMET_GAUGE_SUM, "", el, NULL, 0);
    struct store_def *lat =
        t_def(st, "latency_seconds", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "Latency.", el, bounds, 3);

    t_series(st, reqs, (const char *[]){"GET", "/a\"b\\c\nd"})->v.counter = 3;
    t_series(st, reqs, (const char *[]){"GET", "/"})->v.counter = 1e21;
    t_series(st, reqs, (const char *[]){"POST", "/ü"})->v.counter = 0.1 + 0.2;
    t_series(st, bytes, NULL)->v.counter = 12345;
    struct gauge_contrib *g = store_gauge_join(t_series(st, inprog, (const char *[]){"/x"}));
    g->value = -2;
    struct store_series *h = t_series(st, lat, (const char *[]){"/x"});
    double obs[] = {0.05, 0.1, 0.5, 3, 7};
    for (int i = 0; i < 5; i++)
        store_observe(h, obs[i]);
    t_series(st, lat, (const char *[]){"/empty"});
    return g;
}

static void check_golden(enum expo_format fmt, const char *file)
{
    static const struct const_label consts[] = {{"server", "web-1"}, {"method", "shadowed"}};
    struct expo_opts o = {consts, 2};
    struct store st;
    struct buf b;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    struct gauge_contrib *g = populate(&st);
    buf_init(&b);
    CU_ASSERT_EQUAL(expo_render(&st, fmt, &o, &b), 0);
    t_golden(&b, file);
    buf_free(&b);
    store_gauge_leave(g);
    store_fini(&st);
}

static void test_expo_render_text_golden(void)
{
    check_golden(EXPO_TEXT, "expo.txt");
}

static void test_expo_render_openmetrics_golden(void)
{
    check_golden(EXPO_OPENMETRICS, "expo.om");
}

static void test_expo_render_empty(void)
{
    struct store st;
    struct buf b;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    buf_init(&b);
    CU_ASSERT_EQUAL(expo_render(&st, EXPO_TEXT, NULL, &b), 0);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(expo_render(&st, EXPO_OPENMETRICS, NULL, &b), 0);
    CU_ASSERT_EQUAL(b.len, 6);
    CU_ASSERT(memcmp(b.data, "# EOF\n", 6) == 0);
    buf_free(&b);
    store_fini(&st);
}

/* OpenMetrics: no _sum (nor _count) for negative buckets or a negative
 * sum; the text format keeps both. */
static void test_expo_render_negative_histogram(void)
{
    static const double neg[] = {-1, 0, 1}, pos[] = {1, 2};
    struct store st;
    struct buf t, om;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    struct store_series *a =
        t_series(&st, t_def(&st, "neg_b", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "", NULL, neg, 3), NULL);
    struct store_series *b =
        t_series(&st, t_def(&st, "pos_b", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "", NULL, pos, 2), NULL);
    struct store_series *c =
        t_series(&st, t_def(&st, "pos_c", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "", NULL, pos, 2), NULL);
    store_observe(a, 0.5);
    store_observe(b, -3);
    store_observe(c, 1.5);
    buf_init(&t);
    buf_init(&om);
    CU_ASSERT_EQUAL(expo_render(&st, EXPO_TEXT, NULL, &t), 0);
    CU_ASSERT_EQUAL(expo_render(&st, EXPO_OPENMETRICS, NULL, &om), 0);
    buf_char(&t, '\0');
    buf_char(&om, '\0');
    CU_ASSERT_PTR_NOT_NULL(strstr(t.data, "neg_b_sum 0.5\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t.data, "pos_b_sum -3\n"));
    CU_ASSERT_PTR_NULL(strstr(om.data, "neg_b_sum"));
    CU_ASSERT_PTR_NULL(strstr(om.data, "pos_b_sum"));
    CU_ASSERT_PTR_NOT_NULL(strstr(om.data, "pos_c_sum 1.5\n"));
    CU_ASSERT_PTR_NULL(strstr(om.data, "neg_b_count"));
    CU_ASSERT_PTR_NOT_NULL(strstr(om.data, "neg_b_bucket{le=\"+Inf\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t.data, "neg_b_count 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t.data, "# TYPE pos_c histogram\n"
                                          "pos_c_bucket{le=\"1\"} 0\n"
                                          "pos_c_bucket{le=\"2\"} 1\n"
                                          "pos_c_bucket{le=\"+Inf\"} 1\n"
                                          "pos_c_sum 1.5\n"
                                          "pos_c_count 1\n"));
    /* the same with a constant label: a comma before le */
    static const struct const_label host = {"host", "a\"b"};
    static const struct expo_opts o = {.consts = &host, .nconsts = 1};
    t.len = 0;
    CU_ASSERT_EQUAL(expo_render(&st, EXPO_TEXT, &o, &t), 0);
    buf_char(&t, '\0');
    CU_ASSERT_PTR_NOT_NULL(strstr(t.data, "# TYPE pos_c histogram\n"
                                          "pos_c_bucket{host=\"a\\\"b\",le=\"1\"} 0\n"
                                          "pos_c_bucket{host=\"a\\\"b\",le=\"2\"} 1\n"
                                          "pos_c_bucket{host=\"a\\\"b\",le=\"+Inf\"} 1\n"
                                          "pos_c_sum{host=\"a\\\"b\"} 1.5\n"
                                          "pos_c_count{host=\"a\\\"b\"} 1\n"));
    buf_free(&t);
    buf_free(&om);
    store_fini(&st);
}

static char *render(struct store *st, enum expo_format fmt, const struct expo_opts *o,
                    struct buf *b)
{
    b->len = 0;
    CU_ASSERT_EQUAL(expo_render(st, fmt, o, b), 0);
    buf_char(b, '\0');
    return b->data;
}

/* A rolling deploy's families: one HELP (the newest) and TYPE per name,
 * each series with its own label names, each histogram series with its
 * own buckets; a constant label is shadowed only for the definitions that
 * have a label of its name; the placeholder, once reached, is served. */
static void test_expo_render_definitions(void)
{
    static const double old_b[] = {1}, new_b[] = {1, 5};
    const char *m[] = {"method", NULL}, *mc[] = {"method", "code", NULL}, *r[] = {"route", NULL};
    const char *u[] = {"user", NULL};
    struct store st;
    struct buf b;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    struct store_def *a = t_def(&st, "r_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "Old.", m, NULL, 0);
    struct store_def *c = t_def(&st, "r_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "New.", mc, NULL, 0);
    t_series(&st, c, (const char *[]){"GET", "200"})->v.counter = 5;
    t_series(&st, a, (const char *[]){"GET"})->v.counter = 3;
    CU_ASSERT_PTR_EQUAL(t_series(&st, c, (const char *[]){"GET", ""}),
                        t_series(&st, a, (const char *[]){"GET"}));
    struct store_def *ho = t_def(&st, "lat", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "L.", r, old_b, 1);
    struct store_def *hn = t_def(&st, "lat", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "L.", r, new_b, 2);
    struct store_series *sa = t_series(&st, ho, (const char *[]){"/a"});
    struct store_series *sb = t_series(&st, hn, (const char *[]){"/b"});
    store_observe(t_series(&st, hn, (const char *[]){"/a"}), 0.5); /* /a: the old buckets */
    store_observe(sa, 3);
    store_observe(sb, 3);
    struct store_def *ud = t_def(&st, "u_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "", u, NULL, 0);
    struct store_series *p;
    t_series(&st, ud, (const char *[]){"bob"})->v.counter = 1;
    CU_ASSERT_EQUAL_FATAL(store_overflow(&st, ud, &p), 0);
    buf_init(&b);
    CU_ASSERT_STRING_EQUAL(render(&st, EXPO_TEXT, NULL, &b),
                           "# HELP lat L.\n"
                           "# TYPE lat histogram\n"
                           "lat_bucket{route=\"/a\",le=\"1\"} 1\n"
                           "lat_bucket{route=\"/a\",le=\"+Inf\"} 2\n"
                           "lat_sum{route=\"/a\"} 3.5\n"
                           "lat_count{route=\"/a\"} 2\n"
                           "lat_bucket{route=\"/b\",le=\"1\"} 0\n"
                           "lat_bucket{route=\"/b\",le=\"5\"} 1\n"
                           "lat_bucket{route=\"/b\",le=\"+Inf\"} 1\n"
                           "lat_sum{route=\"/b\"} 3\n"
                           "lat_count{route=\"/b\"} 1\n"
                           "# HELP r_total New.\n"
                           "# TYPE r_total counter\n"
                           "r_total{method=\"GET\"} 3\n"
                           "r_total{method=\"GET\",code=\"200\"} 5\n"
                           "# TYPE u_total counter\n"
                           "u_total{user=\"bob\"} 1\n");
    p->v.counter = 2; /* reached: served */
    p->touched = true;
    static const struct const_label code = {"code", "x"};
    static const struct expo_opts o = {.consts = &code, .nconsts = 1};
    CU_ASSERT_PTR_NOT_NULL(strstr(render(&st, EXPO_TEXT, &o, &b),
                                  "# HELP r_total New.\n"
                                  "# TYPE r_total counter\n"
                                  "r_total{code=\"x\",method=\"GET\"} 3\n"
                                  "r_total{method=\"GET\",code=\"200\"} 5\n"
                                  "# TYPE u_total counter\n"
                                  "u_total{code=\"x\",user=\"__overflow__\"} 2\n"
                                  "u_total{code=\"x\",user=\"bob\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(render(&st, EXPO_OPENMETRICS, NULL, &b),
                                  "# HELP r New.\n"
                                  "# TYPE r counter\n"
                                  "r_total{method=\"GET\"} 3\n"
                                  "r_total{method=\"GET\",code=\"200\"} 5\n"));
    buf_free(&b);
    store_fini(&st);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_expo_render_text_golden", test_expo_render_text_golden},
        {"test_expo_render_openmetrics_golden", test_expo_render_openmetrics_golden},
        {"test_expo_render_empty", test_expo_render_empty},
        {"test_expo_render_negative_histogram", test_expo_render_negative_histogram},
        {"test_expo_render_definitions", test_expo_render_definitions},
    };
    return T_RUN("expo", tests);
}
