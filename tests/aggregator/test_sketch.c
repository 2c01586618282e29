/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/test_sketch.c - the quantile sketch against an exact
 * oracle (sorted samples): relative error at most 1% for every quantile
 * asked, over several distributions; merging equals sketching the union.
 */
#include <math.h>
#include <stdlib.h>

#include "sketch.h"
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
    };
    return T_RUN("sketch", tests);
}
