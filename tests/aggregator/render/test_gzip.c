/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/test_gzip.c - aggregator/render/gzip.c: what gzip_encode()
 * writes inflates back (through zlib, expecting a gzip header) to exactly
 * the input, for empty, small and multi-megabyte inputs and every level,
 * and it appends to what the buffer already holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render/gzip.h"
#include "t_gzip.h"
#include "t_util.h"

static void round_trip(const char *in, size_t n, int level)
{
    struct buf z;
    size_t len;
    char *back;

    buf_init(&z);
    CU_ASSERT_EQUAL_FATAL(gzip_encode(in, n, level, &z), 0);
    CU_ASSERT_FATAL(z.len >= 18); /* 10-byte header, 8-byte trailer */
    CU_ASSERT_EQUAL((unsigned char)z.data[0], 0x1f);
    CU_ASSERT_EQUAL((unsigned char)z.data[1], 0x8b);
    back = t_gunzip(z.data, z.len, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_EQUAL_FATAL(len, n);
    CU_ASSERT_TRUE(n == 0 || memcmp(back, in, n) == 0);
    buf_free(&z);
    free(back);
}

/* An exposition-like text of about n bytes. */
static char *exposition(size_t n, size_t *len)
{
    char *s = malloc(n + 256);
    size_t p = 0;
    unsigned i = 0;

    CU_ASSERT_FATAL(s != NULL);
    while (p < n) {
        p += (size_t)sprintf(s + p,
                             "http_request_duration_seconds_bucket{method=\"GET\",endpoint="
                             "\"/users/{id}\",status=\"%u\",le=\"%g\"} %u\n",
                             200 + i % 7, 0.005 * (1 + i % 11), i * 7919u % 100003u);
        i++;
    }
    *len = p;
    return s;
}

static void test_gzip_encode_small_and_empty(void)
{
    const char *s = "# HELP x y\n# TYPE x counter\nx_total 1\n";

    round_trip(s, strlen(s), GZIP_LEVEL);
    round_trip("", 0, GZIP_LEVEL);
    round_trip("a", 1, 9);
}

static void test_gzip_encode_every_level(void)
{
    size_t n;
    char *s = exposition(100000, &n);

    for (int level = 0; level <= 9; level++)
        round_trip(s, n, level);
    free(s);
}

static void test_gzip_encode_large(void)
{
    size_t n;
    char *s = exposition(8u << 20, &n);

    round_trip(s, n, GZIP_LEVEL);
    free(s);
}

/* Incompressible input: the output is larger than the input. */
static void test_gzip_encode_incompressible(void)
{
    size_t n = 3u << 20;
    char *s = malloc(n);
    uint64_t x = 88172645463325252ull;

    CU_ASSERT_FATAL(s != NULL);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s[i] = (char)x;
    }
    round_trip(s, n, GZIP_LEVEL);
    round_trip(s, n, 9);
    free(s);
}

static void test_gzip_encode_appends(void)
{
    struct buf z;
    const char *s = "payload payload payload";
    size_t len;
    char *back;

    buf_init(&z);
    buf_str(&z, "PREFIX");
    CU_ASSERT_EQUAL_FATAL(gzip_encode(s, strlen(s), 6, &z), 0);
    CU_ASSERT_EQUAL(memcmp(z.data, "PREFIX", 6), 0);
    back = t_gunzip(z.data + 6, z.len - 6, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_EQUAL(len, strlen(s));
    buf_free(&z);
    free(back);
}

static void test_gzip_encode_bad_level(void)
{
    struct buf z;

    buf_init(&z);
    CU_ASSERT_EQUAL(gzip_encode("x", 1, -1, &z), -EINVAL);
    CU_ASSERT_EQUAL(gzip_encode("x", 1, 10, &z), -EINVAL);
    CU_ASSERT_EQUAL(z.len, 0);
    buf_free(&z);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_gzip_encode_small_and_empty", test_gzip_encode_small_and_empty},
        {"test_gzip_encode_every_level", test_gzip_encode_every_level},
        {"test_gzip_encode_large", test_gzip_encode_large},
        {"test_gzip_encode_incompressible", test_gzip_encode_incompressible},
        {"test_gzip_encode_appends", test_gzip_encode_appends},
        {"test_gzip_encode_bad_level", test_gzip_encode_bad_level},
    };
    return T_RUN("gzip", tests);
}
