/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/buf.c - see buf.h.
 */
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "render/buf.h"

void buf_init(struct buf *b)
{
    memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

bool buf_reserve(struct buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    if (b->failed)
        return false;
    if (b->cap - b->len >= more)
        return true;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

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

void buf_u64(struct buf *b, uint64_t v)
{
    char tmp[24], *p = u64_digits(tmp + sizeof(tmp), v);

    buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* %.Pg is already shortest when P digits suffice and P >= 15: any
 * 15-digit decimal survives decimal -> double -> decimal (DBL_DIG).
 * Subnormals have fewer significant bits, so search them from 1. */
size_t fmt_double_printf(char *out, double v)
{
    for (int prec = fabs(v) < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
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

/* Whether [lo4, hi4] * 10^p / 2^sh (ends included when incl, else
 * excluded) holds an integer; the first and last such in *dlo, *dhi. */
static bool interval_int(u128 lo4, u128 hi4, u128 p10, int sh, bool incl, u128 *dlo, u128 *dhi)
{
    u128 a = lo4 * p10, b = hi4 * p10, mask = ((u128)1 << sh) - 1;

    *dlo = incl ? (a + mask) >> sh : (a >> sh) + 1;
    *dhi = incl ? b >> sh : (b - 1) >> sh;
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

/*
 * Shortest digits by exact integer arithmetic, for 1e-5 <= |v| < 2^53
 * (v not an integer): the case of almost every histogram sum and
 * fractional gauge. With v = m * 2^-s (s > 0), every real number that
 * reads back as v lies in the rounding interval between the midpoints to
 * its neighbours, (4m - 2) / 2^(s+2) .. (4m + 2) / 2^(s+2) (the lower
 * neighbour is half as far at a power of two: 4m - 1), both ends
 * included when m is even, as strtod rounds ties to even. The least p
 * for which the interval scaled by 10^p holds an integer gives the fewest
 * digits, and of the integers there the one nearest to v * 10^p is taken
 * (ties to even), as %.17g would round.
 * (4m + 2) * 10^21 < 2^55 * 2^70 fits in 128 bits, and 10^21 covers 17
 * significant digits down to 1e-5. The digits go to *digits (at most 17),
 * their count to *ndig; the return is p, or -1 outside the domain.
 */
static int shortest_digits(double v, uint64_t *digits, int *ndig)
{
    uint64_t bits, frac, m;
    int bexp, s, sh;

    memcpy(&bits, &v, sizeof(bits));
    bexp = (int)((bits >> 52) & 0x7ff);
    frac = bits & ((UINT64_C(1) << 52) - 1);
    if (bexp == 0 || bexp >= 1023 + 53 || !(v >= 1e-5))
        return -1;
    m = frac | (UINT64_C(1) << 52);
    s = 1075 - bexp; /* v = m * 2^-s */
    if (s <= 0)
        return -1; /* an integer: not this path */
    sh = s + 2;
    bool incl = (m & 1) == 0;
    u128 lo4 = (u128)(4 * m - (frac == 0 && bexp > 1 ? 1 : 2));
    u128 hi4 = (u128)(4 * m + 2), c4 = (u128)(4 * m);
    u128 mask = ((u128)1 << sh) - 1, half = (u128)1 << (sh - 1);
    u128 dlo, dhi, q, r, c;
    int lo = 0, hi = 21;

    /* An integer in the interval at p means one at p + 1 (ten times it),
     * so the fewest digits are found by bisection; 17 significant digits
     * always suffice, which for |v| >= 1e-5 is p = 21 at most. */
    if (!interval_int(lo4, hi4, pow10_u128(21), sh, incl, &dlo, &dhi))
        return -1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (interval_int(lo4, hi4, pow10_u128(mid), sh, incl, &dlo, &dhi))
            hi = mid;
        else
            lo = mid + 1;
    }
    (void)interval_int(lo4, hi4, pow10_u128(lo), sh, incl, &dlo, &dhi);
    c = c4 * pow10_u128(lo);
    q = c >> sh;
    r = c & mask;
    if (r > half || (r == half && (q & 1)))
        q++;
    q = q < dlo ? dlo : q > dhi ? dhi : q;
    if (q >= (u128)100000000000000000u) /* more than 17 digits: impossible */
        return -1;
    *digits = (uint64_t)q;
    *ndig = digit_count(*digits);
    return lo;
}

/* Lays out ndig digits d with value d * 10^-p as %.Pg does with the
 * precision P the reference would have used (15, or the digit count when
 * more are needed): fixed for decimal exponents -4 .. P-1, else
 * d.ddde+XX with at least two exponent digits. */
static size_t layout_digits(char *out, bool neg, uint64_t d, int ndig, int p)
{
    char dig[24], *w = out;
    int x = ndig - 1 - p, prec = ndig > 15 ? ndig : 15;

    put_digits(dig, d, ndig);
    if (neg)
        *w++ = '-';
    if (x < -4 || x >= prec) {
        *w++ = dig[0];
        if (ndig > 1) {
            *w++ = '.';
            memcpy(w, dig + 1, (size_t)ndig - 1);
            w += ndig - 1;
        }
        *w++ = 'e';
        *w++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 100)
            *w++ = (char)('0' + ax / 100);
        *w++ = (char)('0' + ax / 10 % 10);
        *w++ = (char)('0' + ax % 10);
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
        char tmp[24], *q = u64_digits(tmp + sizeof(tmp), (uint64_t)(v < 0 ? -v : v));
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        memcpy(out + n, q, (size_t)(tmp + sizeof(tmp) - q));
        n += (size_t)(tmp + sizeof(tmp) - q);
        out[n] = '\0';
        return n;
    }
    p = shortest_digits(fabs(v), &d, &ndig);
    if (p >= 0)
        return layout_digits(out, v < 0, d, ndig, p);
    return fmt_double_printf(out, v);
}

void buf_double(struct buf *b, double v)
{
    char tmp[32];

    buf_put(b, tmp, fmt_double(tmp, v));
}
