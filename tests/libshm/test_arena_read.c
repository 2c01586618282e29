/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_arena_read.c - libshm/arena.c, the reader's side: the
 * refusal of hostile definition entries, each with its own error, built
 * byte by byte, and reads of entries placed against a PROT_NONE guard page
 * that prove nothing past the published bytes is read.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm.h"
#include "t_util.h"

#define PAGE 4096u

static uint64_t g_rbuf[SHMET_DEF_MAX / 8]; /* reader's copy, 8-aligned */
#define RBUF ((uint8_t *)g_rbuf)

static int str_is(struct shmet__str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---- raw entry builder, for hostile input ------------------------------ */

struct eb {
    uint64_t words[2048];
    uint32_t pos;
};

static uint8_t *eb_bytes(struct eb *e)
{
    return (uint8_t *)e->words;
}

static void eb_put(struct eb *e, const void *p, size_t n)
{
    memcpy(eb_bytes(e) + e->pos, p, n);
    e->pos += (uint32_t)n;
}

static void eb_def(struct eb *e, uint16_t kind, uint16_t nstrings, uint32_t id, uint32_t family)
{
    struct shmet_abi_def h = {0, kind, nstrings, id, family};

    memset(e, 0, sizeof(*e));
    eb_put(e, &h, sizeof(h));
}

static void eb_family(struct eb *e, uint8_t type, uint8_t mode, uint16_t nlabels, uint32_t nbounds)
{
    struct shmet_abi_def_family fx = {type, mode, nlabels, nbounds, 7, 0};

    eb_put(e, &fx, sizeof(fx));
}

static void eb_f64(struct eb *e, double d)
{
    eb_put(e, &d, sizeof(d));
}

static void eb_strn(struct eb *e, const char *s, uint32_t len)
{
    eb_put(e, &len, sizeof(len));
    eb_put(e, s, len);
}

static void eb_str(struct eb *e, const char *s)
{
    eb_strn(e, s, (uint32_t)strlen(s));
}

/* Pad to 8 and store the size; returns it. */
static uint32_t eb_end(struct eb *e)
{
    e->pos = (e->pos + 7) & ~7u;
    memcpy(eb_bytes(e), &e->pos, sizeof(e->pos));
    return e->pos;
}

static void eb_set_size(struct eb *e, uint32_t size)
{
    memcpy(eb_bytes(e), &size, sizeof(size));
}

static int eb_read(struct eb *e, struct shmet__def_view *v)
{
    return shmet__def_read(eb_bytes(e), e->pos, 0, RBUF, sizeof(g_rbuf), v);
}

/* A valid histogram family: name, help, one label, bounds 1 and 2. */
static void eb_good_family(struct eb *e)
{
    eb_def(e, SHMET_DEF_FAMILY, 3, 1, 0);
    eb_family(e, SHMET_TYPE_HISTOGRAM, 0, 1, 2);
    eb_f64(e, 1.0);
    eb_f64(e, 2.0);
    eb_str(e, "latency_seconds");
    eb_str(e, "help");
    eb_str(e, "route");
    eb_end(e);
}

/* ---- hostile entries ---------------------------------------------------- */

static void test_def_read_refuses_bad_offset(void)
{
    struct shmet__def_view v;
    struct eb e;
    uint32_t size;

    eb_good_family(&e);
    size = e.pos;
    CU_ASSERT_EQUAL(eb_read(&e, &v), 0);
    /* Not 8-aligned, at or past the end, no room for a header. */
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, 4, RBUF, sizeof(g_rbuf), &v), -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, 1, RBUF, sizeof(g_rbuf), &v), -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, size, RBUF, sizeof(g_rbuf), &v), -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, size + 8, RBUF, sizeof(g_rbuf), &v),
                    -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, UINT64_MAX - 7, RBUF, sizeof(g_rbuf), &v),
                    -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, size - 8, RBUF, sizeof(g_rbuf), &v),
                    -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), 8, 0, RBUF, sizeof(g_rbuf), &v), -EFAULT);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), 0, 0, RBUF, sizeof(g_rbuf), &v), -EFAULT);
}

