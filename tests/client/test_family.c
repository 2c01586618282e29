/* SPDX-License-Identifier: MIT */
/*
 * tests/client/test_family.c - client/family.c: name, label, help and
 * bucket validation, get-or-create of families and conflict detection.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "t_util.h"

static char ns[96];
static struct shmet_client *cl;

static void setup(void)
{
    struct shmet_options o = {
        .ns = t_ns(ns, sizeof(ns), "family"), .slots = 4, .ring_records = 64, .arena_bytes = 4096};

    cl = NULL;
    CU_ASSERT_FATAL(shmet_open(&o, &cl) == 0);
}

static void teardown(void)
{
    shmet_close(cl);
    cl = NULL;
    t_ns_cleanup(ns);
}

static int counter(const char *name, const char *const *labels)
{
    struct shmet_family *f = NULL;
    int rc = shmet_counter(cl, name, "help", labels, &f);

    CU_ASSERT((rc == 0) == (f != NULL)); /* out written only on success */
    return rc;
}

static void test_shmet_counter_metric_names(void)
{
    char longest[SHMET_NAME_MAX + 2];

    setup();
    CU_ASSERT(counter("requests_total", NULL) == 0);
    CU_ASSERT(counter("a:b_c9", NULL) == 0);
    CU_ASSERT(counter("_x", NULL) == 0);
    CU_ASSERT(counter(":x", NULL) == 0);
    CU_ASSERT(counter(NULL, NULL) == -EINVAL);
    CU_ASSERT(counter("", NULL) == -EINVAL);
    CU_ASSERT(counter("0abc", NULL) == -EINVAL);
    CU_ASSERT(counter("a-b", NULL) == -EINVAL);
    CU_ASSERT(counter("a b", NULL) == -EINVAL);
    CU_ASSERT(counter("a.b", NULL) == -EINVAL);
    CU_ASSERT(counter("__reserved", NULL) == -EINVAL);
    CU_ASSERT(counter("caf\xc3\xa9", NULL) == -EINVAL);
    memset(longest, 'a', SHMET_NAME_MAX);
    longest[SHMET_NAME_MAX] = '\0';
    CU_ASSERT(counter(longest, NULL) == 0);
    longest[SHMET_NAME_MAX] = 'a';
    longest[SHMET_NAME_MAX + 1] = '\0';
    CU_ASSERT(counter(longest, NULL) == -EINVAL);
    CU_ASSERT(cl->nfamilies == 5); /* refused names made no family */
    teardown();
}

static void test_shmet_counter_label_names(void)
{
    const char *ok[] = {"method", "_x", "a9", "le_x", NULL};
    const char *reserved[] = {"method", "__x", NULL};
    const char *le[] = {"le", NULL};
    const char *digit[] = {"0a", NULL};
    const char *dash[] = {"a-b", NULL};
    const char *empty[] = {"", NULL};
    const char *dup[] = {"a", "b", "a", NULL};
    char names[SHMET_LABELS_MAX + 1][8];
    const char *many[SHMET_LABELS_MAX + 2];

    setup();
    CU_ASSERT(counter("ok_total", ok) == 0);
    CU_ASSERT(counter("reserved_total", reserved) == -EINVAL);
    CU_ASSERT(counter("le_total", le) == -EINVAL);
    CU_ASSERT(counter("digit_total", digit) == -EINVAL);
    CU_ASSERT(counter("dash_total", dash) == -EINVAL);
    CU_ASSERT(counter("empty_total", empty) == -EINVAL);
    CU_ASSERT(counter("dup_total", dup) == -EINVAL);
    for (unsigned i = 0; i <= SHMET_LABELS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "l%u", i);
        many[i] = names[i];
    }
    many[SHMET_LABELS_MAX] = NULL;
    CU_ASSERT(counter("max_labels_total", many) == 0);
    many[SHMET_LABELS_MAX] = names[SHMET_LABELS_MAX];
    many[SHMET_LABELS_MAX + 1] = NULL;
    CU_ASSERT(counter("too_many_labels_total", many) == -EINVAL);
    CU_ASSERT(cl->nfamilies == 2);
    teardown();
}

