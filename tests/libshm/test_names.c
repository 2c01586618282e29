/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_names.c - libshm/names.c: Prometheus metric and label
 * name rules, the UTF-8 validator (hand-picked edge cases, then every
 * sequence of up to three bytes and every four-byte sequence with a
 * four-byte lead checked against a straightforward reference decoder),
 * help text and histogram bucket bounds.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "shm.h"
#include "t_util.h"

static bool metric(const char *s)
{
    return shmet__metric_name_ok(s, strlen(s));
}

static bool label(const char *s)
{
    return shmet__label_name_ok(s, strlen(s));
}

static bool utf8(const char *s)
{
    return shmet__utf8_ok(s, strlen(s));
}

static void test_metric_name_ok_valid(void)
{
    char max[SHMET_NAME_MAX + 1];

    memset(max, 'm', SHMET_NAME_MAX);
    max[SHMET_NAME_MAX] = '\0';
    CU_ASSERT_TRUE(metric("a"));
    CU_ASSERT_TRUE(metric("_"));
    CU_ASSERT_TRUE(metric(":"));
    CU_ASSERT_TRUE(metric("_x"));
    CU_ASSERT_TRUE(metric(":x"));
    CU_ASSERT_TRUE(metric("a:b"));
    CU_ASSERT_TRUE(metric("job:http_requests:rate5m"));
    CU_ASSERT_TRUE(metric("http_requests_total"));
    CU_ASSERT_TRUE(metric("A9_z0"));
    CU_ASSERT_TRUE(metric("_9"));
    CU_ASSERT_TRUE(metric("x__y"));
    CU_ASSERT_TRUE(metric(max));
    /* The length is what counts, not a terminator. */
    CU_ASSERT_TRUE(shmet__metric_name_ok("ab-c", 2));
}

static void test_metric_name_ok_invalid(void)
{
    char over[SHMET_NAME_MAX + 2];

    memset(over, 'm', SHMET_NAME_MAX + 1);
    over[SHMET_NAME_MAX + 1] = '\0';
    CU_ASSERT_FALSE(metric(""));
    CU_ASSERT_FALSE(metric("1abc"));
    CU_ASSERT_FALSE(metric("9"));
    CU_ASSERT_FALSE(metric("__x"));
    CU_ASSERT_FALSE(metric("__"));
    CU_ASSERT_FALSE(metric("__name__"));
    CU_ASSERT_FALSE(metric("a-b"));
    CU_ASSERT_FALSE(metric("a.b"));
    CU_ASSERT_FALSE(metric("a b"));
    CU_ASSERT_FALSE(metric("a\n"));
    CU_ASSERT_FALSE(metric("caf\xc3\xa9"));
    CU_ASSERT_FALSE(metric("a{b}"));
    CU_ASSERT_FALSE(metric("a\"b"));
    CU_ASSERT_FALSE(metric(over));
    CU_ASSERT_FALSE(shmet__metric_name_ok("a\0b", 3));
    CU_ASSERT_FALSE(shmet__metric_name_ok("abc", 0));
}

static void test_label_name_ok_valid(void)
{
    char max[SHMET_NAME_MAX + 1];

    memset(max, 'l', SHMET_NAME_MAX);
    max[SHMET_NAME_MAX] = '\0';
    CU_ASSERT_TRUE(label("a"));
    CU_ASSERT_TRUE(label("_"));
    CU_ASSERT_TRUE(label("_a"));
    CU_ASSERT_TRUE(label("method"));
    CU_ASSERT_TRUE(label("status_code2"));
    CU_ASSERT_TRUE(label("l"));
    CU_ASSERT_TRUE(label("lee"));
    CU_ASSERT_TRUE(label("le_"));
    CU_ASSERT_TRUE(label("ale"));
    CU_ASSERT_TRUE(label("LE"));
    CU_ASSERT_TRUE(label("a__b"));
    CU_ASSERT_TRUE(label(max));
    CU_ASSERT_TRUE(shmet__label_name_ok("lex", 3));
}

static void test_label_name_ok_invalid(void)
{
    char over[SHMET_NAME_MAX + 2];

    memset(over, 'l', SHMET_NAME_MAX + 1);
    over[SHMET_NAME_MAX + 1] = '\0';
    CU_ASSERT_FALSE(label(""));
    CU_ASSERT_FALSE(label("le"));
    CU_ASSERT_FALSE(shmet__label_name_ok("lex", 2)); /* "le" */
    CU_ASSERT_FALSE(label("__x"));
    CU_ASSERT_FALSE(label("__"));
    CU_ASSERT_FALSE(label("1a"));
    CU_ASSERT_FALSE(label("0"));
    CU_ASSERT_FALSE(label("a:b"));
    CU_ASSERT_FALSE(label(":a"));
    CU_ASSERT_FALSE(label("a-b"));
    CU_ASSERT_FALSE(label("a b"));
    CU_ASSERT_FALSE(label("a.b"));
    CU_ASSERT_FALSE(label("\xc3\xa9"));
    CU_ASSERT_FALSE(label(over));
    CU_ASSERT_FALSE(shmet__label_name_ok("a\0", 2));
}

