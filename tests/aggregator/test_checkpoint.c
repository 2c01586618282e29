/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/test_checkpoint.c - the graceful-restart checkpoint:
 * counters, histograms and LAST gauges survive a save/take round trip
 * exactly; gauges over live producers (without a drain to name them) and
 * the aggregator's own families do not; a damaged file is refused as a
 * whole and leaves the store empty; taking a checkpoint removes the file,
 * valid or not, so that it is never restored twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmetrics.h>

#include "checkpoint.h"
#include "t_util.h"

static char path[256];

static struct store_family *fam(struct store *st, const char *name, uint8_t type, uint8_t mode,
                                const char *label, const double *b, uint32_t nb)
{
    const char *labels[1] = {label};
    uint32_t lens[1] = {label ? (uint32_t)strlen(label) : 0};
    struct family_spec s = {.name = name, .name_len = strlen(name), .help = "h\n\"x\"",
                            .help_len = 6, .type = type, .gauge_mode = mode,
                            .nlabels = label ? 1 : 0, .labels = labels, .label_lens = lens,
                            .bounds = b, .nbounds = nb};
    struct store_family *f = NULL;

    CU_ASSERT_EQUAL(store_family(st, &s, &f), 0);
    return f;
}

static struct store_series *ser(struct store *st, struct store_family *f, const char *v)
{
    const char *vals[1] = {v};
    uint32_t lens[1] = {v ? (uint32_t)strlen(v) : 0};
    struct store_series *s = NULL;

    CU_ASSERT_EQUAL(store_series(st, f, vals, lens, &s), 0);
    return s;
}

static struct store_series *lookup(struct store *st, const char *name, const char *v)
{
    struct store_family *f = store_family_find(st, name, strlen(name));
    return f ? ser(st, f, v) : NULL;
}

static void fill(struct store *st, struct gauge_contrib **g)
{
    static const double b[] = {0.1, 1};
    struct store_family *internal = fam(st, "shmetrics_x_total", SHMET_TYPE_COUNTER, 0, NULL,
                                        NULL, 0);
    internal->internal = true;
    ser(st, internal, NULL)->v.counter = 5;
    ser(st, fam(st, "c_total", SHMET_TYPE_COUNTER, 0, "k", NULL, 0), "a\"\\\n\xc3\xbc")->v.counter =
        1234.5;
    struct store_series *h = ser(st, fam(st, "h", SHMET_TYPE_HISTOGRAM, 0, NULL, b, 2), NULL);
    store_observe(h, 0.05);
    store_observe(h, 7);
    store_observe(h, 7);
    store_gauge_set_last(st, ser(st, fam(st, "g_last", SHMET_TYPE_GAUGE, SHMET_GAUGE_LAST, NULL,
                                         NULL, 0), NULL), -2.5);
    *g = store_gauge_join(ser(st, fam(st, "g_sum", SHMET_TYPE_GAUGE, SHMET_GAUGE_SUM, NULL, NULL,
                                      0), NULL));
    (*g)->value = 9;
}

static void test_checkpoint_roundtrip(void)
{
    struct store a, b;
    struct gauge_contrib *g;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    fill(&a, &g);
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    struct store_family *own = fam(&b, "shmetrics_x_total", SHMET_TYPE_COUNTER, 0, NULL, NULL, 0);
    own->internal = true;
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 3);
    CU_ASSERT_EQUAL(lookup(&b, "c_total", "a\"\\\n\xc3\xbc")->v.counter, 1234.5);
    struct store_series *h = lookup(&b, "h", NULL);
    CU_ASSERT_EQUAL(h->v.h.count, 3);
    CU_ASSERT_EQUAL(h->v.h.sum, 14.05);
    CU_ASSERT_EQUAL(h->v.h.buckets[0], 1);
    CU_ASSERT_EQUAL(h->v.h.buckets[1], 0);
    CU_ASSERT_EQUAL(h->v.h.buckets[2], 2);
    CU_ASSERT_EQUAL(store_gauge_value(lookup(&b, "g_last", NULL)), -2.5);
    CU_ASSERT_PTR_NULL(store_family_find(&b, "g_sum", 5)); /* live producers set it again */
    CU_ASSERT_EQUAL(lookup(&b, "shmetrics_x_total", NULL)->v.counter, 0); /* not restored */
    CU_ASSERT_STRING_EQUAL(store_family_find(&b, "h", 1)->help, "h\n\"x\"");
    CU_ASSERT_EQUAL(access(path, F_OK), -1); /* taken */
    store_gauge_leave(g);
    store_fini(&a);
    store_fini(&b);
}

static void test_checkpoint_take_missing(void)
{
    struct store st;
    char err[64];

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    unlink(path);
    CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(st.nfamilies, 0);
    store_fini(&st);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_checkpoint_take_refuses_damage(void)
{
    static const char *const bad[] = {
        "{",
        "{\"format\":\"x\",\"version\":1,\"families\":[]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":[]}",
        /* a good family, then a negative counter: nothing may be kept */
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"ok_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[{\"values\":[],\"value\":3}]},"
        "{\"name\":\"neg_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[{\"values\":[],\"value\":-1}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"9bad\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"h\",\"help\":\"\",\"type\":\"histogram\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[1],\"series\":[{\"values\":[],\"buckets\":[1],\"sum\":1}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"l_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[\"le\"],"
        "\"bounds\":[],\"series\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"v_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[\"a\"],"
        "\"bounds\":[],\"series\":[{\"values\":[\"x\",\"y\"],\"value\":1}]}]}",
        /* producers: not an array, a negative pid, a gauge without a value */
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":{}}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":["
        "{\"slot\":0,\"generation\":1,\"pid\":-1,\"start_time\":1,\"gauges\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":["
        "{\"slot\":0,\"generation\":1,\"pid\":1,\"start_time\":1,\"gauges\":[[3]]}]}",
    };
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store st;
        CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
        write_file(bad[i]);
        err[0] = '\0';
        CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), -EINVAL);
        CU_ASSERT(err[0] != '\0');
        CU_ASSERT_EQUAL(st.nfamilies, 0);
        CU_ASSERT_EQUAL(access(path, F_OK), -1); /* refused, and removed all the same */
        store_fini(&st);
    }
}

/* A checkpoint is restored once: the second take finds no file. */
static void test_checkpoint_take_once(void)
{
    struct store a, b, c;
    struct gauge_contrib *g;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&c, 100), 0);
    fill(&a, &g);
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 3);
    CU_ASSERT_EQUAL(checkpoint_take(&c, NULL, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.nfamilies, 0);
    store_gauge_leave(g);
    store_fini(&a);
    store_fini(&b);
    store_fini(&c);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_checkpoint_roundtrip", test_checkpoint_roundtrip},
        {"test_checkpoint_take_missing", test_checkpoint_take_missing},
        {"test_checkpoint_take_refuses_damage", test_checkpoint_take_refuses_damage},
        {"test_checkpoint_take_once", test_checkpoint_take_once},
    };
    char dir[] = "/tmp/shmet_ckpt_XXXXXX";
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/state", dir);
    rc = T_RUN("checkpoint", tests);
    unlink(path);
    rmdir(dir);
    return rc;
}
