/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/number.c - see number.h. The text of a double is the
 * one a reader needs: the fewest significant digits that strtod reads
 * back as exactly that double (0.1 is "0.1", not 0.10000000000000001),
 * laid out as printf's %g lays them out.
 *
 * The reference, fmt_double_printf(), tries %.15g, %.16g, %.17g in turn
 * and keeps the first that reads back. It is exact by construction and
 * slow (up to three snprintf and three strtod per value), so fmt_double()
 * finds the same digits by integer arithmetic where metrics live, and
 * falls back to the reference elsewhere:
 *
 *   - NaN and the infinities: their exposition spellings;
 *   - integers below 2^53: all their digits (every such integer is a
 *     double exactly, so its decimal text reads back as itself);
 *   - 1e-5 <= |v| < 2^53, not an integer (histogram sums, fractional
 *     gauges): the search below;
 *   - anything else (huge, tiny, subnormal): the reference.
 *
 * The search. Write |v| = m * 2^-s, m the 53-bit significand, s > 0. The
 * real numbers that strtod (round to nearest, ties to even) reads as v
 * are those of the rounding interval, between the midpoints to the two
 * neighbours: (4m - 2) / 2^(s+2) .. (4m + 2) / 2^(s+2), the lower end
 * (4m - 1) / 2^(s+2) at a power of two, whose lower neighbour is half as
 * far; both ends belong to it when m is even (a tie reads as the even
 * significand). A decimal with p digits after the point reads back as v
 * exactly when the interval scaled by 10^p holds an integer, and that is
 * decided by shifts of exact 128-bit products: (4m + 2) * 10^21 <
 * 2^55 * 2^70. An integer at p means one at p + 1 (ten times it), so the
 * least p, which gives the fewest digits, is found by bisection; p = 21
 * always works, as 17 significant digits always suffice and |v| >= 1e-5.
 * Of the integers at that p, the one nearest to v * 10^p is taken (ties
 * to even), the digits %.Pg would round to.
 *
 * Why it is the reference's text. When k <= 15 digits suffice, the
 * k-digit decimal is within half an ulp (2^-53 relative) of v, closer than
 * half the spacing of 15-digit decimals (10^-15 relative at least), so it
 * is what %.15g rounds v to (the argument behind DBL_DIG); %g drops the
 * trailing zeros. When 16 or 17 digits are needed, the decimal of that
 * many digits nearest to v is nearer than one known to lie in the
 * interval, so it lies there too, and it is what %.16g or %.17g writes.
 * That takes an interval as long on both sides: at a power of two the
 * nearest decimal could fall outside the short side while another lies
 * inside, and the search would write one digit less than the reference;
 * but the only powers of two in its domain, 2^-16 .. 2^-1, have short
 * exact decimals. tests/aggregator/render/test_number.c and tests/fuzz/fuzz_fmt.c
 * hold the two formatters against each other, allowing only that case.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/number.h"

/* Decimal digits of v, written backwards from end; returns the start. */
static char *u64_digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[24], *p = u64_digits(tmp + sizeof(tmp), v);
    size_t n = (size_t)(tmp + sizeof(tmp) - p);

    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* %.Pg is already shortest when P digits suffice and P >= 15: any
 * 15-digit decimal survives decimal -> double -> decimal (DBL_DIG).
 * Subnormals have fewer significant bits, so search them from 1. */
size_t fmt_double_printf(char *out, double v)
{
    for (int prec = fabs(v) < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        int n = snprintf(out, FMT_DOUBLE_MAX, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            return (size_t)n;
    }
    return 0; /* not reached */
}

__extension__ typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
    10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
    1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u,
    10000000000000000000u,
};

/* 10^p for p <= 21 (past 2^64 from 10^20). */
static u128 pow10_u128(int p)
{
    return p < 20 ? (u128)pow10_u64[p] : (u128)pow10_u64[p - 2] * 100u;
}

/* The rounding interval of v = m * 2^-s, as [lo4, hi4] / 2^sh. */
struct interval {
    u128 lo4, hi4, c4; /* ends and v itself, times 4 */
    int sh;            /* s + 2 */
    bool incl;         /* ends included: m even */
};

/* Whether the interval times p10 (a power of ten) holds an integer; the
 * first and last such in *dlo, *dhi. */
static bool interval_int(const struct interval *iv, u128 p10, u128 *dlo, u128 *dhi)
{
    u128 a = iv->lo4 * p10, b = iv->hi4 * p10;
    u128 mask = ((u128)1 << iv->sh) - 1;

    *dlo = iv->incl ? (a + mask) >> iv->sh : (a >> iv->sh) + 1;
    *dhi = iv->incl ? b >> iv->sh : (b - 1) >> iv->sh;
    return *dlo <= *dhi;
}

/* Decimal digits of d > 0, by comparisons rather than a chain of divisions. */
static int digit_count(uint64_t d)
{
    int n = 1;

    while (n < 20 && d >= pow10_u64[n])
        n++;
    return n;
}

