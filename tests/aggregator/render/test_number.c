/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/test_number.c - aggregator/render/number.c, the text of
 * every number shmetricsd serves: fmt_double() writes the shortest text
 * that reads back exactly (0.1 as "0.1"), laid out as %g would, exact
 * strings for the edges (signed zero, 1/3, integers past 2^53, the
 * largest, smallest and subnormal magnitudes, both sides of the fixed and
 * exponent layouts, NaN and the infinities, never "-nan"); random bit
 * patterns read back; and it agrees with its snprintf reference,
 * fmt_double_printf(), on values of the shapes metrics hold. fmt_u64 and
 * buf_u64 at their edges.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/number.h"
#include "t_util.h"

struct fmt_case {
    double v;
    const char *want;
};

/* Each case as text, its length returned, and the text reading back. */
static void check_cases(const struct fmt_case *cases, size_t n)
{
    char out[FMT_DOUBLE_MAX];

    for (size_t i = 0; i < n; i++) {
        size_t len = fmt_double(out, cases[i].v);
        if (strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "%a: %s, want %s\n", cases[i].v, out, cases[i].want);
        CU_ASSERT_STRING_EQUAL(out, cases[i].want);
        CU_ASSERT_EQUAL(len, strlen(cases[i].want));
        CU_ASSERT(strtod(out, NULL) == cases[i].v || isinf(cases[i].v));
        CU_ASSERT_EQUAL(signbit(strtod(out, NULL)), signbit(cases[i].v));
    }
}

