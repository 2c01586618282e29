/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/test_debug.c - aggregator/render/debug.c, the /debug
 * document: byte-exact against a golden file for a small store (keys,
 * nesting, order; numbers as the exposition writes them, 0.1 as 0.1),
 * read back with jansson to check which fields are integers and which
 * reals (a whole-valued sum or gauge stays 2.0); and text that is not
 * UTF-8 or holds control characters, in every place text appears (path,
 * family name, help, label names and values, conflicts): the document
 * still parses, lists every family, definition, series and label, and has
 * U+FFFD where the bad bytes were.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <shmetrics.h>

#include "render/debug.h"
#include "t_render.h"
#include "t_util.h"

#define R "\xef\xbf\xbd" /* U+FFFD */

/* Two producer slots, the second in use. */
static struct shmet__slot_snap slots[2] = {
    {.state = SHMET_SLOT_FREE},
    {.state = SHMET_SLOT_ACTIVE, .generation = 2, .pid = 42, .tid = 43, .tail = 11,
     .head_after = 13, .defines = 3, .arena_used = 256},
};

static struct shmet__seg seg = {.slots = 2, .ring_records = 64, .arena_bytes = 4096, .ns = "t"};

static int render(struct store *st, const char *path, struct buf *b)
{
    struct debug_ctx c = {.seg = &seg, .st = st, .pid = 7, .uptime_seconds = 1.5,
                          .totals = {.samples = 3, .invalid = 1}, .slots = slots,
                          .nslots = 2, .path = path, .attached = true, .attaches = 1};

    return debug_render(&c, b);
}

/* A counter at 0.1, a gauge at 2, a histogram with one observation and
 * one with none; returns the gauge's contribution (the caller's). */
static struct gauge_contrib *populate(struct store *st)
{
    static const double bounds[] = {0.25, 1};
    const char *code[] = {"code", NULL};

