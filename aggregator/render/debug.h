/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/debug.h - the JSON document of GET /debug (schema in
 * DESIGN.md): segment geometry, aggregator totals, one entry per producer
 * slot in use, and every family with its series; histograms carry
 * cumulative buckets and quantiles from the sketch.
 */
#ifndef SHMETRICS_AGGREGATOR_DEBUG_H
#define SHMETRICS_AGGREGATOR_DEBUG_H

#include <stdbool.h>

#include "render/buf.h"
#include "ingest/drain.h"
#include "store/store.h"

/* One producer slot as read from the segment. */
struct debug_slot {
    uint32_t state, generation;
    int32_t pid, tid;
    uint64_t ring_used, head, tail, defines, dropped, arena_used, arena_dropped;
};

struct debug_ctx {
    const struct shmet__seg *seg; /* geometry only: the mapping may be gone */
    struct store *st;
    const struct drain *d;
    int32_t pid;
    double uptime_seconds;
    const struct debug_slot *slots; /* read by debug_slot_read() beforehand */
    uint32_t nslots;                /* 0 while the segment is lost */
    const char *path;               /* the segment file */
    bool attached;                  /* false: lost, waiting for a new one */
    uint64_t attaches, lost;
};

/* Copy slot i of seg into out. Reads the segment (guard it: guard.h). */
void debug_slot_read(const struct shmet__seg *seg, uint32_t i, struct debug_slot *out);

/* Append the document to out; 0 or -ENOMEM. Reads no segment. */
int debug_render(const struct debug_ctx *c, struct buf *out);

/* Ring-full drops seen plus samples dropped for want of a slot. */
uint64_t debug_dropped_total(const struct debug_ctx *c);

#endif /* SHMETRICS_AGGREGATOR_DEBUG_H */
