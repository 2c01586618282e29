/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_arena.c - libshm/arena.c, the writer's side and the
 * walk: family and series definitions written by the producer and read back
 * field by field; label values that need escaping elsewhere stored
 * byte-exact; the arena filling up; the walk over an arena skipping a bad
 * entry and stopping at an insane one. The reader's refusals of hostile
 * entries are in test_arena_read.c.
 */
#include <stdlib.h>
#include <string.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_util.h"

static uint64_t g_rbuf[SHMET_DEF_MAX / 8]; /* reader's copy, 8-aligned */
#define RBUF ((uint8_t *)g_rbuf)

/* ---- fixtures --------------------------------------------------------- */

struct arena_fix {
    char ns[64];
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
    uint8_t *arena;
};

/* Two slots so that slot 0's arena is followed by slot 1's ring. */
static void fix_open(struct arena_fix *f, uint32_t arena_bytes)
{
    struct shmet__geometry g = {2, 64, arena_bytes};

    t_ns(f->ns, sizeof(f->ns), "arena");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(f->ns, &g, SHMET_SEG_CREATE, 0600, &f->seg), 0);
    f->sl = shmet__slot(&f->seg, 0);
    f->arena = shmet__slot_arena(&f->seg, 0);
}

static void fix_close(struct arena_fix *f)
{
    shmet__seg_close(&f->seg);
    t_ns_cleanup(f->ns);
}

static uint64_t used_of(struct arena_fix *f)
{
    return T_LOAD(&f->sl->arena_used);
}

static int read_at(struct arena_fix *f, uint64_t off, struct shmet__def_view *v)
{
    return shmet__def_read(f->arena, used_of(f), off, RBUF, sizeof(g_rbuf), v);
}

