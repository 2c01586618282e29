/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/t_render.h - helpers of the render suites: a store
 * built with t_store.h, and what was rendered compared with a golden file.
 */
#ifndef SHMETRICS_TESTS_T_RENDER_H
#define SHMETRICS_TESTS_T_RENDER_H

#include <stdint.h>

#include "render/buf.h"
#include "store/store.h"
#include "t_store.h"

/* Assert that b holds exactly the bytes of GOLDEN_DIR/file. With
 * SHMET_GOLDEN_UPDATE set in the environment, write b there first. */
void t_golden(const struct buf *b, const char *file);

#endif /* SHMETRICS_TESTS_T_RENDER_H */
