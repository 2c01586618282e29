/* SPDX-License-Identifier: MIT */
/*
 * aggregator/buf.c - see buf.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"

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

size_t fmt_double(char *out, double v)
{
    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "+Inf" : "-Inf");
    /* Integers below 2^53 are exact: print them without the %g search. */
    if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
        char tmp[24], *p = u64_digits(tmp + sizeof(tmp), (uint64_t)(v < 0 ? -v : v));
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        memcpy(out + n, p, (size_t)(tmp + sizeof(tmp) - p));
        n += (size_t)(tmp + sizeof(tmp) - p);
        out[n] = '\0';
        return n;
    }
    /* %.15g is already shortest when 15 digits or fewer suffice: any
     * 15-digit decimal survives decimal -> double -> decimal (DBL_DIG).
     * Subnormals have fewer significant bits, so search them from 1. */
    for (int prec = fabs(v) < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            return (size_t)n;
    }
    return 0; /* not reached */
}

void buf_double(struct buf *b, double v)
{
    char tmp[32];

    buf_put(b, tmp, fmt_double(tmp, v));
}