static void test_shmet_counter_help(void)
{
    struct shmet_family *f;
    char big[SHMET_HELP_MAX + 2];

    setup();
    CU_ASSERT(shmet_counter(cl, "h0", NULL, NULL, &f) == 0);
    CU_ASSERT_STRING_EQUAL(f->help, "");
    CU_ASSERT(shmet_counter(cl, "h1", "caf\xc3\xa9 \"q\" \\ \n\xf0\x9f\x98\x80", NULL, &f) == 0);
    CU_ASSERT(shmet_counter(cl, "h2", "bad \xff", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h3", "overlong \xc0\x80", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h4", "surrogate \xed\xa0\x80", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h5", "truncated \xe2\x82", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h6", "above max \xf4\x90\x80\x80", NULL, &f) == -EINVAL);
    memset(big, 'x', SHMET_HELP_MAX);
    big[SHMET_HELP_MAX] = '\0';
    CU_ASSERT(shmet_counter(cl, "h7", big, NULL, &f) == 0);
    big[SHMET_HELP_MAX] = 'x';
    big[SHMET_HELP_MAX + 1] = '\0';
    CU_ASSERT(shmet_counter(cl, "h8", big, NULL, &f) == -EINVAL);
    teardown();
}

static void test_shmet_counter_bad_args(void)
{
    struct shmet_family *f;

    setup();
    CU_ASSERT(shmet_counter(NULL, "x", NULL, NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "x", NULL, NULL, NULL) == -EINVAL);
    CU_ASSERT(shmet_gauge(NULL, "x", NULL, NULL, SHMET_GAUGE_SUM, &f) == -EINVAL);
    CU_ASSERT(shmet_histogram(NULL, "x", NULL, NULL, NULL, 0, &f) == -EINVAL);
    teardown();
}

static int histogram(const char *name, const double *b, size_t n, struct shmet_family **out)
{
    return shmet_histogram(cl, name, "", NULL, b, n, out);
}

static void test_shmet_histogram_bounds(void)
{
    static const double defaults[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                      0.5,   1.0,  2.5,   5.0,  10.0};
    const double ok[] = {0.1, 0.5, 1, 5};
    const double ok_inf[] = {0.1, 0.5, 1, 5, INFINITY};
    const double equal[] = {1, 2, 2};
    const double decreasing[] = {1, 3, 2};
    const double with_nan[] = {1, NAN, 3};
    const double inf_inside[] = {1, INFINITY, 3};
    const double neg_inf[] = {-INFINITY, 1};
    const double only_inf[] = {INFINITY};
    double max[SHMET_BOUNDS_MAX + 2];
    struct shmet_family *f = NULL, *g = NULL;

    setup();
    CU_ASSERT(histogram("h_ok", ok, 4, &f) == 0);
    CU_ASSERT(f->nbounds == 4);
    CU_ASSERT(histogram("h_ok", ok_inf, 5, &g) == 0); /* +Inf implied: same definition */
    CU_ASSERT(g == f);
    CU_ASSERT(histogram("h_inf", ok_inf, 5, &f) == 0);
    CU_ASSERT(f->nbounds == 4 && f->bounds[3] == 5);
    CU_ASSERT(histogram("h_only_inf", only_inf, 1, &f) == 0);
    CU_ASSERT(f->nbounds == 0);
    CU_ASSERT(histogram("h_equal", equal, 3, &f) == -EINVAL);
    CU_ASSERT(histogram("h_decreasing", decreasing, 3, &f) == -EINVAL);
    CU_ASSERT(histogram("h_nan", with_nan, 3, &f) == -EINVAL);
    CU_ASSERT(histogram("h_inf_inside", inf_inside, 3, &f) == -EINVAL);
    CU_ASSERT(histogram("h_neg_inf", neg_inf, 2, &f) == -EINVAL);
    CU_ASSERT(histogram("h_null_n", NULL, 3, &f) == -EINVAL);

    CU_ASSERT(histogram("h_default", NULL, 0, &f) == 0);
    CU_ASSERT_FATAL(f->nbounds == sizeof(defaults) / sizeof(defaults[0]));
    CU_ASSERT(memcmp(f->bounds, defaults, sizeof(defaults)) == 0);
    CU_ASSERT(histogram("h_default", defaults, 11, &g) == 0);
    CU_ASSERT(g == f);

    for (unsigned i = 0; i < SHMET_BOUNDS_MAX + 2; i++)
        max[i] = i + 1;
    CU_ASSERT(histogram("h_max", max, SHMET_BOUNDS_MAX, &f) == 0);
    CU_ASSERT(histogram("h_too_many", max, SHMET_BOUNDS_MAX + 1, &f) == -EINVAL);
    max[SHMET_BOUNDS_MAX] = INFINITY; /* 256 finite bounds and +Inf */
    CU_ASSERT(histogram("h_max_inf", max, SHMET_BOUNDS_MAX + 1, &f) == 0);
    CU_ASSERT(f->nbounds == SHMET_BOUNDS_MAX);
    CU_ASSERT(histogram("h_way_too_many", max, SHMET_BOUNDS_MAX + 2, &f) == -EINVAL);
    teardown();
}