static int str_is(struct shmet__str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---- round trips ------------------------------------------------------- */

/* The counter of test_arena_put_family_roundtrip, field by field. */
static void check_counter_view(const struct shmet__def_view *v)
{
    CU_ASSERT_EQUAL(v->kind, SHMET_DEF_FAMILY);
    CU_ASSERT_EQUAL(v->id, 3);
    CU_ASSERT_EQUAL(v->family, 0);
    CU_ASSERT_EQUAL(v->size, 88);
    CU_ASSERT_EQUAL(v->type, SHMET_TYPE_COUNTER);
    CU_ASSERT_EQUAL(v->gauge_mode, 0);
    CU_ASSERT_EQUAL(v->overflow_series, 77);
    CU_ASSERT_EQUAL(v->nbounds, 0);
    CU_ASSERT_TRUE(str_is(v->name, "http_requests_total"));
    CU_ASSERT_TRUE(str_is(v->help, "Requests."));
    CU_ASSERT_EQUAL(v->nlabels, 2);
    CU_ASSERT_TRUE(str_is(v->labels[0], "method"));
    CU_ASSERT_TRUE(str_is(v->labels[1], "status"));
}

/* The gauge of test_arena_put_family_roundtrip. */
static void check_gauge_view(const struct shmet__def_view *v)
{
    CU_ASSERT_EQUAL(v->id, 4);
    CU_ASSERT_EQUAL(v->size, 56);
    CU_ASSERT_EQUAL(v->type, SHMET_TYPE_GAUGE);
    CU_ASSERT_EQUAL(v->gauge_mode, SHMET_GAUGE_MAX);
    CU_ASSERT_EQUAL(v->overflow_series, 0);
    CU_ASSERT_TRUE(str_is(v->name, "ns:queue_depth"));
    CU_ASSERT_EQUAL(v->help.len, 0);
    CU_ASSERT_EQUAL(v->nlabels, 0);
}

/* The histogram of test_arena_put_family_roundtrip. */
static void check_hist_view(const struct shmet__def_view *v, const double *bounds)
{
    CU_ASSERT_EQUAL(v->id, 0xfffffffe);
    CU_ASSERT_EQUAL(v->size, 120);
    CU_ASSERT_EQUAL(v->type, SHMET_TYPE_HISTOGRAM);
    CU_ASSERT_EQUAL(v->overflow_series, 5);
    CU_ASSERT_EQUAL_FATAL(v->nbounds, 4);
    CU_ASSERT_EQUAL((uintptr_t)v->bounds % 8, 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(v->bounds[i], bounds[i]);
    CU_ASSERT_TRUE(str_is(v->name, "latency_seconds"));
    CU_ASSERT_TRUE(str_is(v->help, "Latency \"in\" s\\\n\xe2\x82\xac"));
    CU_ASSERT_EQUAL(v->nlabels, 1);
    CU_ASSERT_TRUE(str_is(v->labels[0], "route"));
}

static void test_arena_put_family_roundtrip(void)
{
    static const char *const labels[] = {"method", "status"};
    static const char *const hlabels[] = {"route"};
    static const double bounds[] = {0.005, 0.1, 1.0, 10.0};
    struct shmet__family_def counter = {.id = 3,
                                        .type = SHMET_TYPE_COUNTER,
                                        .overflow_series = 77,
                                        .name = "http_requests_total",
                                        .help = "Requests.",
                                        .labels = labels,
                                        .nlabels = 2};
    struct shmet__family_def gauge = {.id = 4,
                                      .type = SHMET_TYPE_GAUGE,
                                      .gauge_mode = SHMET_GAUGE_MAX,
                                      .overflow_series = 0,
                                      .name = "ns:queue_depth",
                                      .help = ""};
    struct shmet__family_def hist = {.id = 0xfffffffe,
                                     .type = SHMET_TYPE_HISTOGRAM,
                                     .overflow_series = 5,
                                     .name = "latency_seconds",
                                     .help = "Latency \"in\" s\\\n\xe2\x82\xac",
                                     .labels = hlabels,
                                     .nlabels = 1,
                                     .bounds = bounds,
                                     .nbounds = 4};
    struct shmet__def_view v;
    struct arena_fix f;
    uint64_t off[3] = {1, 1, 1};

    fix_open(&f, 4096);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &counter, &off[0]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &gauge, &off[1]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &hist, &off[2]), 0);
    /* 16 + 16 + (4+19) + (4+9) + (4+6) + (4+6) = 88 */
    CU_ASSERT_EQUAL(off[0], 0);
    CU_ASSERT_EQUAL(off[1], 88);
    /* 16 + 16 + (4+14) + (4+0) = 54 -> 56 */
    CU_ASSERT_EQUAL(off[2], 88 + 56);
    /* 16 + 16 + 32 + (4+15) + (4+19) + (4+5) = 115 -> 120 */
    CU_ASSERT_EQUAL(used_of(&f), 88 + 56 + 120);

    CU_ASSERT_EQUAL_FATAL(read_at(&f, off[0], &v), 0);
    check_counter_view(&v);
    CU_ASSERT_EQUAL_FATAL(read_at(&f, off[1], &v), 0);
    check_gauge_view(&v);
    CU_ASSERT_EQUAL_FATAL(read_at(&f, off[2], &v), 0);
    check_hist_view(&v, bounds);
    /* The padding after the last string is zero. */
    for (int i = 115; i < 120; i++)
        CU_ASSERT_EQUAL(f.arena[off[2] + i], 0);
    fix_close(&f);
}

