/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/watch.h - noticing that a producer process died. For every
 * process owning an ACTIVE slot the aggregator opens a pidfd (one per
 * process, shared by its threads' slots); the event loop polls it through
 * the ring (watch_next_unarmed() hands it the new ones), and when it fires the process's slots are drained and freed
 * (drain_owner_gone). Slots whose owner could not be watched (no pidfd
 * support, a full fd table, an owner in another PID namespace, whose pid
 * names nobody or somebody else here) are left to the periodic liveness
 * check, which watch_uncovered() says is needed.
 */
#ifndef SHMETRICS_AGGREGATOR_WATCH_H
#define SHMETRICS_AGGREGATOR_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ingest/drain.h"

struct watch {
    int32_t pid;
    uint64_t start_time; /* the owner's, as its slot recorded it */
    int fd;              /* the pidfd; -1: entry free */
    bool armed;          /* handed out by watch_next_unarmed() */
};

struct watches {
    struct watch *w;
    uint32_t n, cap, max; /* entries in use or free, allocated, limit */
    uint32_t slots;
    uint32_t *seen_gen; /* per slot: generation looked at + 1; 0: none */
    bool *covered;      /* per slot: its owner has a watch */
    uint32_t uncovered; /* ACTIVE slots without a watch at the last scan */
    uint64_t pid_ns;    /* our PID namespace: pids of others mean nothing */
};

int watch_init(struct watches *ws, uint32_t slots);
/* Close every pidfd (the ring must be gone or not polling them). */
void watch_fini(struct watches *ws);
/* The segment is another one now, of slots slots: look at every slot
 * afresh. Watches in place stay (they name processes, not slots) until
 * they fire. 0, or -ENOMEM (then no slot counts as watched). */
int watch_reset(struct watches *ws, uint32_t slots);

/* Look at every ACTIVE slot and watch owners not watched yet. Owners found
 * already gone are handed to drain_owner_gone() at once. Reads the
 * segment. */
void watch_scan(struct watches *ws, struct drain *d);
/* A watch made since the last call, to poll: fd (POLLIN), reported with
 * its index to watch_take(). false when there is none. Reads no segment. */
bool watch_next_unarmed(struct watches *ws, uint32_t *index, int *fd);

/* The pidfd of entry index became readable (or its poll failed): close it
 * and take the process it watched into *w. false when the entry was not
 * in use. Reads no segment. */
bool watch_take(struct watches *ws, uint32_t index, struct watch *w);
/* Retire the slots of the process w watched that are gone (w from
 * watch_take()). Reads the segment. */
void watch_fired(struct watches *ws, const struct watch *w, struct drain *d);

/* Whether some ACTIVE slot relies on the liveness check (every slot does
 * after a failed watch_reset()). */
static inline bool watch_uncovered(const struct watches *ws)
{
    return ws->uncovered > 0 || ws->seen_gen == NULL;
}

#endif /* SHMETRICS_AGGREGATOR_WATCH_H */