/* The n decimal digits of d (d < 10^n), two at a time, into out[0..n). */
static void put_digits(char *out, uint64_t d, int n)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";

    for (; n >= 2; n -= 2, d /= 100)
        memcpy(out + n - 2, pairs + 2 * (d % 100), 2);
    if (n == 1)
        out[0] = (char)('0' + d);
}

/* The rounding interval of v (head comment); false outside the search's
 * domain: not 1e-5 <= v < 2^53, or an integer. */
static bool interval_of(double v, struct interval *iv)
{
    uint64_t bits, frac, m;
    int bexp;

    memcpy(&bits, &v, sizeof(bits));
    bexp = (int)((bits >> 52) & 0x7ff);
    frac = bits & ((UINT64_C(1) << 52) - 1);
    if (bexp == 0 || bexp >= 1023 + 53 || !(v >= 1e-5))
        return false;
    m = frac | (UINT64_C(1) << 52);
    iv->sh = 1075 - bexp + 2; /* v = m * 2^-(sh - 2) */
    if (iv->sh <= 2)
        return false; /* an integer: not this path */
    iv->incl = (m & 1) == 0;
    iv->lo4 = (u128)(4 * m - (frac == 0 && bexp > 1 ? 1 : 2));
    iv->hi4 = (u128)(4 * m + 2);
    iv->c4 = (u128)(4 * m);
    return true;
}

/* Shortest digits of v by the search of the head comment: the digits go
 * to *digits (at most 17), their count to *ndig; the return is p (the
 * value is *digits * 10^-p), or -1 outside the domain. */
static int shortest_digits(double v, uint64_t *digits, int *ndig)
{
    struct interval iv;
    u128 dlo, dhi, q, r, c;
    int lo = 0, hi = 21;

    if (!interval_of(v, &iv) || !interval_int(&iv, pow10_u128(21), &dlo, &dhi))
        return -1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (interval_int(&iv, pow10_u128(mid), &dlo, &dhi))
            hi = mid;
        else
            lo = mid + 1;
    }
    (void)interval_int(&iv, pow10_u128(lo), &dlo, &dhi);
    c = iv.c4 * pow10_u128(lo); /* v * 10^p, times 2^sh */
    q = c >> iv.sh;
    r = c & (((u128)1 << iv.sh) - 1);
    if (r > ((u128)1 << (iv.sh - 1)) || (r == ((u128)1 << (iv.sh - 1)) && (q & 1)))
        q++;
    q = q < dlo ? dlo : q > dhi ? dhi : q;
    if (q >= (u128)100000000000000000u) /* more than 17 digits: impossible */
        return -1;
    *digits = (uint64_t)q;
    *ndig = digit_count(*digits);
    return lo;
}

/* dig[0..ndig) as d.ddde+XX (decimal exponent x, at least two digits of
 * it), at w; returns the end. */
static char *layout_exponent(char *w, const char *dig, int ndig, int x)
{
    int ax = x < 0 ? -x : x;

    *w++ = dig[0];
    if (ndig > 1) {
        *w++ = '.';
        memcpy(w, dig + 1, (size_t)ndig - 1);
        w += ndig - 1;
    }
    *w++ = 'e';
    *w++ = x < 0 ? '-' : '+';
    if (ax >= 100)
        *w++ = (char)('0' + ax / 100);
    *w++ = (char)('0' + ax / 10 % 10);
    *w++ = (char)('0' + ax % 10);
    return w;
}

/* Lays out ndig digits d with value d * 10^-p as %.Pg does with the
 * precision P the reference would have used (15, or the digit count when
 * more are needed): fixed for decimal exponents -4 .. P-1, else with an
 * exponent. */
static size_t layout_digits(char *out, bool neg, uint64_t d, int ndig, int p)
{
    char dig[24], *w = out;
    int x = ndig - 1 - p, prec = ndig > 15 ? ndig : 15;

    put_digits(dig, d, ndig);
    if (neg)
        *w++ = '-';
    if (x < -4 || x >= prec) {
        w = layout_exponent(w, dig, ndig, x);
    } else if (x >= 0) {
        memcpy(w, dig, (size_t)x + 1);
        w += x + 1;
        if (ndig > x + 1) {
            *w++ = '.';
            memcpy(w, dig + x + 1, (size_t)(ndig - x - 1));
            w += ndig - x - 1;
        }
    } else {
        *w++ = '0';
        *w++ = '.';
        for (int i = 0; i < -x - 1; i++)
            *w++ = '0';
        memcpy(w, dig, (size_t)ndig);
        w += ndig;
    }
    *w = '\0';
    return (size_t)(w - out);
}

size_t fmt_double(char *out, double v)
{
    uint64_t d;
    int ndig, p;

    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "+Inf" : "-Inf");
    /* Integers below 2^53 are exact: print them without the %g search. */
    if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
        size_t neg = v < 0;
        if (neg)
            out[0] = '-';
        return neg + fmt_u64(out + neg, (uint64_t)(v < 0 ? -v : v));
    }
    p = shortest_digits(fabs(v), &d, &ndig);
    if (p >= 0)
        return layout_digits(out, v < 0, d, ndig, p);
    return fmt_double_printf(out, v);
}