static void test_fmt_double_cases(void)
{
    static const struct fmt_case cases[] = {
        {0, "0"},
        {-0.0, "-0"},
        {1, "1"},
        {-17, "-17"},
        {0.1, "0.1"},
        {-0.1, "-0.1"},
        {0.3, "0.3"},
        {1.1, "1.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {0.1 + 0.7, "0.7999999999999999"},
        {2.5, "2.5"},
        {100.25, "100.25"},
        {1.0 / 3, "0.3333333333333333"},
        {-1.0 / 3, "-0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {123456789.125, "123456789.125"},
        {123456789012345.6, "123456789012345.6"},
        {1000000000000000.5, "1000000000000000.5"},
        {4503599627370495.5, "4503599627370495.5"},
        {1.5e-7, "1.5e-07"},
    };

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Integers: in full below 2^53, where every one is a double; from 2^53 on
 * as %g writes them (2^53 + 1 is no double: it reads as 2^53). */
static void test_fmt_double_integers(void)
{
    static const struct fmt_case cases[] = {
        {1e15, "1000000000000000"},
        {4503599627370497.0, "4503599627370497"},
        {9007199254740991.0, "9007199254740991"},
        {-9007199254740991.0, "-9007199254740991"},
        {9007199254740992.0, "9007199254740992"},
        {9007199254740993.0, "9007199254740992"},
        {9007199254740994.0, "9007199254740994"},
        {9007199254740996.0, "9007199254740996"},
        {18014398509481984.0, "18014398509481984"},
        {1e16, "1e+16"},
        {0x1p60, "1.152921504606847e+18"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {18446744073709551616.0, "1.8446744073709552e+19"},
        {1e20, "1e+20"},
        {9.999999999999999e20, "9.999999999999999e+20"},
        {1e21, "1e+21"},
        {-1e21, "-1e+21"},
        {1.2345678901234568e+20, "1.2345678901234568e+20"},
        {1e22, "1e+22"},
        {1e23, "1e+23"}, /* %.17g: 9.9999999999999992e+22 */
    };

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Large and small exponents: the fixed layout down to 1e-4, the exponent
 * one below (and at the search's lower edge, 1e-5), three exponent digits,
 * the normal and subnormal extremes. */
static void test_fmt_double_exponents(void)
{
    static const struct fmt_case cases[] = {
        {0.0001, "0.0001"},
        {0.000123, "0.000123"},
        {9.999999999999999e-5, "9.999999999999999e-05"},
        {1e-5, "1e-05"},
        {2.5e-5, "2.5e-05"},
        {0x1p-16, "1.52587890625e-05"},
        {1e-6, "1e-06"},
        {1e-7, "1e-07"},
        {1e100, "1e+100"},
        {1e-100, "1e-100"},
        {1.5e-300, "1.5e-300"},
        {1e308, "1e+308"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {-DBL_MAX, "-1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {0x0.fffffffffffffp-1022, "2.225073858507201e-308"}, /* largest subnormal */
        {5e-324, "5e-324"},                                  /* smallest subnormal */
        {-5e-324, "-5e-324"},
        {-1.5e-320, "-1.5e-320"},
    };

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_fmt_double_non_finite(void)
{
    char out[FMT_DOUBLE_MAX];

    CU_ASSERT_EQUAL(fmt_double(out, NAN), 3);
    CU_ASSERT_STRING_EQUAL(out, "NaN");
    fmt_double(out, -NAN);
    CU_ASSERT_STRING_EQUAL(out, "NaN");
    CU_ASSERT_EQUAL(fmt_double(out, INFINITY), 4);
    CU_ASSERT_STRING_EQUAL(out, "+Inf");
    CU_ASSERT_EQUAL(fmt_double(out, -INFINITY), 4);
    CU_ASSERT_STRING_EQUAL(out, "-Inf");
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random bit patterns: every finite one reads back exactly, sign
 * included, within FMT_DOUBLE_MAX, its length returned. */
static void test_fmt_double_roundtrip_random(void)
{
    uint64_t x = 88172645463325252ULL;
    char out[FMT_DOUBLE_MAX + 8];

    for (int i = 0; i < 200000; i++) {
        uint64_t bits = xorshift(&x);
        double v;
        memcpy(&v, &bits, sizeof(v));
        if (!isfinite(v))
            continue;
        memset(out, 0x7f, sizeof(out));
        size_t n = fmt_double(out, v);
        CU_ASSERT_FATAL(n < FMT_DOUBLE_MAX && n == strlen(out));
        CU_ASSERT_FATAL(strtod(out, NULL) == v);
        CU_ASSERT_FATAL(signbit(strtod(out, NULL)) == signbit(v));
    }
}

/* A value of one of the shapes metrics hold: raw bit patterns, decimals
 * with few digits (0.25, 12.345), sums of such (0.1 + 0.2), powers of two
 * and their neighbours, values across the fast path's edges (1e-5, 2^53). */
static double metric_like(uint64_t *x)
{
    uint64_t r = xorshift(x);
    double v;

    switch (r % 6) {
    case 0:
        memcpy(&v, &r, sizeof(v));
        return v;
    case 1:
        return (double)(int64_t)(xorshift(x) % 2000001 - 1000000) / pow(10, (double)(r >> 8 & 15));
    case 2: {
        double sum = 0;
        for (uint64_t k = r >> 8 & 63; k-- > 0;)
            sum += (double)(xorshift(x) % 100000) / 1000.0;
        return sum;
    }
    case 3:
        v = ldexp(1.0, (int)(r >> 8 & 127) - 64);
        return (r >> 20 & 1) ? nextafter(v, 0) : (r >> 21 & 1) ? nextafter(v, INFINITY) : v;
    case 4:
        v = (r >> 8 & 1) ? 1e-5 : 9007199254740992.0;
        for (uint64_t k = r >> 9 & 7; k-- > 0;)
            v = (r >> 12 & 1) ? nextafter(v, 0) : nextafter(v, INFINITY);
        return v;
    default:
        return ldexp((double)(xorshift(x) >> 11), (int)(r >> 8 & 127) - 100);
    }
}

/* The integer-arithmetic formatter against the snprintf one, value by
 * value: the same text, or (only where %.16g rounds to the far side of a
 * power of two's lopsided interval and the reference falls back to 17
 * digits) a shorter text that still reads back exactly. */
static void test_fmt_double_matches_printf(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char fast[FMT_DOUBLE_MAX], ref[FMT_DOUBLE_MAX];
    unsigned shorter = 0;

    for (int i = 0; i < 500000; i++) {
        double v = metric_like(&x);
        if (!isfinite(v))
            continue;
        v = (i & 1) ? -v : v;
        size_t n = fmt_double(fast, v), rn = fmt_double_printf(ref, v);
        CU_ASSERT_EQUAL_FATAL(n, strlen(fast));
        CU_ASSERT_EQUAL_FATAL(rn, strlen(ref));
        CU_ASSERT_FATAL(strtod(fast, NULL) == v);
        if (strcmp(fast, ref) == 0 || v == trunc(v))
            continue;  /* integers below 2^53 are written in full on purpose */
        if (!(n < rn)) /* not shorter: a real difference */
            fprintf(stderr, "%a: %s, printf %s\n", v, fast, ref);
        CU_ASSERT_FATAL(n < rn);
        shorter++;
    }
    fprintf(stderr, "(%u values shorter than printf's) ", shorter);
}

static void test_fmt_u64(void)
{
    static const struct {
        uint64_t v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {9, "9"},
        {10, "10"},
        {9007199254740993u, "9007199254740993"},
        {10000000000000000000u, "10000000000000000000"},
        {UINT64_MAX, "18446744073709551615"},
    };
    char out[21];
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_EQUAL(fmt_u64(out, cases[i].v), strlen(cases[i].want));
        CU_ASSERT_STRING_EQUAL(out, cases[i].want);
        buf_u64(&b, cases[i].v);
        buf_char(&b, ' ');
    }
    buf_char(&b, '\0');
    CU_ASSERT_STRING_EQUAL(b.data, "0 9 10 9007199254740993 10000000000000000000 "
                                   "18446744073709551615 ");
    buf_free(&b);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fmt_double_cases", test_fmt_double_cases},
        {"test_fmt_double_integers", test_fmt_double_integers},
        {"test_fmt_double_exponents", test_fmt_double_exponents},
        {"test_fmt_double_non_finite", test_fmt_double_non_finite},
        {"test_fmt_double_roundtrip_random", test_fmt_double_roundtrip_random},
        {"test_fmt_double_matches_printf", test_fmt_double_matches_printf},
        {"test_fmt_u64", test_fmt_u64},
    };
    return T_RUN("number", tests);
}