static void test_def_read_refuses_bad_size(void)
{
    static const uint32_t sizes[] = {0, 8, 15, 17, 20, 81, 4, 7};
    struct shmet__def_view v;
    struct eb e;
    uint32_t size;

    eb_good_family(&e);
    size = e.pos;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        eb_set_size(&e, sizes[i]);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EMSGSIZE);
    }
    /* Larger than the published bytes after it. */
    eb_set_size(&e, size + 8);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EMSGSIZE);
    eb_set_size(&e, 0xfffffff8u);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EMSGSIZE);
    /* Larger than the reader's buffer. */
    eb_set_size(&e, size);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, 0, RBUF, size - 8, &v), -EMSGSIZE);
    CU_ASSERT_EQUAL(shmet__def_read(eb_bytes(&e), size, 0, RBUF, size, &v), 0);
}

/* Larger than SHMET_DEF_MAX, even with that many bytes published. */
static void test_def_read_refuses_oversized_entry(void)
{
    size_t n = SHMET_DEF_MAX + 64;
    uint64_t *arena = calloc(1, n), *buf = calloc(1, n);
    struct shmet_abi_def h = {(uint32_t)SHMET_DEF_MAX + 8, SHMET_DEF_SERIES, 0, 1, 1};
    struct shmet__def_view v;

    CU_ASSERT_FATAL(arena != NULL && buf != NULL);
    memcpy(arena, &h, sizeof(h));
    CU_ASSERT_EQUAL(shmet__def_read((uint8_t *)arena, n, 0, (uint8_t *)buf, n, &v), -EMSGSIZE);
    h.size = SHMET_DEF_MAX; /* the largest valid size */
    memcpy(arena, &h, sizeof(h));
    CU_ASSERT_EQUAL(shmet__def_read((uint8_t *)arena, n, 0, (uint8_t *)buf, n, &v), 0);
    free(arena);
    free(buf);
}

static void test_def_read_refuses_unknown_kind(void)
{
    struct shmet__def_view v;
    struct eb e;

    for (uint16_t kind = 0; kind < 6; kind++) {
        if (kind == SHMET_DEF_FAMILY || kind == SHMET_DEF_SERIES)
            continue;
        eb_def(&e, kind, 0, 1, 0);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    }
    eb_def(&e, 0xffff, 0, 1, 0);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
}

static void test_def_read_refuses_bad_family_fields(void)
{
    static const struct {
        uint8_t type, mode;
        uint16_t nlabels;
    } c[] = {{0, 0, 0},
             {4, 0, 0},
             {255, 0, 0},
             {SHMET_TYPE_GAUGE, 4, 0},
             {SHMET_TYPE_COUNTER, 0, SHMET_LABELS_MAX + 1}};
    struct shmet__def_view v;
    struct eb e;

    /* without its fixed part */
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    /* nstrings != 2 + nlabels */
    eb_def(&e, SHMET_DEF_FAMILY, 3, 1, 0);
    eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
    eb_str(&e, "a");
    eb_str(&e, "h");
    eb_str(&e, "extra");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    /* bad type, bad gauge mode, too many labels */
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        eb_def(&e, SHMET_DEF_FAMILY, (uint16_t)(2 + c[i].nlabels), 1, 0);
        eb_family(&e, c[i].type, c[i].mode, c[i].nlabels, 0);
        eb_str(&e, "a");
        eb_str(&e, "h");
        for (uint16_t k = 0; k < c[i].nlabels; k++)
            eb_str(&e, "l");
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    }
}

/* Bounds on a counter; too many bounds; bounds past the end. */
static void test_def_read_refuses_bad_bounds_layout(void)
{
    struct shmet__def_view v;
    struct eb e;

    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 1);
    eb_f64(&e, 1.0);
    eb_str(&e, "a");
    eb_str(&e, "h");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, SHMET_BOUNDS_MAX + 1);
    for (uint32_t i = 0; i <= SHMET_BOUNDS_MAX; i++)
        eb_f64(&e, (double)i);
    eb_str(&e, "a");
    eb_str(&e, "h");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, 3);
    eb_f64(&e, 1.0);
    eb_f64(&e, 2.0);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, 0x20000000u);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
}