static void test_arena_put_series_roundtrip(void)
{
    static char big[SHMET_LABEL_VALUE_MAX + 1];
    const char *values[] = {
        "plain",
        "quote \" and 'single'",
        "back\\slash \\\\ \\n",
        "new\nline\r\ttab",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
        "",
        "__overflow__",
        big,
    };
    const uint16_t n = sizeof(values) / sizeof(values[0]);
    struct shmet__def_view v;
    struct arena_fix f;
    uint64_t off = 1;

    memset(big, 'v', SHMET_LABEL_VALUE_MAX);
    big[SHMET_LABEL_VALUE_MAX] = '\0';
    fix_open(&f, 8192);
    CU_ASSERT_EQUAL_FATAL(shmet__arena_put_series(&f.seg, 0, 12, 3, values, n, &off), 0);
    CU_ASSERT_EQUAL(off, 0);
    CU_ASSERT_EQUAL_FATAL(read_at(&f, off, &v), 0);
    CU_ASSERT_EQUAL(v.kind, SHMET_DEF_SERIES);
    CU_ASSERT_EQUAL(v.id, 12);
    CU_ASSERT_EQUAL(v.family, 3);
    CU_ASSERT_EQUAL(v.size, used_of(&f));
    CU_ASSERT_EQUAL(v.size % 8, 0);
    CU_ASSERT_EQUAL_FATAL(v.nlabels, n);
    for (uint16_t i = 0; i < n; i++)
        CU_ASSERT_TRUE(str_is(v.labels[i], values[i]));
    CU_ASSERT_EQUAL(v.labels[7].len, SHMET_LABEL_VALUE_MAX);

    /* A series without labels is just the header. */
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 13, 4, NULL, 0, &off), 0);
    CU_ASSERT_EQUAL(off, v.size);
    CU_ASSERT_EQUAL_FATAL(read_at(&f, off, &v), 0);
    CU_ASSERT_EQUAL(v.size, 16);
    CU_ASSERT_EQUAL(v.id, 13);
    CU_ASSERT_EQUAL(v.family, 4);
    CU_ASSERT_EQUAL(v.nlabels, 0);
    fix_close(&f);
}

/* Regression: a family without bounds (bounds NULL) and a series (no
 * fixed part) made arena_put() call memcpy with a NULL source, undefined
 * behaviour that UBSan reports; the ASan+UBSan build runs this. */
static void test_arena_put_null_parts(void)
{
    struct shmet__family_def fam = {.id = 1,
                                    .type = SHMET_TYPE_GAUGE,
                                    .name = "g",
                                    .help = "",
                                    .labels = NULL,
                                    .nlabels = 0,
                                    .bounds = NULL,
                                    .nbounds = 0};
    struct shmet__def_view v;
    struct arena_fix f;
    uint64_t off = 1;

    fix_open(&f, 4096);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &fam, &off), 0);
    CU_ASSERT_EQUAL(read_at(&f, off, &v), 0);
    CU_ASSERT_EQUAL(v.nbounds, 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 2, 1, NULL, 0, &off), 0);
    CU_ASSERT_EQUAL(read_at(&f, off, &v), 0);
    CU_ASSERT_EQUAL(v.kind, SHMET_DEF_SERIES);
    CU_ASSERT_EQUAL(used_of(&f), 48 + 16); /* 16 + 16 + (4+1) + 4 = 41 -> 48 */
    fix_close(&f);
}

/* Walking the arena yields every entry in order, then 0 at the end. */
static void test_arena_next_walks_all(void)
{
    static const char *const lab[] = {"code"};
    struct shmet__family_def fam = {.id = 1,
                                    .type = SHMET_TYPE_COUNTER,
                                    .name = "a_total",
                                    .help = "h",
                                    .labels = lab,
                                    .nlabels = 1};
    struct shmet__def_view v;
    struct arena_fix f;
    uint64_t off, pos = 0;
    char val[16];
    int rc, seen = 0, bad = 0;

    fix_open(&f, 8192);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &fam, &off), 0);
    for (uint32_t i = 0; i < 100; i++) {
        const char *vals[1] = {val};
        snprintf(val, sizeof(val), "%u", i);
        CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, i + 10, 1, vals, 1, &off), 0);
    }
    while ((rc = shmet__arena_next(&f.seg, 0, used_of(&f), &pos, RBUF, sizeof(g_rbuf), &v)) == 1) {
        if (seen == 0) {
            bad += v.kind != SHMET_DEF_FAMILY || !str_is(v.name, "a_total");
        } else {
            snprintf(val, sizeof(val), "%d", seen - 1);
            bad += v.kind != SHMET_DEF_SERIES || v.id != (uint32_t)seen + 9 ||
                   !str_is(v.labels[0], val);
        }
        seen++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(seen, 101);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pos, used_of(&f));
    /* A used beyond the arena is clamped to it. */
    pos = used_of(&f);
    CU_ASSERT_EQUAL(shmet__arena_next(&f.seg, 0, UINT64_MAX, &pos, RBUF, sizeof(g_rbuf), &v),
                    -EMSGSIZE);
    CU_ASSERT_EQUAL(pos, used_of(&f));
    pos = 8192;
    CU_ASSERT_EQUAL(shmet__arena_next(&f.seg, 0, UINT64_MAX, &pos, RBUF, sizeof(g_rbuf), &v), 0);
    fix_close(&f);
}

