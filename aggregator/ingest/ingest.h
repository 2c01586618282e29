/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/ingest.h - the ingest stage: everything that reads the
 * segment and everything that writes producers' data into the store.
 *
 *   hold.c        the segment file: mapped, flock()ed (one shmetricsd per
 *                 namespace), followed when it is truncated or replaced
 *   guard.c       the SIGBUS guard every read of the mapping runs under
 *   drain.c       rings -> store: records validated, ids bound to series
 *                 through the definition arena, dead slots freed
 *   watch.c       pidfds on producer processes: deaths noticed at once
 *   checkpoint.c  the store across a graceful restart
 *
 * The daemon drives this stage through the functions below, each of which
 * runs its reads of the segment guarded (tag-seg-guard in guard.h): after
 * a fault the drain forgets the lost mapping and the store keeps serving
 * what was drained. One thread; nothing here calls out of the stage but
 * into the store.
 */
#ifndef SHMETRICS_AGGREGATOR_INGEST_H
#define SHMETRICS_AGGREGATOR_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ingest/drain.h"
#include "ingest/hold.h"
#include "ingest/watch.h"
#include "store/store.h"

struct ingest {
    struct hold hold; /* the segment: hold.seg is what the drain reads */
    struct drain *d;  /* large (a definition buffer): on the heap */
    uint64_t drained; /* records applied by the last ingest_drain() */
};

/* hold_open() into in (see hold.h for the errors and messages). */
int ingest_open(struct ingest *in, const char *ns, const struct shmet__geometry *geo,
                const struct shmet__perm *perm, int32_t pid);
/* Set up the drain into st (before anything is drained). 0 or -ENOMEM. */
int ingest_start(struct ingest *in, struct store *st);
/* Free the drain, unmark and let go of the segment. NULL-safe, and safe
 * after a failed ingest_open(). */
void ingest_close(struct ingest *in);

/* Run fn(arg), which reads the segment, guarded: 0, or -ENXIO (no segment:
 * fn did not run) or -EFAULT (the segment was lost under fn, which was cut
 * short; the drain has forgotten it). */
int ingest_run(struct ingest *in, void (*fn)(void *), void *arg);

/* Drain every slot once: the records applied, or -ENXIO without a segment. */
int64_t ingest_drain(struct ingest *in);
/* Store the heartbeat (CLOCK_REALTIME) in the segment header. */
void ingest_heartbeat(struct ingest *in);
/* Has the segment been truncated, replaced, or (while lost) created
 * again? Follows it (hold_check()). Returns true when the drain reads
 * another segment now, whose geometry may differ: ws is reset for it. */
bool ingest_check_segment(struct ingest *in, struct watches *ws);

/* Watch the owners of slots claimed since the last scan (watch_scan()). */
void ingest_watch_scan(struct ingest *in, struct watches *ws);
/* The pidfd of entry index of ws fired: retire its process's slots. */
void ingest_watch_fired(struct ingest *in, struct watches *ws, uint32_t index);
/* Check every ACTIVE slot's owner (drain_check_liveness()). */
void ingest_liveness(struct ingest *in);
/* Give back slots whose claimer died mid-claim (drain_reclaim_claims()). */
void ingest_reclaim(struct ingest *in);

/* Samples applied since start: changes when a drain found records. */
static inline uint64_t ingest_samples(const struct ingest *in)
{
    return in->d->samples_total;
}

#endif /* SHMETRICS_AGGREGATOR_INGEST_H */
