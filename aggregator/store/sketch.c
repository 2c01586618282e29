/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store/sketch.c - see sketch.h. Each side holds a dense window of
 * bucket counts that grows to cover new values; past SKETCH_MAX_BUCKETS
 * the lowest buckets are folded into the lowest one kept (as DDSketch
 * does), which only affects quantiles 128 octaves below the largest value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/sketch.h"

#define SUB (1u << SKETCH_SUB_BITS)

void sketch_init(struct sketch *s)
{
    memset(s, 0, sizeof(*s));
    s->min = INFINITY;
    s->max = -INFINITY;
}

void sketch_fini(struct sketch *s)
{
    free(s->pos.u.c32);
    free(s->neg.u.c64);
    sketch_init(s);
}

static uint64_t side_get(const struct sketch_side *d, uint32_t k)
{
    return d->wide ? d->u.c64[k] : d->u.c32[k];
}

/* From 32-bit to 64-bit counts. */
static int side_widen(struct sketch_side *d)
{
    uint64_t *c = calloc(d->n ? d->n : 1, sizeof(*c));

    if (c == NULL)
        return -ENOMEM;
    for (uint32_t k = 0; k < d->n; k++)
        c[k] = d->u.c32[k];
    free(d->u.c32);
    d->u.c64 = c;
    d->wide = 1;
    return 0;
}

/* Bucket of a positive normal magnitude: exponent * 64 + top mantissa bits. */
static uint32_t bucket_of(double m)
{
    uint64_t bits;

    memcpy(&bits, &m, sizeof(bits));
    return (uint32_t)(bits >> (52 - SKETCH_SUB_BITS)) & 0x1ffffu;
}

/* The midpoint of bucket i. */
static double bucket_mid(uint32_t i)
{
    int exp = (int)(i >> SKETCH_SUB_BITS) - 1023;
    double lo = ldexp(1.0 + (double)(i & (SUB - 1)) / SUB, exp);

    return lo + ldexp(0.5 / SUB, exp);
}

/* Make room for bucket i in side d. */
static int side_cover(struct sketch_side *d, uint32_t i)
{
    uint32_t lo, hi, n;
    void *c;

    if (d->n > 0 && i >= d->lo && i < d->lo + d->n)
        return 0;
    lo = d->n ? (i < d->lo ? i : d->lo) : i;
    hi = d->n ? (i >= d->lo + d->n ? i + 1 : d->lo + d->n) : i + 1;
    /* Grow with slack towards the side that grew, so that a value drifting
     * up or down costs amortised O(1) copies, not one copy per bucket. */
    uint32_t slack = d->n / 4 > 16 ? d->n / 4 : 16;
    if (d->n > 0 && i < d->lo)
        lo = lo > slack ? lo - slack : 0;
    else if (d->n > 0)
        hi = hi + slack < 0x20000u ? hi + slack : 0x20000u;
    if (hi - lo > SKETCH_MAX_BUCKETS)
        lo = hi - SKETCH_MAX_BUCKETS;
    n = hi - lo;
    c = calloc(n, d->wide ? sizeof(uint64_t) : sizeof(uint32_t));
    if (c == NULL)
        return -ENOMEM;
    for (uint32_t k = 0; k < d->n; k++) {
        uint32_t b = d->lo + k, at = (b < lo ? lo : b) - lo;
        if (d->wide) {
            ((uint64_t *)c)[at] += d->u.c64[k];
        } else if (((uint32_t *)c)[at] > UINT32_MAX - d->u.c32[k]) {
            free(c); /* folding low buckets would pass 2^32: widen first */
            return side_widen(d) < 0 ? -ENOMEM : side_cover(d, i);
        } else {
            ((uint32_t *)c)[at] += d->u.c32[k];
        }
    }
    free(d->u.c32);
    d->u.c32 = c;
    d->lo = lo;
    d->n = n;
    return 0;
}

static int side_add(struct sketch_side *d, uint32_t i, uint64_t k)
{
    int rc = side_cover(d, i);
    uint32_t at;

    if (rc < 0)
        return rc;
    at = (i < d->lo ? d->lo : i) - d->lo;
    if (!d->wide && (k > UINT32_MAX || d->u.c32[at] > UINT32_MAX - (uint32_t)k) &&
        side_widen(d) < 0)
        return -ENOMEM;
    if (d->wide)
        d->u.c64[at] += k;
    else
        d->u.c32[at] += (uint32_t)k;
    return 0;
}

int sketch_add(struct sketch *s, double v)
{
    double m = fabs(v);
    int rc = 0;

    if (isnan(v))
        return 0;
    if (m < 2.2250738585072014e-308) /* zero or subnormal */
        s->zeros++;
    else if (isinf(m))
        rc = side_add(v > 0 ? &s->pos : &s->neg, 0x7fe * SUB + SUB - 1, 1);
    else
        rc = side_add(v > 0 ? &s->pos : &s->neg, bucket_of(m), 1);
    if (rc < 0)
        return rc;
    s->count++;
    if (v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    return 0;
}

int sketch_merge(struct sketch *dst, const struct sketch *src)
{
    const struct sketch_side *sides[2] = {&src->pos, &src->neg};
    struct sketch_side *dsides[2] = {&dst->pos, &dst->neg};

    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < sides[k]->n; i++)
            if (side_get(sides[k], i) != 0 &&
                side_add(dsides[k], sides[k]->lo + i, side_get(sides[k], i)) < 0)
                return -ENOMEM;
    dst->zeros += src->zeros;
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

static double clamp(const struct sketch *s, double v)
{
    return v < s->min ? s->min : v > s->max ? s->max : v;
}

double sketch_quantile(const struct sketch *s, double q)
{
    uint64_t rank, seen = 0;

    if (s->count == 0 || isnan(q))
        return NAN;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    rank = (uint64_t)(q * (double)(s->count - 1) + 0.5);
    if (rank == 0)
        return s->min; /* the extremes are known exactly */
    if (rank >= s->count - 1)
        return s->max;
    /* negatives: largest magnitude first */
    for (uint32_t k = s->neg.n; k-- > 0;) {
        seen += side_get(&s->neg, k);
        if (seen > rank)
            return clamp(s, -bucket_mid(s->neg.lo + k));
    }
    seen += s->zeros;
    if (seen > rank)
        return clamp(s, 0.0);
    for (uint32_t k = 0; k < s->pos.n; k++) {
        seen += side_get(&s->pos, k);
        if (seen > rank)
            return clamp(s, bucket_mid(s->pos.lo + k));
    }
    return s->max;
}

uint64_t sketch_bytes(const struct sketch *s)
{
    return (uint64_t)s->pos.n * (s->pos.wide ? 8 : 4) + (uint64_t)s->neg.n * (s->neg.wide ? 8 : 4);
}
