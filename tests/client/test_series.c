/* SPDX-License-Identifier: MIT */
/*
 * tests/client/test_series.c - client/series.c: label value validation
 * and the exact detail shmet_last_error() gives for each refusal,
 * get-or-create, the exact bytes of values in the segment, and the hash
 * lookup under many series.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "t_consumer.h"
#include "t_expect_err.h"
#include "t_util.h"

static char ns[96];
static struct shmet_client *cl;
static struct shmet__seg seg; /* the consumer's own mapping */

static void setup(uint32_t arena_bytes)
{
    struct shmet_options o = {.ns = t_ns(ns, sizeof(ns), "series"),
                              .slots = 4,
                              .ring_records = 1024,
                              .arena_bytes = arena_bytes};

    cl = NULL;
    CU_ASSERT_FATAL(shmet_open(&o, &cl) == 0);
    CU_ASSERT_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg) == 0);
}

static void teardown(void)
{
    shmet_close(cl);
    cl = NULL;
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

static const char *const labels2[] = {"a", "b", NULL};

static void test_shmet_series_get_invalid_values(void)
{
    char big[SHMET_LABEL_VALUE_MAX + 2];
    struct shmet_family *f, *plain;
    struct shmet_series s = {.id = 77, .gen = 5}, before = s;

    setup(SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_FATAL(shmet_counter(cl, "c", "", labels2, &f) == 0);
    CU_ASSERT_FATAL(shmet_counter(cl, "plain", "", NULL, &plain) == 0);
    memset(big, 'v', SHMET_LABEL_VALUE_MAX + 1);
    big[SHMET_LABEL_VALUE_MAX + 1] = '\0';

    const char *too_long[] = {"x", big};
    const char *bad_utf8[] = {"x", "\xff"};
    const char *overlong[] = {"\xc0\xaf", "x"};
    const char *surrogate[] = {"\xed\xb0\x80", "x"};
    const char *truncated[] = {"x", "ab\xe2\x82"};
    const char *null_elem[] = {"x", NULL};
    const char *ovf_b[] = {"x", SHMET_OVERFLOW_VALUE};
    const char *ovf_both[] = {SHMET_OVERFLOW_VALUE, SHMET_OVERFLOW_VALUE};
    EXPECT_ERR(shmet_series_get(f, too_long, &s), -EINVAL,
               "label value is 1025 bytes, at most 1024 (label 'b')");
    EXPECT_ERR(shmet_series_get(f, bad_utf8, &s), -EINVAL,
               "label value is not valid UTF-8 (label 'b')");
    EXPECT_ERR(shmet_series_get(f, overlong, &s), -EINVAL,
               "label value is not valid UTF-8 (label 'a')");
    EXPECT_ERR(shmet_series_get(f, surrogate, &s), -EINVAL,
               "label value is not valid UTF-8 (label 'a')");
    EXPECT_ERR(shmet_series_get(f, truncated, &s), -EINVAL,
               "label value is not valid UTF-8 (label 'b')");
    EXPECT_ERR(shmet_series_get(f, null_elem, &s), -EINVAL, "expected 2 label values, got 1");
    EXPECT_ERR(shmet_series_get(f, NULL, &s), -EINVAL,
               "expected 2 label values, got none (values is NULL)");
    EXPECT_ERR(shmet_series_get(NULL, too_long, &s), -EINVAL, "family is NULL");
    EXPECT_ERR(shmet_series_get(f, too_long, NULL), -EINVAL, "out is NULL");
    /* The aggregator's overflow placeholder is no value of a real series. */
    EXPECT_ERR(shmet_series_get(f, ovf_b, &s), -EINVAL,
               "label value '__overflow__' is reserved (label 'b')");
    EXPECT_ERR(shmet_series_get(f, ovf_both, &s), -EINVAL,
               "label value '__overflow__' is reserved (label 'a')");
    CU_ASSERT(memcmp(&s, &before, sizeof(s)) == 0); /* out untouched on error */
    CU_ASSERT(cl->nseries == 2);                    /* the two __overflow__ series */

    big[SHMET_LABEL_VALUE_MAX] = '\0'; /* exactly the limit */
    too_long[1] = big;
    CU_ASSERT(shmet_series_get(f, too_long, &s) == 0);
    CU_ASSERT(shmet_series_get(plain, NULL, &s) == 0);
    /* Success leaves the detail of the last failure as it was. */
    CU_ASSERT_STRING_EQUAL(shmet_last_error(),
                           "label value '__overflow__' is reserved (label 'a')");
    /* Only the exact placeholder is reserved. */
    const char *near[] = {"__overflow__x", "_" SHMET_OVERFLOW_VALUE, NULL};
    CU_ASSERT(shmet_series_get(f, near, &s) == 0);
    teardown();
}

static void test_shmet_series_get_same_id(void)
{
    const char *v1[] = {"GET", "200", NULL};
    const char *v1_copy[] = {"GET", "200", NULL};
    const char *v2[] = {"GET", "500", NULL};
    const char *split1[] = {"ab", "c", NULL};
    const char *split2[] = {"a", "bc", NULL};
    struct shmet_family *f, *g, *plain;
    struct shmet_series s1, s1b, s2, sg, sp1, sp2, p1, p2;

    setup(SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_FATAL(shmet_counter(cl, "c", "", labels2, &f) == 0);
    CU_ASSERT_FATAL(shmet_gauge(cl, "g", "", labels2, SHMET_GAUGE_SUM, &g) == 0);
    CU_ASSERT_FATAL(shmet_counter(cl, "plain", "", NULL, &plain) == 0);
    CU_ASSERT(shmet_series_get(f, v1, &s1) == 0);
    CU_ASSERT(shmet_series_get(f, v1_copy, &s1b) == 0);
    CU_ASSERT(shmet_series_get(f, v2, &s2) == 0);
    CU_ASSERT(shmet_series_get(g, v1, &sg) == 0);
    CU_ASSERT(shmet_series_get(f, split1, &sp1) == 0);
    CU_ASSERT(shmet_series_get(f, split2, &sp2) == 0);
    CU_ASSERT(memcmp(&s1, &s1b, sizeof(s1)) == 0);
    CU_ASSERT(s1.id != s2.id);
    CU_ASSERT(s1.id != sg.id); /* same values, other family */
    CU_ASSERT(sp1.id != sp2.id);
    CU_ASSERT(s1.type == SHMET_TYPE_COUNTER && sg.type == SHMET_TYPE_GAUGE);
    CU_ASSERT(s1.gen != 0 && s1.gen == cl->gen && s1.client == cl->idx);
    /* A family without labels has one series: its __overflow__ one. */
    CU_ASSERT(shmet_series_get(plain, NULL, &p1) == 0);
    CU_ASSERT(shmet_series_get(plain, v1, &p2) == 0);
    CU_ASSERT(p1.id == plain->overflow && p2.id == p1.id);
    /* A labelled family's __overflow__ series is its own, never asked
     * for by its values. */
    const char *ovf[] = {SHMET_OVERFLOW_VALUE, SHMET_OVERFLOW_VALUE, NULL};
    CU_ASSERT(shmet_series_get(f, ovf, &p1) == -EINVAL);
    CU_ASSERT(p1.id == plain->overflow);
    CU_ASSERT(cl->nseries == 3 + 5);
    teardown();
}

/* Values that need escaping in the exposition formats, and multi-byte
 * UTF-8, reach the segment byte for byte. */
static const char *const odd_values[][2] = {
    {"say \"hi\"", "back\\slash"},
    {"line\nbreak", "tab\there"},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xe4\xb8\xad\xe6\x96\x87"},
    {"", "trailing\\"},
    {"\\\"\n", " "},
};

#define NODD (sizeof(odd_values) / sizeof(odd_values[0]))

/* Read the arena of the one slot this thread claimed directly: each odd
 * series is defined exactly once, with its values byte for byte. */
static void check_arena_values(const struct shmet_family *f, const struct shmet_series *s)
{
    static uint8_t buf[SHMET_DEF_MAX] __attribute__((aligned(8)));
    struct shmet__def_view v;
    bool seen[NODD] = {false};
    uint64_t off = 0, used;
    uint32_t slot = UINT32_MAX;
    int rc;

    for (uint32_t i = 0; i < seg.slots; i++)
        if (atomic_load(&shmet__slot(&seg, i)->state) == SHMET_SLOT_ACTIVE)
            slot = i;
    CU_ASSERT_FATAL(slot != UINT32_MAX);
    used = atomic_load(&shmet__slot(&seg, slot)->arena_used);
    while ((rc = shmet__arena_next(&seg, slot, used, &off, buf, sizeof(buf), &v)) == 1) {
        for (size_t i = 0; i < NODD; i++) {
            if (v.kind != SHMET_DEF_SERIES || v.family != f->id || v.id != s[i].id)
                continue;
            CU_ASSERT(!seen[i]);
            seen[i] = true;
            CU_ASSERT_FATAL(v.nlabels == 2);
            for (int k = 0; k < 2; k++) {
                CU_ASSERT(v.labels[k].len == strlen(odd_values[i][k]));
                CU_ASSERT(memcmp(v.labels[k].ptr, odd_values[i][k], v.labels[k].len) == 0);
            }
        }
    }
    CU_ASSERT(rc == 0);
    for (size_t i = 0; i < NODD; i++)
        CU_ASSERT(seen[i]);
}

static void test_shmet_series_get_values_round_trip(void)
{
    struct shmet_family *f;
    struct shmet_series s[NODD];
    struct t_consumer *tc;

    setup(SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_FATAL(shmet_counter(cl, "odd_total", "", labels2, &f) == 0);
    for (size_t i = 0; i < NODD; i++) {
        CU_ASSERT_FATAL(shmet_series_get(f, odd_values[i], &s[i]) == 0);
        for (size_t k = 0; k <= i; k++)
            shmet_inc(s[i]);
    }
    check_arena_values(f, s);

    /* And through the reference consumer, with the exact totals. */
    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == NODD * (NODD + 1) / 2);
    for (size_t i = 0; i < NODD; i++) {
        char key[256];
        snprintf(key, sizeof(key), "%s|%s", odd_values[i][0], odd_values[i][1]);
        CU_ASSERT(t_counter(tc, "odd_total", key) == (double)(i + 1));
    }
    CU_ASSERT(t_invalid(tc) == 0);
    t_consumer_free(tc);
    teardown();
}

/* A value of exactly SHMET_LABEL_VALUE_MAX bytes of multi-byte UTF-8. */
static void test_shmet_series_get_longest_value(void)
{
    char big[SHMET_LABEL_VALUE_MAX + 1];
    const char *labels1[] = {"v", NULL};
    const char *vals[] = {big, NULL};
    struct shmet_family *f;
    struct shmet_series s;
    struct t_consumer *tc;

    for (size_t i = 0; i < SHMET_LABEL_VALUE_MAX; i += 2)
        memcpy(big + i, "\xc3\xa9", 2); /* U+00E9 */
    big[SHMET_LABEL_VALUE_MAX] = '\0';
    setup(SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_FATAL(shmet_counter(cl, "long_total", "", labels1, &f) == 0);
    CU_ASSERT_FATAL(shmet_series_get(f, vals, &s) == 0);
    shmet_add(s, 3);
    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 1);
    CU_ASSERT(t_counter(tc, "long_total", big) == 3);
    t_consumer_free(tc);
    teardown();
}

#define MANY 100000u

static void test_shmet_series_get_many(void)
{
    const char *labels1[] = {"id", NULL};
    struct shmet_family *f, *g;
    uint32_t *ids = calloc(MANY, sizeof(*ids));
    uint8_t *taken = calloc(MANY + 8, 1);
    struct shmet_series s;
    char v[32];
    const char *vals[] = {v, NULL};
    bool ok = true;

    CU_ASSERT_FATAL(ids != NULL && taken != NULL);
    setup(SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_FATAL(shmet_counter(cl, "many_total", "", labels1, &f) == 0);
    CU_ASSERT_FATAL(shmet_gauge(cl, "other", "", labels1, SHMET_GAUGE_SUM, &g) == 0);
    for (uint32_t i = 0; i < MANY && ok; i++) {
        snprintf(v, sizeof(v), "series-%u", i);
        ok = shmet_series_get(f, vals, &s) == 0 && s.id < MANY + 8 && !taken[s.id];
        if (ok)
            taken[s.id] = 1;
        ids[i] = s.id;
    }
    CU_ASSERT_FATAL(ok);
    CU_ASSERT(cl->nseries == MANY + 2);
    /* Look every one up again, in another order, and interleaved with
     * the same values in another family. */
    for (uint32_t k = 0; k < MANY && ok; k++) {
        uint32_t i = (uint32_t)(((uint64_t)k * 7919) % MANY);
        snprintf(v, sizeof(v), "series-%u", i);
        ok = shmet_series_get(f, vals, &s) == 0 && s.id == ids[i];
        if (ok && k % 1000 == 0)
            ok = shmet_series_get(g, vals, &s) == 0 && s.id >= MANY + 2;
    }
    CU_ASSERT(ok);
    CU_ASSERT(cl->nseries == MANY + 2 + MANY / 1000);
    CU_ASSERT(cl->table_cap >= 2 * cl->nseries); /* load factor <= 1/2 */

    /* A few of them record and drain to the right totals. */
    struct t_consumer *tc = t_consumer_new(&seg);
    for (uint32_t i = 0; i < MANY; i += MANY / 10) {
        s = (struct shmet_series){.id = ids[i], .client = cl->idx, .type = f->type, .gen = cl->gen};
        shmet_add(s, (double)i);
    }
    CU_ASSERT(t_consumer_drain(tc) == 10);
    for (uint32_t i = 0; i < MANY; i += MANY / 10) {
        snprintf(v, sizeof(v), "series-%u", i);
        CU_ASSERT(t_counter(tc, "many_total", v) == (double)i);
    }
    t_consumer_free(tc);
    teardown();
    free(ids);
    free(taken);
}

static bool all_slots_untouched(void)
{
    for (uint32_t i = 0; i < seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&seg, i);
        if (atomic_load(&sl->state) != SHMET_SLOT_FREE || atomic_load(&sl->head) != 0 ||
            atomic_load(&sl->generation) != 0)
            return false;
    }
    return atomic_load(&seg.hdr->noslot_dropped) == 0;
}

static void test_shmet_series_zeroed(void)
{
    struct shmet_series z;
    struct shmet_family *f;
    struct shmet_series s;

    memset(&z, 0, sizeof(z));
    setup(SHMET_DEFAULT_ARENA_BYTES);
    /* Before this thread has a producer ... */
    shmet_inc(z);
    shmet_add(z, 2);
    shmet_set(z, 3);
    shmet_dec(z);
    shmet_observe(z, 0.5);
    CU_ASSERT(all_slots_untouched());

    /* ... and after it has one whose series 0 is defined. */
    CU_ASSERT_FATAL(shmet_counter(cl, "c", "", NULL, &f) == 0);
    CU_ASSERT_FATAL(shmet_series_get(f, NULL, &s) == 0);
    CU_ASSERT(s.id == 0);
    shmet_inc(s);
    for (int i = 0; i < 100; i++) {
        shmet_inc(z);
        shmet_observe(z, 1);
    }
    struct t_consumer *tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 1);
    CU_ASSERT(t_counter(tc, "c", "") == 1);
    CU_ASSERT(t_invalid(tc) == 0);
    t_consumer_free(tc);
    teardown();
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_shmet_series_get_invalid_values", test_shmet_series_get_invalid_values},
        {"test_shmet_series_get_same_id", test_shmet_series_get_same_id},
        {"test_shmet_series_get_values_round_trip", test_shmet_series_get_values_round_trip},
        {"test_shmet_series_get_longest_value", test_shmet_series_get_longest_value},
        {"test_shmet_series_get_many", test_shmet_series_get_many},
        {"test_shmet_series_zeroed", test_shmet_series_zeroed},
    };

    return T_RUN("series", tests);
}
