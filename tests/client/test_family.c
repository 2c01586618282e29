/* SPDX-License-Identifier: MIT */
/*
 * tests/client/test_family.c - client/family.c: name, label, help and
 * bucket validation, get-or-create of families and conflict detection,
 * with the exact detail shmet_last_error() gives for every refusal (and
 * for shmet_open's, whose clients these tests open); that detail is the
 * calling thread's own.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "t_expect_err.h"
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

#define NAME_RE "[a-zA-Z_:][a-zA-Z0-9_:]*"
#define LABEL_RE "[a-zA-Z_][a-zA-Z0-9_]*"

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
    EXPECT_ERR(counter(NULL, NULL), -EINVAL, "metric name is NULL");
    EXPECT_ERR(counter("", NULL), -EINVAL, "metric name is empty");
    EXPECT_ERR(counter("0abc", NULL), -EINVAL, "metric name '0abc' must match " NAME_RE);
    EXPECT_ERR(counter("9x", NULL), -EINVAL, "metric name '9x' must match " NAME_RE);
    EXPECT_ERR(counter("a-b", NULL), -EINVAL, "metric name 'a-b' must match " NAME_RE);
    EXPECT_ERR(counter("a b", NULL), -EINVAL, "metric name 'a b' must match " NAME_RE);
    EXPECT_ERR(counter("a.b", NULL), -EINVAL, "metric name 'a.b' must match " NAME_RE);
    EXPECT_ERR(counter("__reserved", NULL), -EINVAL,
               "metric name '__reserved' is reserved (it starts with __)");
    EXPECT_ERR(counter("caf\xc3\xa9", NULL), -EINVAL,
               "metric name 'caf\xc3\xa9' must match " NAME_RE);
    memset(longest, 'a', SHMET_NAME_MAX);
    longest[SHMET_NAME_MAX] = '\0';
    CU_ASSERT(counter(longest, NULL) == 0);
    longest[SHMET_NAME_MAX] = 'a';
    longest[SHMET_NAME_MAX + 1] = '\0';
    EXPECT_ERR(counter(longest, NULL), -EINVAL, "metric name is 257 bytes, at most 256");
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
    EXPECT_ERR(counter("reserved_total", reserved), -EINVAL,
               "label name '__x' is reserved (it starts with __)");
    EXPECT_ERR(counter("le_total", le), -EINVAL, "label name 'le' is reserved");
    EXPECT_ERR(counter("digit_total", digit), -EINVAL, "label name '0a' must match " LABEL_RE);
    EXPECT_ERR(counter("dash_total", dash), -EINVAL, "label name 'a-b' must match " LABEL_RE);
    EXPECT_ERR(counter("empty_total", empty), -EINVAL, "label name is empty");
    EXPECT_ERR(counter("dup_total", dup), -EINVAL, "label name 'a' appears twice");
    for (unsigned i = 0; i <= SHMET_LABELS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "l%u", i);
        many[i] = names[i];
    }
    many[SHMET_LABELS_MAX] = NULL;
    CU_ASSERT(counter("max_labels_total", many) == 0);
    many[SHMET_LABELS_MAX] = names[SHMET_LABELS_MAX];
    many[SHMET_LABELS_MAX + 1] = NULL;
    EXPECT_ERR(counter("too_many_labels_total", many), -EINVAL, "more than 32 label names");
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
    EXPECT_ERR(shmet_counter(cl, "h2", "bad \xff", NULL, &f), -EINVAL, "help is not valid UTF-8");
    CU_ASSERT(shmet_counter(cl, "h3", "overlong \xc0\x80", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h4", "surrogate \xed\xa0\x80", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h5", "truncated \xe2\x82", NULL, &f) == -EINVAL);
    CU_ASSERT(shmet_counter(cl, "h6", "above max \xf4\x90\x80\x80", NULL, &f) == -EINVAL);
    memset(big, 'x', SHMET_HELP_MAX);
    big[SHMET_HELP_MAX] = '\0';
    CU_ASSERT(shmet_counter(cl, "h7", big, NULL, &f) == 0);
    big[SHMET_HELP_MAX] = 'x';
    big[SHMET_HELP_MAX + 1] = '\0';
    EXPECT_ERR(shmet_counter(cl, "h8", big, NULL, &f), -EINVAL, "help is 4097 bytes, at most 4096");
    teardown();
}

static void test_shmet_counter_bad_args(void)
{
    struct shmet_family *f;

    setup();
    EXPECT_ERR(shmet_counter(NULL, "x", NULL, NULL, &f), -EINVAL, "client is NULL");
    EXPECT_ERR(shmet_counter(cl, "x", NULL, NULL, NULL), -EINVAL, "out is NULL");
    EXPECT_ERR(shmet_gauge(NULL, "x", NULL, NULL, SHMET_GAUGE_SUM, &f), -EINVAL, "client is NULL");
    EXPECT_ERR(shmet_histogram(NULL, "x", NULL, NULL, NULL, 0, &f), -EINVAL, "client is NULL");
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
    const double after_one[] = {0.1, 0.2, 1, 0.5};
    const double close[] = {0.30000000000000004, 0.3};
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
    EXPECT_ERR(histogram("h_equal", equal, 3, &f), -EINVAL,
               "bucket bounds must be strictly increasing (bound 2: 2 after 2)");
    EXPECT_ERR(histogram("h_decreasing", decreasing, 3, &f), -EINVAL,
               "bucket bounds must be strictly increasing (bound 2: 2 after 3)");
    EXPECT_ERR(histogram("h_after_one", after_one, 4, &f), -EINVAL,
               "bucket bounds must be strictly increasing (bound 3: 0.5 after 1)");
    EXPECT_ERR(histogram("h_close", close, 2, &f), -EINVAL, /* the fewest digits that tell */
               "bucket bounds must be strictly increasing "
               "(bound 1: 0.3 after 0.30000000000000004)");
    EXPECT_ERR(histogram("h_nan", with_nan, 3, &f), -EINVAL,
               "bucket bounds must be finite (bound 1: nan)");
    EXPECT_ERR(histogram("h_inf_inside", inf_inside, 3, &f), -EINVAL,
               "bucket bounds must be finite (bound 1: inf)");
    EXPECT_ERR(histogram("h_neg_inf", neg_inf, 2, &f), -EINVAL,
               "bucket bounds must be finite (bound 0: -inf)");
    EXPECT_ERR(histogram("h_null_n", NULL, 3, &f), -EINVAL, "bounds is NULL but nbounds is 3");

    CU_ASSERT(histogram("h_default", NULL, 0, &f) == 0);
    CU_ASSERT_FATAL(f->nbounds == sizeof(defaults) / sizeof(defaults[0]));
    CU_ASSERT(memcmp(f->bounds, defaults, sizeof(defaults)) == 0);
    CU_ASSERT(histogram("h_default", defaults, 11, &g) == 0);
    CU_ASSERT(g == f);

    for (unsigned i = 0; i < SHMET_BOUNDS_MAX + 2; i++)
        max[i] = i + 1;
    CU_ASSERT(histogram("h_max", max, SHMET_BOUNDS_MAX, &f) == 0);
    EXPECT_ERR(histogram("h_too_many", max, SHMET_BOUNDS_MAX + 1, &f), -EINVAL,
               "257 bucket bounds, at most 256 (and +Inf)");
    max[SHMET_BOUNDS_MAX] = INFINITY; /* 256 finite bounds and +Inf */
    CU_ASSERT(histogram("h_max_inf", max, SHMET_BOUNDS_MAX + 1, &f) == 0);
    CU_ASSERT(f->nbounds == SHMET_BOUNDS_MAX);
    EXPECT_ERR(histogram("h_way_too_many", max, SHMET_BOUNDS_MAX + 2, &f), -EINVAL,
               "258 bucket bounds, at most 256 (and +Inf)");
    teardown();
}