/* ---- limits ------------------------------------------------------------ */

/* A full arena refuses the entry with -ENOSPC and keeps arena_used. */
static void test_arena_put_full_enospc(void)
{
    static const char *const one[] = {"x"};
    struct shmet__family_def fam = {.id = 1, .type = SHMET_TYPE_COUNTER, .name = "c", .help = ""};
    struct arena_fix f;
    uint64_t off = 0, sentinel = 0x5a5a;
    uint8_t *next_ring;
    int ok = 0, zero = 1;

    fix_open(&f, 4096);
    /* 16 + 4 + 1 = 21 -> 24 bytes each: 170 fit in 4096 (4080). */
    while (shmet__arena_put_series(&f.seg, 0, (uint32_t)ok, 1, one, 1, &off) == 0)
        ok++;
    CU_ASSERT_EQUAL(ok, 170);
    CU_ASSERT_EQUAL(used_of(&f), 4080);
    off = sentinel;
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 999, 1, one, 1, &off), -ENOSPC);
    CU_ASSERT_EQUAL(off, sentinel);
    CU_ASSERT_EQUAL(used_of(&f), 4080);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &fam, &off), -ENOSPC); /* 32 + 5 + 4 */
    CU_ASSERT_EQUAL(used_of(&f), 4080);
    /* Exactly the 16 bytes left still fit. */
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1000, 1, NULL, 0, &off), 0);
    CU_ASSERT_EQUAL(off, 4080);
    CU_ASSERT_EQUAL(used_of(&f), 4096);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1001, 1, NULL, 0, &off), -ENOSPC);
    CU_ASSERT_EQUAL(used_of(&f), 4096);
    /* Nothing was written past the arena: slot 1's ring is still zero. */
    next_ring = (uint8_t *)shmet__slot_ring(&f.seg, 1);
    CU_ASSERT_PTR_EQUAL(next_ring, f.arena + 4096);
    for (uint32_t i = 0; i < 64 * sizeof(struct shmet_abi_record); i++)
        zero &= next_ring[i] == 0;
    CU_ASSERT_TRUE(zero);
    /* A corrupt arena_used beyond the arena is full, not a wild write. */
    T_STORE(&f.sl->arena_used, UINT64_MAX - 8);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1, 1, NULL, 0, &off), -ENOSPC);
    CU_ASSERT_EQUAL(used_of(&f), UINT64_MAX - 8);
    fix_close(&f);
}

/* An entry larger than any reader accepts is refused at write time. */
static void test_arena_put_too_big(void)
{
    static char big[2101];
    const char *vals[SHMET_LABELS_MAX];
    const char *names[SHMET_LABELS_MAX + 1];
    struct shmet__family_def fam = {.id = 1, .type = SHMET_TYPE_COUNTER, .name = "c", .help = ""};
    struct arena_fix f;
    uint64_t off = 1;

    memset(big, 'b', sizeof(big) - 1);
    for (int i = 0; i < (int)SHMET_LABELS_MAX; i++)
        vals[i] = big;
    for (int i = 0; i <= (int)SHMET_LABELS_MAX; i++)
        names[i] = "l";
    fix_open(&f, 128u << 10);
    /* 16 + 32 * (4 + 2100) = 67344 > SHMET_DEF_MAX */
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1, 1, vals, SHMET_LABELS_MAX, &off), -E2BIG);
    CU_ASSERT_EQUAL(used_of(&f), 0);
    CU_ASSERT_EQUAL(off, 1);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1, 1, vals, SHMET_LABELS_MAX + 1, &off),
                    -EINVAL);
    fam.labels = names;
    fam.nlabels = SHMET_LABELS_MAX + 1;
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &fam, &off), -EINVAL);
    CU_ASSERT_EQUAL(used_of(&f), 0);
    /* The largest label count is fine. */
    fam.nlabels = SHMET_LABELS_MAX;
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &fam, &off), 0);
    fix_close(&f);
}