/* More strings than a family can have, or fewer present than announced. */
static void test_def_read_refuses_bad_string_count(void)
{
    struct shmet__def_view v;
    struct eb e;

    eb_def(&e, SHMET_DEF_SERIES, SHMET_LABELS_MAX + 1, 1, 1);
    for (uint32_t i = 0; i <= SHMET_LABELS_MAX; i++)
        eb_str(&e, "v");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    eb_def(&e, SHMET_DEF_SERIES, 3, 1, 1);
    eb_str(&e, "v");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    /* 16 + 16 + (4+1) + (4+4) = 45 -> 48: 3 bytes left, no label fits */
    eb_def(&e, SHMET_DEF_FAMILY, 3, 1, 0);
    eb_family(&e, SHMET_TYPE_COUNTER, 0, 1, 0);
    eb_str(&e, "a");
    eb_str(&e, "hhhh");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
}

/* A string whose length runs past the end of its entry. */
static void test_def_read_refuses_overlong_string(void)
{
    static const uint32_t lens[] = {5, 8, 1000, 0x7fffffffu, 0xfffffffcu, 0xffffffffu};
    struct shmet__def_view v;
    struct eb e;

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        /* series: 16 + 4 + 4 bytes, length claims more */
        eb_def(&e, SHMET_DEF_SERIES, 1, 1, 1);
        eb_put(&e, &lens[i], 4);
        eb_put(&e, "abcd", 4);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
        /* family name: 32 + 4 + 4 = 40 bytes, length claims more */
        eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
        eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
        eb_put(&e, &lens[i], 4);
        eb_put(&e, "abcd", 4);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
        /* family help, the last string */
        eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
        eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
        eb_str(&e, "name");
        eb_put(&e, &lens[i], 4);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
    }
    /* A length prefix cut by the end of the entry. */
    eb_def(&e, SHMET_DEF_SERIES, 2, 1, 1);
    eb_str(&e, "ab"); /* 16 + 6 = 22 -> 24: two bytes left, no room for a u32 */
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EBADMSG);
}

static void test_def_read_refuses_bad_names(void)
{
    static const char *const bad_metric[] = {"", "1abc", "__x", "a-b", "a b", "\xc3\xa9", "a\n"};
    static const char *const bad_label[] = {"", "le", "__x", "a:b", "1a", "a-b", "\xc3\xa9"};
    struct shmet__def_view v;
    struct eb e;
    char longname[SHMET_NAME_MAX + 2];

    for (size_t i = 0; i < sizeof(bad_metric) / sizeof(bad_metric[0]); i++) {
        eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
        eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
        eb_str(&e, bad_metric[i]);
        eb_str(&e, "h");
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    }
    memset(longname, 'a', SHMET_NAME_MAX + 1);
    longname[SHMET_NAME_MAX + 1] = '\0';
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
    eb_str(&e, longname);
    eb_str(&e, "h");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    for (size_t i = 0; i < sizeof(bad_label) / sizeof(bad_label[0]); i++) {
        eb_def(&e, SHMET_DEF_FAMILY, 4, 1, 0);
        eb_family(&e, SHMET_TYPE_COUNTER, 0, 2, 0);
        eb_str(&e, "a");
        eb_str(&e, "h");
        eb_str(&e, "ok");
        eb_str(&e, bad_label[i]);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    }
    /* help must be UTF-8 */
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_COUNTER, 0, 0, 0);
    eb_str(&e, "a");
    eb_str(&e, "bad \xff help");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
}

