/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/t_store.h - building a store for the suites that read
 * one (render, checkpoint): a definition from C strings, a series from its
 * label values; each asserts that the store took it.
 */
#ifndef SHMETRICS_TESTS_T_STORE_H
#define SHMETRICS_TESTS_T_STORE_H

#include <stdint.h>

#include "store/store.h"

/* The definition of name with labels (NULL-terminated, or NULL for
 * none), help, bounds (histograms) and gauge mode; made or found. */
struct store_def *t_def(struct store *st, const char *name, uint8_t type, uint8_t mode,
                        const char *help, const char *const *labels, const double *bounds,
                        uint32_t nbounds);

/* The series of d's label values (d->nlabels of them), made or found, or
 * the placeholder it folded into. */
struct store_series *t_series(struct store *st, struct store_def *d, const char *const *values);

#endif /* SHMETRICS_TESTS_T_STORE_H */