static void test_shmet_gauge_mode(void)
{
    struct shmet_family *f;

    setup();
    CU_ASSERT(shmet_gauge(cl, "g_sum", "", NULL, SHMET_GAUGE_SUM, &f) == 0);
    CU_ASSERT(shmet_gauge(cl, "g_last", "", NULL, SHMET_GAUGE_LAST, &f) == 0);
    CU_ASSERT(f->gauge_mode == SHMET_GAUGE_LAST);
    EXPECT_ERR(shmet_gauge(cl, "g_bad", "", NULL, (enum shmet_gauge_mode)4, &f), -EINVAL,
               "gauge mode 4 is not SHMET_GAUGE_SUM, _MAX, _MIN or _LAST");
    EXPECT_ERR(shmet_gauge(cl, "g_neg", "", NULL, (enum shmet_gauge_mode)(-1), &f), -EINVAL,
               "gauge mode -1 is not SHMET_GAUGE_SUM, _MAX, _MIN or _LAST");
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
    EXPECT_ERR(shmet_gauge(cl, "c", "", ab, SHMET_GAUGE_SUM, &out), -EEXIST,
               "metric 'c' already exists as a counter, not a gauge");
    EXPECT_ERR(shmet_histogram(cl, "c", "", ab, b12, 2, &out), -EEXIST,
               "metric 'c' already exists as a counter, not a histogram");
    EXPECT_ERR(shmet_counter(cl, "c", "", NULL, &out), -EEXIST,
               "metric 'c' already exists with label names (a, b), not ()");
    EXPECT_ERR(shmet_counter(cl, "c", "", a, &out), -EEXIST,
               "metric 'c' already exists with label names (a, b), not (a)");
    EXPECT_ERR(shmet_counter(cl, "c", "", abc, &out), -EEXIST,
               "metric 'c' already exists with label names (a, b), not (a, b, c)");
    EXPECT_ERR(shmet_counter(cl, "c", "", ba, &out), -EEXIST,
               "metric 'c' already exists with label names (a, b), not (b, a)");
    CU_ASSERT(out == NULL);

    CU_ASSERT(shmet_histogram(cl, "h", "", a, b12, 2, &f) == 0);
    EXPECT_ERR(shmet_histogram(cl, "h", "", a, b13, 2, &out), -EEXIST,
               "metric 'h' already exists with bucket bounds (1, 2), not (1, 3)");
    EXPECT_ERR(shmet_histogram(cl, "h", "", a, b123, 3, &out), -EEXIST,
               "metric 'h' already exists with bucket bounds (1, 2), not (1, 2, 3)");
    EXPECT_ERR(shmet_histogram(cl, "h", "", a, b12, 1, &out), -EEXIST,
               "metric 'h' already exists with bucket bounds (1, 2), not (1)");
    EXPECT_ERR(shmet_histogram(cl, "h", "", a, NULL, 0, &out), -EEXIST,
               "metric 'h' already exists with bucket bounds (1, 2), not "
               "(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)");
    EXPECT_ERR(shmet_counter(cl, "h", "", a, &out), -EEXIST,
               "metric 'h' already exists as a histogram, not a counter");

    CU_ASSERT(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_SUM, &f) == 0);
    EXPECT_ERR(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_MAX, &out), -EEXIST,
               "metric 'g' already exists with gauge mode SUM, not MAX");
    EXPECT_ERR(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_MIN, &out), -EEXIST,
               "metric 'g' already exists with gauge mode SUM, not MIN");
    EXPECT_ERR(shmet_gauge(cl, "g", "", NULL, SHMET_GAUGE_LAST, &out), -EEXIST,
               "metric 'g' already exists with gauge mode SUM, not LAST");
    EXPECT_ERR(shmet_counter(cl, "g", "", NULL, &out), -EEXIST,
               "metric 'g' already exists as a gauge, not a counter");
    CU_ASSERT(out == NULL);
    CU_ASSERT(cl->nfamilies == 3);
    teardown();
}

