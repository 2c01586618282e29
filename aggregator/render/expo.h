/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/expo.h - rendering the store as Prometheus text exposition
 * 0.0.4 or OpenMetrics 1.0.0: families sorted by name, each once, series
 * sorted by label values, constant labels first on every series.
 *
 * The render stage turns the store into bytes and reads nothing else:
 *   expo.c    text and OpenMetrics (this file's)
 *   debug.c   the /debug JSON document, over json.c, a streaming writer
 *   number.c  every number's text: shortest round-trip doubles, integers
 *   buf.c     the growable byte buffer every answer is built in
 *   gzip.c    Content-Encoding: gzip
 * It reads the store (store/) only, never the segment, and calls nothing
 * above it (docs/ARCHITECTURE.md, "The shape").
 */
#ifndef SHMETRICS_AGGREGATOR_EXPO_H
#define SHMETRICS_AGGREGATOR_EXPO_H

#include <stddef.h>

#include "render/buf.h"
#include "store/store.h"

enum expo_format {
    EXPO_TEXT,        /* text/plain; version=0.0.4 */
    EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

struct const_label {
    const char *name;
    const char *value;
};

struct expo_opts {
    const struct const_label *consts;
    size_t nconsts;
};

/* Append the whole exposition to out. Returns 0, or -ENOMEM. */
int expo_render(struct store *st, enum expo_format fmt, const struct expo_opts *o,
                struct buf *out);

/* The Content-Type header value of a format. */
const char *expo_content_type(enum expo_format fmt);

#endif /* SHMETRICS_AGGREGATOR_EXPO_H */
