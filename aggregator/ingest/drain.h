/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/drain.h - moving samples from the segment into the store.
 * For every slot: follow its generation, copy records out of its ring,
 * resolve slot-local ids through the slot's definition arena, validate
 * everything (the segment is untrusted) and apply it to the store; free
 * slots whose owner is gone once their ring is empty.
 */
#ifndef SHMETRICS_AGGREGATOR_DRAIN_H
#define SHMETRICS_AGGREGATOR_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "shm.h"
#include "store/store.h"

/* Why a record or definition was refused (shmetrics_invalid_records_total). */
enum invalid_reason {
    INV_BAD_OP,          /* unknown op code */
    INV_UNKNOWN_SERIES,  /* series id never defined in this slot */
    INV_TYPE_MISMATCH,   /* op does not fit the family's type */
    INV_BAD_VALUE,       /* negative or NaN counter increment, NaN observation */
    INV_BAD_DEFINITION,  /* arena entry malformed or names invalid */
    INV_FAMILY_CONFLICT, /* same family name, another type (and its records) */
    INV_RING_CORRUPT,    /* head not within one ring of tail */
    INV_BAD_STATE,       /* slot state or generation invalid */
    INV_RESERVED_VALUE,  /* a series other than its family's declared
                          * __overflow__ with a value "__overflow__" */
    INV_DEFINITION_LIMIT, /* a family already holding STORE_DEFS_MAX definitions */
    INV_COUNT,
};

const char *invalid_reason_name(enum invalid_reason r);

/* Slot-local id -> pointer, as a two-level table (ids are < 2^24). */
struct idmap {
    void **pages;
    uint32_t npages;
    uint32_t elem; /* bytes per entry */
};

struct binding {
    struct store_series *s;  /* NULL while undefined, or refused */
    struct gauge_contrib *g; /* this producer's contribution, gauges only */
    union {
        uint64_t *hist;                  /* s's bucket counts, histograms only: prefetched */
        struct store_conflict *conflict; /* refused for a type conflict: counted there */
    };
    uint8_t refused; /* enum invalid_reason + 1: every record of the id is refused */
    uint8_t fold;    /* enum store_fold: why s is the family's placeholder */
    bool mismatch;   /* s has another layout than the producer's definition */
    bool counted;    /* fold or mismatch: its samples are also counted there */
};

struct slot_state {
    bool attached;
    uint32_t gen;
    int32_t pid;
    uint64_t start_time;
    struct shmet__ring_consumer rc;
    uint64_t arena_off;    /* next arena entry to read */
    struct idmap families; /* local family id -> struct store_family * */
    struct idmap series;   /* local series id -> struct binding */
    uint64_t samples;      /* records applied, this generation */
    uint64_t invalid;      /* refused, this generation */
    uint64_t dropped_seen; /* slot->dropped when last read */
    bool bad;              /* detached: state/generation below were refused */
    uint32_t bad_state, bad_gen;
};

struct drain {
    struct shmet__seg *seg;
    struct store *st;
    struct slot_state *slots;
    uint32_t nslots;        /* entries of slots: seg->slots at the last (re)bind */
    uint32_t ncounted;      /* entries of slot_samples and slot_dropped */
    uint32_t active;        /* ACTIVE slots seen by the last drain_all() */
    uint64_t samples_total; /* all records applied, ever */
    uint64_t dropped_total; /* ring-full drops seen in any slot, ever */
    uint64_t noslot_total;  /* samples producers dropped for want of a slot, ever */
    uint64_t noslot_seen;   /* the header's noslot_dropped when last read */
    uint64_t *slot_samples; /* per slot index, all generations and segments */
    uint64_t *slot_dropped; /* per slot index, all generations and segments */
    uint64_t invalid[INV_COUNT];
    uint64_t slots_freed;
    uint64_t claims_reclaimed; /* slots given back after a claimer died mid-claim */
    uint64_t defines;
    uint8_t defbuf[SHMET_DEF_MAX] __attribute__((aligned(8)));
};

int drain_init(struct drain *d, struct shmet__seg *seg, struct store *st);
void drain_fini(struct drain *d);

/* The segment is gone (tag-seg-hold in hold.h): forget every slot without
 * touching the mapping; gauge contributions leave, totals stay. */
void drain_forget(struct drain *d);
/* *d->seg is now another segment: forget the old slots and size the slot
 * state for the new geometry. Totals, per-slot counts included, go on.
 * Touches no segment. 0 or -ENOMEM (then nothing changed but the forget). */
int drain_rebind(struct drain *d);

/* Drain every slot once; note the ACTIVE slots and the header's no-slot
 * drops. Returns the records applied. */
uint64_t drain_all(struct drain *d);
/* Drain one slot; frees it when DEAD and empty. */
uint64_t drain_slot(struct drain *d, uint32_t idx);
/* The owner of slot idx (generation gen) is gone: retire, drain, free.
 * An owner that holds the slot lock (tag-slot-lock in abi.h) is gone only
 * when the lock can be taken: told otherwise by a pidfd or a pid from
 * another PID namespace, this does nothing. Returns whether it retired the
 * slot. */
bool drain_owner_gone(struct drain *d, uint32_t idx, uint32_t gen);
/* Check every ACTIVE slot's owner, by its slot lock, or with /proc when it
 * holds none; returns slots found dead. */
uint32_t drain_check_liveness(struct drain *d);
/* Give back the slots whose claimer died in the middle of its claim
 * (tag-slot-claim in abi.h); returns how many. */
uint32_t drain_reclaim_claims(struct drain *d);

uint64_t drain_invalid_total(const struct drain *d);

/*
 * Gauges of live producers across a graceful restart (checkpoint.c). A
 * SUM/MAX/MIN gauge holds one contribution per producer; a producer that
 * set its gauge once and stays idle would vanish from the sum when the
 * aggregator restarts, since the record that set it was consumed. So the
 * checkpoint keeps each ACTIVE producer's contributions, named by its
 * owner (slot, generation, pid, start time) and its slot-local series id,
 * and the next aggregator rejoins them before its first drain, if the
 * same producer still owns the slot and lives. Records it wrote after
 * the checkpoint are still in its ring and apply on top, in order.
 */
struct drain_owner {
    uint32_t idx, gen;
    int32_t pid;
    uint64_t start_time;
};

/* Called with each contribution of each attached, ACTIVE slot. */
typedef void (*drain_gauge_fn)(void *ctx, const struct drain_owner *o, uint32_t id, double value);
void drain_each_gauge(const struct drain *d, drain_gauge_fn fn, void *ctx);

/* Attach slot o->idx if o still owns it and lives: 0, -ESTALE or -EINVAL. */
int drain_adopt(struct drain *d, const struct drain_owner *o);
/* Rejoin the contribution of series id of an adopted slot: 0, -ESTALE
 * (not adopted), -EINVAL (not a SUM/MAX/MIN gauge there) or -ENOMEM. */
int drain_restore_gauge(struct drain *d, uint32_t idx, uint32_t id, double value);

#endif /* SHMETRICS_AGGREGATOR_DRAIN_H */