static void test_def_read_refuses_bad_label_values(void)
{
    static const char *const bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "a\xe2\x82",
                                      "\xf4\x90\x80\x80"};
    static char toolong[SHMET_LABEL_VALUE_MAX + 2];
    struct shmet__def_view v;
    struct eb e;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eb_def(&e, SHMET_DEF_SERIES, 2, 1, 1);
        eb_str(&e, "fine");
        eb_str(&e, bad[i]);
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    }
    /* An embedded NUL (the length is explicit, so it could be carried). */
    eb_def(&e, SHMET_DEF_SERIES, 1, 1, 1);
    eb_strn(&e, "a\0b", 3);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    /* Longer than SHMET_LABEL_VALUE_MAX. */
    memset(toolong, 'x', SHMET_LABEL_VALUE_MAX + 1);
    eb_def(&e, SHMET_DEF_SERIES, 1, 1, 1);
    eb_str(&e, toolong);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), -EINVAL);
    toolong[SHMET_LABEL_VALUE_MAX] = '\0';
    eb_def(&e, SHMET_DEF_SERIES, 1, 1, 1);
    eb_str(&e, toolong);
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), 0);
}

static void test_def_read_refuses_bad_bounds(void)
{
    static const double cases[][3] = {
        {1.0, 1.0, 2.0},       /* equal */
        {1.0, 0.5, 2.0},       /* decreasing */
        {1.0, 2.0, NAN},       /* NaN */
        {NAN, 1.0, 2.0},       /* NaN first */
        {1.0, 2.0, INFINITY},  /* +Inf is implied, never stored */
        {-INFINITY, 0.0, 1.0}, /* -Inf */
        {0.0, -0.0, 1.0},      /* -0 == 0 */
    };
    struct shmet__def_view v;
    struct eb e;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
        eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, 3);
        for (int k = 0; k < 3; k++)
            eb_f64(&e, cases[i][k]);
        eb_str(&e, "h");
        eb_str(&e, "");
        eb_end(&e);
        CU_ASSERT_EQUAL(eb_read(&e, &v), -EDOM);
    }
    /* Negative, increasing, a histogram without bounds: fine. */
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, 3);
    eb_f64(&e, -5.0);
    eb_f64(&e, -1e-300);
    eb_f64(&e, 1e300);
    eb_str(&e, "h");
    eb_str(&e, "");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), 0);
    eb_def(&e, SHMET_DEF_FAMILY, 2, 1, 0);
    eb_family(&e, SHMET_TYPE_HISTOGRAM, 0, 0, 0);
    eb_str(&e, "h");
    eb_str(&e, "");
    eb_end(&e);
    CU_ASSERT_EQUAL(eb_read(&e, &v), 0);
}

/* Hostile entries in a real arena: one that is bad but has a sane size is
 * skipped and the walk goes on; one whose size is insane stops it there. */
/* ---- no over-read: entries against a guard page -------------------------- */

struct guard {
    uint8_t *map; /* page 0 readable, page 1 PROT_NONE */
};

static void guard_open(struct guard *g)
{
    g->map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(g->map != MAP_FAILED);
    CU_ASSERT_EQUAL_FATAL(mprotect(g->map + PAGE, PAGE, PROT_NONE), 0);
}

static void guard_close(struct guard *g)
{
    munmap(g->map, 2 * PAGE);
}

/* Put entry e at the very end of the readable page; return its offset. */
static uint64_t guard_place(struct guard *g, struct eb *e)
{
    uint64_t off = PAGE - e->pos;

    memset(g->map, 0, PAGE);
    memcpy(g->map + off, eb_bytes(e), e->pos);
    return off;
}

