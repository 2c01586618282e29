/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/store/test_sketch.c - the quantile sketch against an exact
 * oracle (sorted samples): relative error at most 1% for every quantile
 * asked, over several distributions; merging equals sketching the union.
 */
#include <math.h>
#include <stdlib.h>

#include "store/sketch.h"
#include "t_util.h"

#define N 200000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double uniform01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Exact q-quantile with the sketch's rank rule: round(q * (n - 1)). */
static double exact(const double *sorted, size_t n, double q)
{
    return sorted[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void check_distribution(double (*gen)(void))
{
    static const double qs[] = {0, 0.001, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    double *v = malloc(N * sizeof(double));
    struct sketch s;

    sketch_init(&s);
    for (size_t i = 0; i < N; i++) {
        v[i] = gen();
        CU_ASSERT_EQUAL_FATAL(sketch_add(&s, v[i]), 0);
    }
    qsort(v, N, sizeof(double), cmp_double);
    CU_ASSERT_EQUAL(s.count, N);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double want = exact(v, N, qs[i]), got = sketch_quantile(&s, qs[i]);
        double err = want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
        CU_ASSERT(err <= 0.01);
        if (err > 0.01)
            fprintf(stderr, "q=%g want %.17g got %.17g err %g\n", qs[i], want, got, err);
    }
    sketch_fini(&s);
    free(v);
}

static double gen_uniform(void)
{
    return uniform01() * 10.0;
}

static double gen_lognormal(void)
{
    double u = uniform01(), w = uniform01();
    return exp(-3.0 + 2.0 * sqrt(-2 * log(u)) * cos(2 * M_PI * w));
}

static double gen_exponential(void)
{
    return -log(uniform01()) * 0.05;
}

static double gen_mixed_sign(void)
{
    double x = gen_lognormal();
    return uniform01() < 0.3 ? -x : (uniform01() < 0.05 ? 0.0 : x);
}

static double gen_wide(void) /* 1e-9 .. 1e9 */
{
    return pow(10.0, uniform01() * 18.0 - 9.0);
}

static void test_sketch_quantile_uniform(void)
{
    check_distribution(gen_uniform);
}

static void test_sketch_quantile_lognormal(void)
{
    check_distribution(gen_lognormal);
}

static void test_sketch_quantile_exponential(void)
{
    check_distribution(gen_exponential);
}

static void test_sketch_quantile_mixed_sign(void)
{
    check_distribution(gen_mixed_sign);
}

static void test_sketch_quantile_wide_range(void)
{
    check_distribution(gen_wide);
}

static void test_sketch_quantile_empty_and_edges(void)
{
    struct sketch s;

    sketch_init(&s);
    CU_ASSERT(isnan(sketch_quantile(&s, 0.5)));
    CU_ASSERT_EQUAL(sketch_add(&s, NAN), 0);
    CU_ASSERT_EQUAL(s.count, 0);
    CU_ASSERT_EQUAL(sketch_add(&s, 0.0), 0);
    CU_ASSERT_EQUAL(sketch_quantile(&s, 0.5), 0.0);
    CU_ASSERT_EQUAL(sketch_add(&s, INFINITY), 0);
    CU_ASSERT_EQUAL(sketch_quantile(&s, 1.0), INFINITY);
    CU_ASSERT_EQUAL(sketch_quantile(&s, 0.0), 0.0);
    /* one value: every quantile is that value exactly (clamped to min/max) */
    sketch_fini(&s);
    CU_ASSERT_EQUAL(sketch_add(&s, 0.042), 0);
    CU_ASSERT_EQUAL(sketch_quantile(&s, 0.5), 0.042);
    CU_ASSERT_EQUAL(sketch_quantile(&s, 0.99), 0.042);
    sketch_fini(&s);
}

static void test_sketch_merge_equals_union(void)
{
    struct sketch a, b, all;

    sketch_init(&a);
    sketch_init(&b);
    sketch_init(&all);
    for (int i = 0; i < 50000; i++) {
        double x = gen_lognormal(), y = gen_uniform() + 100;
        sketch_add(&a, x);
        sketch_add(&b, y);
        sketch_add(&all, x);
        sketch_add(&all, y);
    }
    CU_ASSERT_EQUAL(sketch_merge(&a, &b), 0);
    CU_ASSERT_EQUAL(a.count, all.count);
    for (double q = 0; q <= 1.0; q += 0.01)
        CU_ASSERT_EQUAL(sketch_quantile(&a, q), sketch_quantile(&all, q));
    sketch_fini(&a);
    sketch_fini(&b);
    sketch_fini(&all);
}

static void test_sketch_add_memory_bounded(void)
{
    struct sketch s;

    sketch_init(&s);
    /* values spanning the whole double range cannot hold more than the cap */
    for (int e = -1000; e < 1000; e += 3)
        sketch_add(&s, ldexp(1.0, e));
    CU_ASSERT(s.pos.n <= SKETCH_MAX_BUCKETS);
    CU_ASSERT(sketch_bytes(&s) <= SKETCH_MAX_BUCKETS * sizeof(uint64_t));
    CU_ASSERT_EQUAL(sketch_quantile(&s, 1.0), ldexp(1.0, 998));
    sketch_fini(&s);
}

/* Counts start 32-bit; one that would pass 2^32 - 1 widens its side to
 * 64-bit and loses nothing. Merging two sketches into each other in turn
 * grows the counts as Fibonacci numbers, past 2^32 in 48 rounds. */
static void test_sketch_counts_widen_past_32_bits(void)
{
    struct sketch a, b;
    uint64_t fa = 1, fb = 0; /* the counts each should hold */

    sketch_init(&a);
    sketch_init(&b);
    sketch_add(&a, 0.25);
    sketch_add(&a, -3.0);
    sketch_add(&a, 1e6);
    CU_ASSERT_EQUAL(sketch_bytes(&a), (a.pos.n + a.neg.n) * sizeof(uint32_t));
    for (int r = 0; r < 50; r++) {
        CU_ASSERT_EQUAL_FATAL(sketch_merge(&b, &a), 0);
        fb += fa;
        CU_ASSERT_EQUAL_FATAL(sketch_merge(&a, &b), 0);
        fa += fb;
    }
    CU_ASSERT(fa > 3 * (uint64_t)UINT32_MAX);
    CU_ASSERT_EQUAL(a.count, 3 * fa);
    CU_ASSERT_EQUAL(b.count, 3 * fb);
    CU_ASSERT(a.pos.wide && a.neg.wide && b.pos.wide);
    CU_ASSERT_EQUAL(sketch_bytes(&a), (a.pos.n + a.neg.n) * sizeof(uint64_t));
    /* a third of the mass each: -3, 0.25, 1e6 (within the 1% bound) */
    CU_ASSERT_DOUBLE_EQUAL(sketch_quantile(&a, 0.2), -3.0, 0.03);
    CU_ASSERT_DOUBLE_EQUAL(sketch_quantile(&a, 0.5), 0.25, 0.0025);
    CU_ASSERT_DOUBLE_EQUAL(sketch_quantile(&a, 0.8), 1e6, 1e4);
    /* one more value after widening lands exactly */
    CU_ASSERT_EQUAL(sketch_add(&a, 0.25), 0);
    CU_ASSERT_EQUAL(a.count, 3 * fa + 1);
    sketch_fini(&a);
    sketch_fini(&b);
}

/* The same when the lowest buckets are folded together (a value 128
 * octaves above them): two of 2^31 each fold into 2^32. */
static void test_sketch_fold_widens(void)
{
    struct sketch a, c;

    sketch_init(&a);
    sketch_add(&a, 1e-300);
    sketch_add(&a, 2e-300);
    for (int r = 0; r < 31; r++) { /* doubling: a += a */
        sketch_init(&c);
        CU_ASSERT_EQUAL_FATAL(sketch_merge(&c, &a), 0);
        CU_ASSERT_EQUAL_FATAL(sketch_merge(&a, &c), 0);
        sketch_fini(&c);
    }
    CU_ASSERT_EQUAL(a.count, UINT64_C(1) << 32);
    CU_ASSERT(!a.pos.wide);
    CU_ASSERT_EQUAL(sketch_add(&a, 1e10), 0);
    CU_ASSERT(a.pos.wide);
    CU_ASSERT(a.pos.n <= SKETCH_MAX_BUCKETS);
    CU_ASSERT_EQUAL(a.count, (UINT64_C(1) << 32) + 1);
    CU_ASSERT_EQUAL(sketch_quantile(&a, 0), 1e-300);
    CU_ASSERT_EQUAL(sketch_quantile(&a, 1), 1e10);
    /* all the folded mass sits in the lowest bucket kept, below 1e10 */
    CU_ASSERT(sketch_quantile(&a, 0.5) < 1e10 / 1e30);
    sketch_fini(&a);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_sketch_quantile_uniform", test_sketch_quantile_uniform},
        {"test_sketch_quantile_lognormal", test_sketch_quantile_lognormal},
        {"test_sketch_quantile_exponential", test_sketch_quantile_exponential},
        {"test_sketch_quantile_mixed_sign", test_sketch_quantile_mixed_sign},
        {"test_sketch_quantile_wide_range", test_sketch_quantile_wide_range},
        {"test_sketch_quantile_empty_and_edges", test_sketch_quantile_empty_and_edges},
        {"test_sketch_merge_equals_union", test_sketch_merge_equals_union},
        {"test_sketch_add_memory_bounded", test_sketch_add_memory_bounded},
        {"test_sketch_counts_widen_past_32_bits", test_sketch_counts_widen_past_32_bits},
        {"test_sketch_fold_widens", test_sketch_fold_widens},
    };
    return T_RUN("sketch", tests);
}