static void test_shmet_gauge_mode(void)
{
    struct shmet_family *f;

    setup();
    CU_ASSERT(shmet_gauge(cl, "g_sum", "", NULL, SHMET_GAUGE_SUM, &f) == 0);
    CU_ASSERT(shmet_gauge(cl, "g_last", "", NULL, SHMET_GAUGE_LAST, &f) == 0);
    CU_ASSERT(f->gauge_mode == SHMET_GAUGE_LAST);
    CU_ASSERT(shmet_gauge(cl, "g_bad", "", NULL, (enum shmet_gauge_mode)4, &f) == -EINVAL);
    CU_ASSERT(shmet_gauge(cl, "g_neg", "", NULL, (enum shmet_gauge_mode)(-1), &f) == -EINVAL);
    CU_ASSERT(cl->nfamilies == 2);
    teardown();
}

static void test_shmet_counter_same_definition(void)
{
    const char *labels[] = {"method", "status", NULL};
    const char *labels_copy[] = {"method", "status", NULL};
    const double b[] = {1, 2};
    struct shmet_family *a, *a2, *g, *g2, *h, *h2;

    setup();
    CU_ASSERT(shmet_counter(cl, "req_total", "one help", labels, &a) == 0);
    CU_ASSERT(shmet_counter(cl, "req_total", "one help", labels_copy, &a2) == 0);
    CU_ASSERT(a == a2);
    CU_ASSERT(shmet_gauge(cl, "inflight", "", NULL, SHMET_GAUGE_MAX, &g) == 0);
    CU_ASSERT(shmet_gauge(cl, "inflight", "", NULL, SHMET_GAUGE_MAX, &g2) == 0);
    CU_ASSERT(g == g2);
    CU_ASSERT(shmet_histogram(cl, "lat", "", labels, b, 2, &h) == 0);
    CU_ASSERT(shmet_histogram(cl, "lat", "", labels_copy, b, 2, &h2) == 0);
    CU_ASSERT(h == h2);
    CU_ASSERT(a != g && g != h && a != h);
    CU_ASSERT(cl->nfamilies == 3);
    teardown();
}

static void test_shmet_counter_conflict(void)
{
    const char *ab[] = {"a", "b", NULL};
    const char *ba[] = {"b", "a", NULL};
    const char *a[] = {"a", NULL};
    const char *abc[] = {"a", "b", "c", NULL};
    const double b12[] = {1, 2}, b13[] = {1, 3}, b123[] = {1, 2, 3};
    struct shmet_family *f = NULL, *out = NULL;

    setup();
    CU_ASSERT(shmet_counter(cl, "c", "", ab, &f) == 0);
    CU_ASSERT(shmet_gauge(cl, "c", "", ab, SHMET_GAUGE_SUM, &out) == -EEXIST);
    CU_ASSERT(shmet_histogram(cl, "c", "", ab, b12, 2, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "c", "", NULL, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "c", "", a, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "c", "", abc, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "c", "", ba, &out) == -EEXIST);
    CU_ASSERT(out == NULL);

    CU_ASSERT(shmet_histogram(cl, "h", "", a, b12, 2, &f) == 0);
    CU_ASSERT(shmet_histogram(cl, "h", "", a, b13, 2, &out) == -EEXIST);
    CU_ASSERT(shmet_histogram(cl, "h", "", a, b123, 3, &out) == -EEXIST);
    CU_ASSERT(shmet_histogram(cl, "h", "", a, b12, 1, &out) == -EEXIST);
    CU_ASSERT(shmet_histogram(cl, "h", "", a, NULL, 0, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "h", "", a, &out) == -EEXIST);

    CU_ASSERT(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_SUM, &f) == 0);
    CU_ASSERT(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_MAX, &out) == -EEXIST);
    CU_ASSERT(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_MIN, &out) == -EEXIST);
    CU_ASSERT(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_LAST, &out) == -EEXIST);
    CU_ASSERT(shmet_counter(cl, "g", "", NULL, &out) == -EEXIST);
    CU_ASSERT(out == NULL);
    CU_ASSERT(cl->nfamilies == 3);
    teardown();
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_shmet_counter_metric_names", test_shmet_counter_metric_names},
        {"test_shmet_counter_label_names", test_shmet_counter_label_names},
        {"test_shmet_counter_help", test_shmet_counter_help},
        {"test_shmet_counter_bad_args", test_shmet_counter_bad_args},
        {"test_shmet_histogram_bounds", test_shmet_histogram_bounds},
        {"test_shmet_gauge_mode", test_shmet_gauge_mode},
        {"test_shmet_counter_same_definition", test_shmet_counter_same_definition},
        {"test_shmet_counter_conflict", test_shmet_counter_conflict},
    };

    return T_RUN("family", tests);
}