/* Quoted user strings are cut to 64 bytes, never inside a UTF-8
 * character; long lists end in "...)". */
static void test_shmet_last_error_cuts(void)
{
    char name[128], want[256], longer[8][40];
    const char *labels[2] = {name, NULL};
    const char *many[9], *one[] = {"x", NULL};
    struct shmet_family *f;
    size_t n;

    setup();
    memset(name, 'a', 99);
    name[99] = '-';
    name[100] = '\0';
    snprintf(want, sizeof(want), "label name '%.64s...' must match " LABEL_RE, name);
    EXPECT_ERR(counter("cut_total", labels), -EINVAL, want);
    /* 'a' then 40 two-byte characters: byte 64 is inside the 32nd. */
    name[0] = 'a';
    for (int i = 0; i < 40; i++)
        memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
    name[81] = '\0';
    snprintf(want, sizeof(want), "metric name '%.63s...' must match " NAME_RE, name);
    EXPECT_ERR(counter(name, NULL), -EINVAL, want);

    for (int i = 0; i < 8; i++) {
        snprintf(longer[i], sizeof(longer[i]), "label_%d_%s", i, "with_a_rather_long_name");
        many[i] = longer[i];
    }
    many[8] = NULL;
    CU_ASSERT_FATAL(shmet_counter(cl, "wide_total", "", many, &f) == 0);
    CU_ASSERT(shmet_counter(cl, "wide_total", "", one, &f) == -EEXIST);
    n = strlen(shmet_last_error());
    CU_ASSERT(strncmp(shmet_last_error(),
                      "metric 'wide_total' already exists with label names (label_0_", 61) == 0);
    CU_ASSERT(n > 20 && strcmp(shmet_last_error() + n - 15, ", ...), not (x)") == 0);
    CU_ASSERT(n < SHMET__ERROR_MAX);
    teardown();
}