    t_series(st, t_def(st, "c_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "Requests.", code, NULL, 0),
             (const char *[]){"200"})
        ->v.counter = 0.1;
    struct gauge_contrib *g =
        store_gauge_join(t_series(st, t_def(st, "g", SHMET_TYPE_GAUGE, SHMET_GAUGE_SUM, "", NULL, NULL, 0), NULL));
    g->value = 2;
    store_observe(
        t_series(st, t_def(st, "h_seconds", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "H.", NULL, bounds, 2), NULL),
        0.1);
    t_series(st, t_def(st, "e_seconds", SHMET_TYPE_HISTOGRAM, SHMET_GAUGE_SUM, "E.", NULL, bounds, 2), NULL);
    return g;
}

/* The document of populate()'s store, into b; the store is gone after. */
static void render_small(struct buf *b)
{
    struct store st;

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    struct gauge_contrib *g = populate(&st);
    buf_init(b);
    CU_ASSERT_EQUAL_FATAL(render(&st, "shmetrics.t", b), 0);
    store_gauge_leave(g);
    store_fini(&st);
}

static void test_debug_render_golden(void)
{
    struct buf b;

    render_small(&b);
    t_golden(&b, "debug.json");
    buf_free(&b);
}

/* The member at a path of keys and indexes ("families", "0", ...). */
static json_t *at(json_t *j, const char *const *path)
{
    for (; j != NULL && *path != NULL; path++)
        j = json_is_array(j) ? json_array_get(j, (size_t)strtoul(*path, NULL, 10))
                             : json_object_get(j, *path);
    return j;
}

#define AT(doc, ...) at((doc), (const char *const[]){__VA_ARGS__, NULL})

/* Counts are JSON integers; values, sums, bounds, quantiles and the
 * uptime are reals, whole or not. */
static void test_debug_render_types(void)
{
    struct buf b;

    render_small(&b);
    json_t *doc = json_loadb(b.data, b.len, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT(json_is_integer(AT(doc, "segment", "slots")));
    CU_ASSERT(json_is_integer(AT(doc, "aggregator", "samples_total")));
    CU_ASSERT(json_is_real(AT(doc, "aggregator", "uptime_seconds")));
    CU_ASSERT(json_is_integer(AT(doc, "producers", "0", "samples_total")));
    /* families by name: c_total, e_seconds, g, h_seconds */
    CU_ASSERT_EQUAL(json_real_value(AT(doc, "families", "0", "series", "0", "value")), 0.1);
    CU_ASSERT(json_is_string(AT(doc, "families", "1", "series", "0", "quantiles", "0.5")));
    CU_ASSERT(json_is_real(AT(doc, "families", "1", "series", "0", "sum")));
    CU_ASSERT(json_is_real(AT(doc, "families", "2", "series", "0", "value")));
    CU_ASSERT_EQUAL(json_real_value(AT(doc, "families", "2", "series", "0", "value")), 2);
    CU_ASSERT(json_is_integer(AT(doc, "families", "2", "series", "0", "producers")));
    CU_ASSERT(json_is_integer(AT(doc, "families", "3", "series", "0", "count")));
    CU_ASSERT(json_is_real(AT(doc, "families", "3", "series", "0", "buckets", "1", "0")));
    CU_ASSERT(json_is_integer(AT(doc, "families", "3", "series", "0", "buckets", "1", "1")));
    CU_ASSERT(json_is_real(AT(doc, "families", "3", "definitions", "0", "bounds", "1")));
    CU_ASSERT_EQUAL(json_real_value(AT(doc, "families", "3", "series", "0", "quantiles", "0.99")),
                    0.1);
    json_decref(doc);
    buf_free(&b);
}

/* Bad text wherever text goes. The store takes it as given (ingest is
 * what refuses it from producers); the path is any bytes. */
static void bad_store(struct store *st)
{
    const char *bad_label[] = {"k\xff", NULL}, *k[] = {"k", NULL};

    CU_ASSERT_EQUAL_FATAL(store_init(st, 100), 0);
    struct store_def *a = t_def(st, "a_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "ok", k, NULL, 0);
    t_series(st, a, (const char *[]){"v\xc3("})->v.counter = 1;
    t_series(st, a, (const char *[]){"ctl\x01\x1f\x7f\n\"\\"})->v.counter = 2;
    t_series(st, a, (const char *[]){"\xed\xa0\x80"})->v.counter = 3;
    t_def(st, "a_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "second \xe2\x82", NULL, NULL, 0);
    t_def(st, "b_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "help \xfe", bad_label, NULL, 0);
    t_def(st, "c\xc0\xaf_total", SHMET_TYPE_COUNTER, SHMET_GAUGE_SUM, "", NULL, NULL, 0);
    struct family_spec gauge = {.name = "b_total", .name_len = 7, .help = "", .type =
                                SHMET_TYPE_GAUGE, .nlabels = 1, .labels = bad_label,
                                .label_lens = (const uint32_t[]){2}};
    bool first;
    CU_ASSERT_PTR_NOT_NULL(
        store_conflict_note(store_family_find(st, "b_total", 7), &gauge, &first));
}

static void test_debug_render_invalid_utf8(void)
{
    struct store st;
    struct buf b;

    bad_store(&st);
    buf_init(&b);
    CU_ASSERT_EQUAL_FATAL(render(&st, "seg\xff\x01", &b), 0);
    json_t *doc = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "segment", "path")), "seg" R "\x01");
    CU_ASSERT_EQUAL(json_array_size(AT(doc, "families")), 3);
    /* a_total: every series and both definitions */
    CU_ASSERT_EQUAL(json_array_size(AT(doc, "families", "0", "series")), 3);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(AT(doc, "families", "0", "series", "0", "labels", "k")),
        "ctl\x01\x1f\x7f\n\"\\");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(AT(doc, "families", "0", "series", "1", "labels", "k")), "v" R "(");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(AT(doc, "families", "0", "series", "2", "labels", "k")), R R R);
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "families", "0", "definitions", "1", "help")),
                           "second " R);
    /* b_total: its help, label name, and the conflict naming it */
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "families", "1", "help")), "help " R);
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "families", "1", "labels", "0")), "k" R);
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "families", "1", "conflicts", "0", "labels")),
                           "k" R);
    /* the family whose name is bad */
    CU_ASSERT_STRING_EQUAL(json_string_value(AT(doc, "families", "2", "name")), "c" R R "_total");
    json_decref(doc);
    buf_free(&b);
    store_fini(&st);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_debug_render_golden", test_debug_render_golden},
        {"test_debug_render_types", test_debug_render_types},
        {"test_debug_render_invalid_utf8", test_debug_render_invalid_utf8},
    };
    return T_RUN("debug", tests);
}
