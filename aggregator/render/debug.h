/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/debug.h - the JSON document of GET /debug (every key in
 * docs/ARCHITECTURE.md, "The /debug document"): segment geometry, aggregator totals, one entry per producer
 * slot in use, and every family with its series; histograms carry
 * cumulative buckets and quantiles from the sketch.
 */
#ifndef SHMETRICS_AGGREGATOR_DEBUG_H
#define SHMETRICS_AGGREGATOR_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "render/buf.h"
#include "shm.h"
#include "store/store.h"

/* The drain's totals, as the daemon read them. */
struct debug_totals {
    uint64_t samples; /* samples applied */
    uint64_t dropped; /* ring-full drops seen plus samples dropped for want of a slot */
    uint64_t invalid; /* records refused */
};

struct debug_ctx {
    const struct shmet__seg *seg; /* geometry only: the mapping may be gone */
    struct store *st;
    struct debug_totals totals;
    int32_t pid;
    double uptime_seconds;
    const struct shmet__slot_snap *slots; /* snapshots taken beforehand (libshm) */
    uint32_t nslots;                      /* 0 while the segment is lost */
    const char *path;                     /* the segment file */
    bool attached;                        /* false: lost, waiting for a new one */
    uint64_t attaches, lost;
};

/* Append the document to out; 0 or -ENOMEM. Reads no segment. */
int debug_render(const struct debug_ctx *c, struct buf *out);

#endif /* SHMETRICS_AGGREGATOR_DEBUG_H */