static void test_shmet_open_last_error(void)
{
    struct shmet_options o = {.ns = "t_family_bad_ns"};
    struct shmet_client *c = NULL;
    char *saved = getenv("SHMETRICS_NS") ? strdup(getenv("SHMETRICS_NS")) : NULL;

    EXPECT_ERR(shmet_open(&o, NULL), -EINVAL, "out is NULL");
    o.slots = 5000;
    EXPECT_ERR(shmet_open(&o, &c), -EINVAL, "slots is 5000, must be 1 to 4096");
    o.slots = 4;
    o.ring_records = 100;
    EXPECT_ERR(shmet_open(&o, &c), -EINVAL,
               "ring_records is 100, must be a power of two from 64 to 16777216");
    o.ring_records = 64;
    o.arena_bytes = 4100;
    EXPECT_ERR(shmet_open(&o, &c), -EINVAL,
               "arena_bytes is 4100, must be a multiple of 64 from 4096 to 67108864");
    o = (struct shmet_options){
        .ns = "t_family_bad_ns", .slots = 4096, .ring_records = 1u << 24, .arena_bytes = 64u << 20};
    EXPECT_ERR(shmet_open(&o, &c), -EINVAL,
               "4096 slots of 16777216 records and 67108864 arena bytes exceed 64 GiB");
    o = (struct shmet_options){.ns = "bad ns"};
    EXPECT_ERR(shmet_open(&o, &c), -EINVAL, "namespace 'bad ns' must be 1 to 64 of [A-Za-z0-9_.-]");
    setenv("SHMETRICS_NS", "x/y", 1);
    EXPECT_ERR(shmet_open(NULL, &c), -EINVAL,
               "namespace 'x/y' (from $SHMETRICS_NS) must be 1 to 64 of [A-Za-z0-9_.-]");
    if (saved != NULL)
        setenv("SHMETRICS_NS", saved, 1);
    else
        unsetenv("SHMETRICS_NS");
    free(saved);
    CU_ASSERT(c == NULL);
}

static void *other_thread(void *arg)
{
    struct shmet_family *f;
    const char **seen = arg;

    seen[0] = strdup(shmet_last_error()); /* a new thread has none */
    CU_ASSERT(shmet_counter(cl, "9lives", "", NULL, &f) == -EINVAL);
    seen[1] = strdup(shmet_last_error());
    return NULL;
}

static void test_shmet_last_error_per_thread(void)
{
    const char *seen[2] = {NULL, NULL};
    struct shmet_family *f;
    pthread_t t;

    setup();
    EXPECT_ERR(counter("", NULL), -EINVAL, "metric name is empty");
    CU_ASSERT_FATAL(pthread_create(&t, NULL, other_thread, seen) == 0);
    pthread_join(t, NULL);
    CU_ASSERT_FATAL(seen[0] != NULL && seen[1] != NULL);
    CU_ASSERT_STRING_EQUAL(seen[0], "");
    CU_ASSERT_STRING_EQUAL(seen[1], "metric name '9lives' must match " NAME_RE);
    CU_ASSERT_STRING_EQUAL(shmet_last_error(), "metric name is empty"); /* still ours */
    CU_ASSERT(shmet_counter(cl, "fine_total", "", NULL, &f) == 0);
    CU_ASSERT_STRING_EQUAL(shmet_last_error(), "metric name is empty"); /* success: as it was */
    free((void *)seen[0]);
    free((void *)seen[1]);
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
        {"test_shmet_last_error_cuts", test_shmet_last_error_cuts},
        {"test_shmet_open_last_error", test_shmet_open_last_error},
        {"test_shmet_last_error_per_thread", test_shmet_last_error_per_thread},
    };

    return T_RUN("family", tests);
}
