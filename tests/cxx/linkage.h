/* SPDX-License-Identifier: MIT */
/*
 * tests/cxx/linkage.h - the translation units of the linkage test
 * (linkage.cmake): each includes shmetrics.h, calls every recorder inline
 * and hands back the recorders' addresses, which must be one per program.
 */
#ifndef SHMETRICS_TESTS_LINKAGE_H
#define SHMETRICS_TESTS_LINKAGE_H

#include <shmetrics.h>

#ifdef __cplusplus
extern "C" {
#endif

struct linkage_ptrs {
    void (*inc)(struct shmet_series s);
    void (*add)(struct shmet_series s, double v);
    void (*dec)(struct shmet_series s);
    void (*set)(struct shmet_series s, double v);
    void (*observe)(struct shmet_series s, double v);
};

/* linkage_tu.c, built as each of these (LINKAGE_TU names it). */
void linkage_a(struct shmet_series s, struct linkage_ptrs *out);
void linkage_b(struct shmet_series s, struct linkage_ptrs *out);
void linkage_cxx(struct shmet_series s, struct linkage_ptrs *out);

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_TESTS_LINKAGE_H */
