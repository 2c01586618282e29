/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/t_render.h - helpers of the render suites: building a
 * store (a definition from C strings, a series from its label values;
 * each asserts that the store took it), and comparing what was rendered
 * with a golden file.
 */
#ifndef SHMETRICS_TESTS_T_RENDER_H
#define SHMETRICS_TESTS_T_RENDER_H

#include <stdint.h>

#include "render/buf.h"
#include "store/store.h"

/* The definition of name with labels (NULL-terminated, or NULL for
 * none), help, bounds (histograms), gauge mode SUM; made or found. */
struct store_def *t_def(struct store *st, const char *name, uint8_t type, const char *help,
                        const char *const *labels, const double *bounds, uint32_t nbounds);

/* The series of d's label values (d->nlabels of them), made or found, or
 * the placeholder it folded into. */
struct store_series *t_series(struct store *st, struct store_def *d, const char *const *values);

/* Assert that b holds exactly the bytes of GOLDEN_DIR/file. With
 * SHMET_GOLDEN_UPDATE set in the environment, write b there first. */
void t_golden(const struct buf *b, const char *file);

#endif /* SHMETRICS_TESTS_T_RENDER_H */