static void test_utf8_ok_valid(void)
{
    CU_ASSERT_TRUE(shmet__utf8_ok("", 0));
    CU_ASSERT_TRUE(utf8("plain ascii \"quoted\" back\\slash\nnewline\ttab\x7f"));
    CU_ASSERT_TRUE(utf8("\xc2\x80"));         /* U+0080, smallest 2-byte */
    CU_ASSERT_TRUE(utf8("\xc3\xa9"));         /* e acute */
    CU_ASSERT_TRUE(utf8("\xdf\xbf"));         /* U+07FF */
    CU_ASSERT_TRUE(utf8("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
    CU_ASSERT_TRUE(utf8("\xe2\x82\xac"));     /* euro sign */
    CU_ASSERT_TRUE(utf8("\xed\x9f\xbf"));     /* U+D7FF, below surrogates */
    CU_ASSERT_TRUE(utf8("\xee\x80\x80"));     /* U+E000, above surrogates */
    CU_ASSERT_TRUE(utf8("\xef\xbf\xbf"));     /* U+FFFF */
    CU_ASSERT_TRUE(utf8("\xf0\x90\x80\x80")); /* U+10000, smallest 4-byte */
    CU_ASSERT_TRUE(utf8("\xf0\x9f\x98\x80")); /* emoji */
    CU_ASSERT_TRUE(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the largest */
    CU_ASSERT_TRUE(utf8("a\xc3\xa9z\xe4\xb8\xad\xf0\x9f\x98\x80!"));
}

static void test_utf8_ok_invalid(void)
{
    /* overlong forms */
    CU_ASSERT_FALSE(utf8("\xc0\x80"));
    CU_ASSERT_FALSE(utf8("\xc0\xaf"));
    CU_ASSERT_FALSE(utf8("\xc1\xbf"));
    CU_ASSERT_FALSE(utf8("\xe0\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xe0\x9f\xbf"));
    CU_ASSERT_FALSE(utf8("\xf0\x80\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xf0\x8f\xbf\xbf"));
    /* UTF-16 surrogates */
    CU_ASSERT_FALSE(utf8("\xed\xa0\x80"));
    CU_ASSERT_FALSE(utf8("\xed\xbf\xbf"));
    CU_ASSERT_FALSE(utf8("\xed\xa0\xbd\xed\xb8\x80")); /* a CESU-8 pair */
    /* above U+10FFFF */
    CU_ASSERT_FALSE(utf8("\xf4\x90\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xf5\x80\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xf7\xbf\xbf\xbf"));
    CU_ASSERT_FALSE(utf8("\xf8\x88\x80\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xfc\x84\x80\x80\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xfe"));
    CU_ASSERT_FALSE(utf8("\xff"));
    /* truncated sequences, at the end and in the middle */
    CU_ASSERT_FALSE(utf8("\xc3"));
    CU_ASSERT_FALSE(utf8("\xe2\x82"));
    CU_ASSERT_FALSE(utf8("\xf0\x9f\x98"));
    CU_ASSERT_FALSE(utf8("abc\xe2"));
    CU_ASSERT_FALSE(utf8("\xe2\x82z"));
    CU_ASSERT_FALSE(utf8("\xc3\x41"));
    CU_ASSERT_FALSE(utf8("\xf0\x9f\x98\x41"));
    CU_ASSERT_FALSE(shmet__utf8_ok("\xc3\xa9", 1)); /* cut by the length */
    CU_ASSERT_FALSE(shmet__utf8_ok("\xf0\x9f\x98\x80", 3));
    /* lone continuation bytes */
    CU_ASSERT_FALSE(utf8("\x80"));
    CU_ASSERT_FALSE(utf8("\xbf"));
    CU_ASSERT_FALSE(utf8("a\x80z"));
    /* NUL is refused, even with an explicit length */
    CU_ASSERT_FALSE(shmet__utf8_ok("\0", 1));
    CU_ASSERT_FALSE(shmet__utf8_ok("a\0b", 3));
    CU_ASSERT_TRUE(shmet__utf8_ok("a\0b", 1));
}

/* RFC 3629, decoded the obvious way: 1 if s[0..n) is valid without NUL. */
static int ref_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c = s[i], min;
        size_t len;

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2, c &= 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, c &= 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, c &= 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + k] & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* Every string of 1, 2 and 3 bytes. */
static void test_utf8_ok_exhaustive_short(void)
{
    uint8_t b[3];
    unsigned long mismatches = 0, valid = 0;

    for (uint32_t x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        mismatches += (unsigned long)(shmet__utf8_ok((char *)b, 1) != ref_utf8(b, 1));
    }
    for (uint32_t x = 0; x < 65536; x++) {
        b[0] = (uint8_t)(x >> 8);
        b[1] = (uint8_t)x;
        mismatches += (unsigned long)(shmet__utf8_ok((char *)b, 2) != ref_utf8(b, 2));
    }
    for (uint32_t x = 0; x < (1u << 24); x++) {
        int r;
        b[0] = (uint8_t)(x >> 16);
        b[1] = (uint8_t)(x >> 8);
        b[2] = (uint8_t)x;
        r = ref_utf8(b, 3);
        valid += (unsigned long)r;
        mismatches += (unsigned long)(shmet__utf8_ok((char *)b, 3) != r);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    /* Sanity of the reference: 127^3 ASCII triples, 2 * 127 * 1920 ASCII
     * and 2-byte pairs, and the 63488 - 2048 code points U+0800..U+FFFF
     * that are not surrogates. */
    CU_ASSERT_EQUAL(valid, 127ul * 127 * 127 + 2ul * 127 * 1920 + 61440);
}

/* Every four-byte string with a lead byte 0xf0..0xff and continuation-ish
 * bytes (0x7f..0xc0 around the continuation range). */
static void test_utf8_ok_exhaustive_four_byte(void)
{
    uint8_t b[4];
    unsigned long mismatches = 0, valid = 0;

    for (uint32_t lead = 0xf0; lead <= 0xff; lead++)
        for (uint32_t x = 0; x < 66 * 66 * 66; x++) {
            int r;
            b[0] = (uint8_t)lead;
            b[1] = (uint8_t)(0x7f + x % 66);
            b[2] = (uint8_t)(0x7f + x / 66 % 66);
            b[3] = (uint8_t)(0x7f + x / (66 * 66));
            r = ref_utf8(b, 4);
            valid += (unsigned long)r;
            mismatches += (unsigned long)(shmet__utf8_ok((char *)b, 4) != r);
        }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(valid, 0x100000ul); /* U+10000..U+10FFFF */
}

static void test_help_ok_limits(void)
{
    static char help[SHMET_HELP_MAX + 2];

    memset(help, 'h', SHMET_HELP_MAX + 1);
    CU_ASSERT_TRUE(shmet__help_ok(help, SHMET_HELP_MAX));
    CU_ASSERT_FALSE(shmet__help_ok(help, SHMET_HELP_MAX + 1));
    CU_ASSERT_TRUE(shmet__help_ok("", 0));
    CU_ASSERT_TRUE(shmet__help_ok("multi\nline \"help\" \\ \xe2\x82\xac", 23));
    CU_ASSERT_FALSE(shmet__help_ok("multi\nline \"help\" \\ \xe2\x82\xac", 22));
    CU_ASSERT_FALSE(shmet__help_ok("bad \xff", 5));
    CU_ASSERT_FALSE(shmet__help_ok("nul\0", 4));
}

static void test_bounds_check_valid(void)
{
    static double many[SHMET_BOUNDS_MAX];
    const double defaults[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    const double neg[] = {-1e300, -1, -DBL_MIN, 0, DBL_MIN, 1e300};

    for (uint32_t i = 0; i < SHMET_BOUNDS_MAX; i++)
        many[i] = (double)i - 100.0;
    CU_ASSERT_EQUAL(shmet__bounds_check(NULL, 0), 0);
    CU_ASSERT_EQUAL(shmet__bounds_check(defaults, 1), 0);
    CU_ASSERT_EQUAL(shmet__bounds_check(defaults, 11), 0);
    CU_ASSERT_EQUAL(shmet__bounds_check(neg, 6), 0);
    CU_ASSERT_EQUAL(shmet__bounds_check(many, SHMET_BOUNDS_MAX), 0);
}

static void test_bounds_check_invalid(void)
{
    static double many[SHMET_BOUNDS_MAX + 1];
    const double eq[] = {1, 1};
    const double dec[] = {1, 2, 1.5};
    const double nan1[] = {NAN};
    const double nan2[] = {1, NAN, 3};
    const double inf[] = {1, INFINITY};
    const double ninf[] = {-INFINITY, 1};
    const double zeros[] = {0.0, -0.0};

    for (uint32_t i = 0; i <= SHMET_BOUNDS_MAX; i++)
        many[i] = (double)i;
    CU_ASSERT_EQUAL(shmet__bounds_check(eq, 2), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(dec, 3), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(nan1, 1), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(nan2, 3), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(inf, 2), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(inf + 1, 1), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(ninf, 2), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(zeros, 2), -EINVAL);
    CU_ASSERT_EQUAL(shmet__bounds_check(many, SHMET_BOUNDS_MAX + 1), -EINVAL);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_metric_name_ok_valid", test_metric_name_ok_valid},
        {"test_metric_name_ok_invalid", test_metric_name_ok_invalid},
        {"test_label_name_ok_valid", test_label_name_ok_valid},
        {"test_label_name_ok_invalid", test_label_name_ok_invalid},
        {"test_utf8_ok_valid", test_utf8_ok_valid},
        {"test_utf8_ok_invalid", test_utf8_ok_invalid},
        {"test_utf8_ok_exhaustive_short", test_utf8_ok_exhaustive_short},
        {"test_utf8_ok_exhaustive_four_byte", test_utf8_ok_exhaustive_four_byte},
        {"test_help_ok_limits", test_help_ok_limits},
        {"test_bounds_check_valid", test_bounds_check_valid},
        {"test_bounds_check_invalid", test_bounds_check_invalid},
    };

    return T_RUN("names", tests);
}
