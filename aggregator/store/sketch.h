/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store/sketch.h - a mergeable log-linear quantile sketch: every
 * binary octave is cut into 64 equal sub-buckets, so a bucket's midpoint
 * is within 1/128 (0.78%) of any value in it; quantiles are answered with
 * at most that relative error. Indexing reads the IEEE-754 exponent and
 * the top 6 mantissa bits: no log(), a few integer instructions.
 */
#ifndef SHMETRICS_AGGREGATOR_SKETCH_H
#define SHMETRICS_AGGREGATOR_SKETCH_H

#include <stdint.h>

#define SKETCH_SUB_BITS 6
#define SKETCH_MAX_BUCKETS 8192u /* 128 octaves; lower ones collapse */

/* One side (positive values, or magnitudes of negative ones). Counts are
 * 32-bit, half the memory of a histogram series' sketch, until one would
 * pass 2^32 - 1: then the side is widened to 64-bit counts for good. */
struct sketch_side {
    union {
        uint32_t *c32; /* c32[i] is bucket lo + i (wide == 0) */
        uint64_t *c64; /* c64[i] is bucket lo + i (wide == 1) */
    } u;
    uint32_t lo;   /* first bucket index held */
    uint32_t n;    /* buckets held */
    uint8_t wide;
};

struct sketch {
    struct sketch_side pos, neg;
    uint64_t zeros; /* exact zeros (and subnormals) */
    uint64_t count;
    double min, max;
};

void sketch_init(struct sketch *s);
void sketch_fini(struct sketch *s);
/* Adds v (NaN is ignored); returns 0 or -ENOMEM. */
int sketch_add(struct sketch *s, double v);
/* Adds every count of src to dst. */
int sketch_merge(struct sketch *dst, const struct sketch *src);
/* The q-quantile (0 <= q <= 1) of the values added; NaN when empty. */
double sketch_quantile(const struct sketch *s, double q);
/* Bytes held by the sketch's bucket arrays. */
uint64_t sketch_bytes(const struct sketch *s);

#endif /* SHMETRICS_AGGREGATOR_SKETCH_H */
