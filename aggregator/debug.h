/* SPDX-License-Identifier: MIT */
/*
 * aggregator/debug.h - the JSON document of GET /debug (schema in
 * DESIGN.md): segment geometry, aggregator totals, one entry per producer
 * slot in use, and every family with its series; histograms carry
 * cumulative buckets and quantiles from the sketch.
 */
#ifndef SHMETRICS_AGGREGATOR_DEBUG_H
#define SHMETRICS_AGGREGATOR_DEBUG_H

#include "buf.h"
#include "drain.h"
#include "store.h"

struct debug_ctx {
    const struct shmet__seg *seg;
    struct store *st;
    const struct drain *d;
    int32_t pid;
    double uptime_seconds;
};

/* Append the document to out; 0 or -ENOMEM. */
int debug_render(const struct debug_ctx *c, struct buf *out);

/* Ring-full drops seen plus samples dropped for want of a slot. */
uint64_t debug_dropped_total(const struct debug_ctx *c);

#endif /* SHMETRICS_AGGREGATOR_DEBUG_H */
