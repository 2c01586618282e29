/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/selfmetrics.h - the aggregator's own shmetrics_* families,
 * kept in the store (marked internal, so producers cannot define the same
 * names) and refreshed from the drain counters before every render.
 */
#ifndef SHMETRICS_AGGREGATOR_SELFMETRICS_H
#define SHMETRICS_AGGREGATOR_SELFMETRICS_H

#include "ingest/drain.h"
#include "store/store.h"

struct selfmetrics {
    struct store_family *samples, *dropped, *invalid, *series, *folded, *producers, *noslot,
        *drain_seconds, *scrape_seconds, *build, *families, *slots_freed, *attaches, *lost,
        *claims_reclaimed, *overflow_samples, *definitions, *mismatch, *conflicts;
    struct store_series *drain_s, *scrape_s;
};

/* The server's hold on the segment (hold.h), as counted. */
struct self_segment {
    uint64_t attaches; /* attaches, the first included */
    uint64_t lost;     /* times the segment was lost (truncated under us) */
};

int self_init(struct selfmetrics *m, struct store *st, const struct drain *d);
/* Copy current totals into the internal families. Reads no segment: the
 * drain noted what it saw there. */
void self_update(struct selfmetrics *m, struct store *st, const struct drain *d,
                 const struct self_segment *seg);
void self_observe_drain(struct selfmetrics *m, double seconds);
void self_observe_scrape(struct selfmetrics *m, double seconds);

#endif /* SHMETRICS_AGGREGATOR_SELFMETRICS_H */