static void test_def_read_guard_page(void)
{
    struct guard ga, gb;
    struct shmet__def_view v;
    struct eb e;
    uint64_t off;
    uint32_t size, len = 100;
    uint8_t *buf;

    guard_open(&ga);
    guard_open(&gb);
    /* A valid family right at the end, read into a buffer that also ends
     * at a guard page. */
    eb_good_family(&e);
    size = e.pos;
    off = guard_place(&ga, &e);
    buf = gb.map + PAGE - size;
    CU_ASSERT_EQUAL(shmet__def_read(ga.map, PAGE, off, buf, size, &v), 0);
    CU_ASSERT_TRUE(str_is(v.name, "latency_seconds"));
    CU_ASSERT_TRUE(str_is(v.labels[0], "route"));
    CU_ASSERT_EQUAL(v.nbounds, 2);
    CU_ASSERT_EQUAL(v.bounds[1], 2.0);
    /* Its size claims more than is published. */
    eb_set_size(&e, size + 8);
    off = guard_place(&ga, &e);
    CU_ASSERT_EQUAL(shmet__def_read(ga.map, PAGE, off, buf, size, &v), -EMSGSIZE);
    /* Only a piece of a header before the guard. */
    CU_ASSERT_EQUAL(shmet__def_read(ga.map, PAGE, PAGE - 8, buf, size, &v), -EFAULT);
    /* A series whose last string's length points past the entry. */
    eb_def(&e, SHMET_DEF_SERIES, 2, 1, 1);
    eb_str(&e, "a");
    eb_put(&e, &len, 4);
    eb_put(&e, "xyz", 3);
    size = eb_end(&e);
    off = guard_place(&ga, &e);
    buf = gb.map + PAGE - size;
    CU_ASSERT_EQUAL(shmet__def_read(ga.map, PAGE, off, buf, size, &v), -EBADMSG);
    /* A series with values of every awkward kind, valid, at the end. */
    eb_def(&e, SHMET_DEF_SERIES, 3, 1, 1);
    eb_str(&e, "\"\\\n");
    eb_str(&e, "\xf0\x9f\x98\x80");
    eb_str(&e, "");
    size = eb_end(&e);
    off = guard_place(&ga, &e);
    buf = gb.map + PAGE - size;
    CU_ASSERT_EQUAL(shmet__def_read(ga.map, PAGE, off, buf, size, &v), 0);
    CU_ASSERT_TRUE(str_is(v.labels[0], "\"\\\n"));
    CU_ASSERT_TRUE(str_is(v.labels[1], "\xf0\x9f\x98\x80"));
    CU_ASSERT_EQUAL(v.labels[2].len, 0);
    /* And an arena whose published bytes end at the guard, walked. */
    {
        struct shmet__seg s = {.base = ga.map, .arena_bytes = PAGE};
        uint64_t pos = off;

        CU_ASSERT_EQUAL(shmet__arena_next(&s, 0, PAGE, &pos, RBUF, sizeof(g_rbuf), &v), 1);
        CU_ASSERT_EQUAL(pos, PAGE);
        CU_ASSERT_EQUAL(shmet__arena_next(&s, 0, PAGE, &pos, RBUF, sizeof(g_rbuf), &v), 0);
    }
    guard_close(&gb);
    guard_close(&ga);
}

static void test_def_error_messages(void)
{
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EFAULT), "offset outside the arena");
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EMSGSIZE), "entry size invalid");
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EBADMSG), "malformed entry");
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EINVAL), "invalid name or label");
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EDOM), "invalid bucket bounds");
    CU_ASSERT_STRING_EQUAL(shmet__def_error(-EIO), "invalid definition");
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_def_read_refuses_bad_offset", test_def_read_refuses_bad_offset},
        {"test_def_read_refuses_bad_size", test_def_read_refuses_bad_size},
        {"test_def_read_refuses_oversized_entry", test_def_read_refuses_oversized_entry},
        {"test_def_read_refuses_unknown_kind", test_def_read_refuses_unknown_kind},
        {"test_def_read_refuses_bad_family_fields", test_def_read_refuses_bad_family_fields},
        {"test_def_read_refuses_bad_bounds_layout", test_def_read_refuses_bad_bounds_layout},
        {"test_def_read_refuses_bad_string_count", test_def_read_refuses_bad_string_count},
        {"test_def_read_refuses_overlong_string", test_def_read_refuses_overlong_string},
        {"test_def_read_refuses_bad_names", test_def_read_refuses_bad_names},
        {"test_def_read_refuses_bad_label_values", test_def_read_refuses_bad_label_values},
        {"test_def_read_refuses_bad_bounds", test_def_read_refuses_bad_bounds},
        {"test_def_read_guard_page", test_def_read_guard_page},
        {"test_def_error_messages", test_def_error_messages},
    };

    return T_RUN("arena_read", tests);
}