static void test_arena_next_skips_bad_entry(void)
{
    static const char *const good[] = {"ok"};
    static const char *const badutf[] = {"\xff\xfe"};
    struct shmet__family_def badname = {
        .id = 2, .type = SHMET_TYPE_COUNTER, .name = "9x", .help = ""};
    struct shmet__family_def badbounds = {.id = 3,
                                          .type = SHMET_TYPE_HISTOGRAM,
                                          .name = "h",
                                          .help = "",
                                          .bounds = (const double[]){2.0, 1.0},
                                          .nbounds = 2};
    struct shmet__def_view v;
    struct arena_fix f;
    uint64_t off[7], pos = 0;
    uint16_t kind = 9;

    fix_open(&f, 4096);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 1, 1, good, 1, &off[0]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 2, 1, badutf, 1, &off[1]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &badname, &off[2]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_family(&f.seg, 0, &badbounds, &off[3]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 5, 1, good, 1, &off[4]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 6, 1, good, 1, &off[5]), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series(&f.seg, 0, 7, 1, good, 1, &off[6]), 0);
    memcpy(f.arena + off[4] + 4, &kind, sizeof(kind)); /* unknown kind */
    memcpy(f.arena + off[6], &(uint32_t){12}, 4);      /* insane size */

#define NEXT() shmet__arena_next(&f.seg, 0, used_of(&f), &pos, RBUF, sizeof(g_rbuf), &v)
    CU_ASSERT_EQUAL(NEXT(), 1);
    CU_ASSERT_EQUAL(v.id, 1);
    CU_ASSERT_EQUAL(pos, off[1]);
    CU_ASSERT_EQUAL(NEXT(), -EINVAL); /* bad UTF-8 value */
    CU_ASSERT_EQUAL(pos, off[2]);
    CU_ASSERT_EQUAL(NEXT(), -EINVAL); /* bad metric name */
    CU_ASSERT_EQUAL(pos, off[3]);
    CU_ASSERT_EQUAL(NEXT(), -EDOM); /* bad bounds */
    CU_ASSERT_EQUAL(pos, off[4]);
    CU_ASSERT_EQUAL(NEXT(), -EBADMSG); /* unknown kind */
    CU_ASSERT_EQUAL(pos, off[5]);
    CU_ASSERT_EQUAL(NEXT(), 1);
    CU_ASSERT_EQUAL(v.id, 6);
    CU_ASSERT_EQUAL(pos, off[6]);
    CU_ASSERT_EQUAL(NEXT(), -EMSGSIZE); /* stays: nothing after is trusted */
    CU_ASSERT_EQUAL(pos, off[6]);
    CU_ASSERT_EQUAL(NEXT(), -EMSGSIZE);
    CU_ASSERT_EQUAL(pos, off[6]);
    /* A misaligned position stays too. */
    pos = 4;
    CU_ASSERT_EQUAL(NEXT(), -EFAULT);
    CU_ASSERT_EQUAL(pos, 4);
#undef NEXT
    fix_close(&f);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_arena_put_family_roundtrip", test_arena_put_family_roundtrip},
        {"test_arena_put_series_roundtrip", test_arena_put_series_roundtrip},
        {"test_arena_put_null_parts", test_arena_put_null_parts},
        {"test_arena_next_walks_all", test_arena_next_walks_all},
        {"test_arena_put_full_enospc", test_arena_put_full_enospc},
        {"test_arena_put_too_big", test_arena_put_too_big},
        {"test_arena_next_skips_bad_entry", test_arena_next_skips_bad_entry},
    };

    return T_RUN("arena", tests);
}
