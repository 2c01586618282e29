/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/owner.c - the owners of slots: judging whether a
 * producer lives (by its slot lock, tag-slot-lock, or by pid and start
 * time), retiring and freeing the slots of one that died, giving back
 * claims left half-made, and the gauge contributions of live producers
 * across a graceful restart (drain.h).
 */
#include <errno.h>
#include <string.h>

#include "ingest/drain_impl.h"
#include "log.h"

/* tag-slot-lock: the owner of a lock-aware slot is gone exactly when we
 * can take its lock. Returns 1 (gone: the lock is ours until
 * owner_release()), 0 (alive), or -1 (a slot without a lock, or a lock we
 * cannot test: the caller judges by pid). */
static int owner_lock_take(struct drain *d, uint32_t idx, uint32_t gen)
{
    int rc;

    if (!shmet__slot_lock_aware(shmet__slot(d->seg, idx), gen))
        return -1;
    rc = shmet__slot_lock(d->seg, idx);
    if (rc == -EAGAIN)
        return 0;
    return rc == 0 ? 1 : -1;
}

/* A producer that died without retiring its slot, at info: worth an
 * operator's eye, but a pre-fork server recycling thousands of workers
 * must not flood the log, so at most DEATHS_TOLD lines per DEATHS_WINDOW,
 * then one line counting the rest. */
#define DEATHS_TOLD 10u
#define DEATHS_WINDOW_NS UINT64_C(10000000000)

static void tell_death(uint32_t idx, int32_t pid, uint32_t gen)
{
    static uint64_t window_end;
    static uint32_t told, quiet;
    uint64_t now = shmet__now_ns();

    if (now >= window_end) {
        if (quiet > 0)
            log_info("%u more producers died in the last %u s without a line each", quiet,
                     (unsigned)(DEATHS_WINDOW_NS / 1000000000u));
        window_end = now + DEATHS_WINDOW_NS;
        told = quiet = 0;
    }
    if (told++ < DEATHS_TOLD)
        log_producer(LOG_LEVEL_INFO, idx, pid,
                     "died without retiring its slot (generation %u): drained what it left, "
                     "dropped its gauge values, freed the slot",
                     gen);
    else
        quiet++;
}

bool drain_owner_gone(struct drain *d, uint32_t idx, uint32_t gen)
{
    int locked;

    if (idx >= d->nslots)
        return false;
    /* Whoever told us (a pidfd, a pid check) cannot overrule the lock. */
    locked = owner_lock_take(d, idx, gen);
    if (locked == 0)
        return false;
    /* RELAXED: a report; the owner wrote it before its ACTIVE state. */
    int32_t pid = atomic_load_explicit(&shmet__slot(d->seg, idx)->pid, memory_order_relaxed);
    bool retired = shmet__slot_retire(d->seg, idx, gen) == 0;
    if (retired)
        tell_death(idx, pid, gen);
    (void)drain_slot(d, idx);
    /* DEAD (or FREE) now: claimers skip it until it is FREE anyway. */
    if (locked == 1)
        (void)shmet__slot_unlock(d->seg, idx);
    return retired;
}

/* The owner of an ACTIVE slot: 1 alive, 0 gone, by its lock when it holds
 * one (tested without taking it), else by pid and start time. */
static int owner_alive(const struct drain *d, uint32_t idx, uint32_t gen)
{
    const struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);

    if (shmet__slot_lock_aware(sl, gen)) {
        int held = shmet__slot_lock_held(d->seg, idx);
        if (held >= 0)
            return held;
    }
    /* RELAXED: as in drain_slot()'s attach; state was loaded with ACQUIRE. */
    return shmet__proc_alive(atomic_load_explicit(&sl->pid, memory_order_relaxed),
                             atomic_load_explicit(&sl->start_time, memory_order_relaxed)) != 0;
}

uint32_t drain_check_liveness(struct drain *d)
{
    uint32_t dead = 0;

    for (uint32_t i = 0; i < d->nslots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(d->seg, i);
        /* ACQUIRE: as in drain_slot(). */
        uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
        uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed);

        if (state != SHMET_SLOT_ACTIVE || owner_alive(d, i, gen))
            continue;
        dead += drain_owner_gone(d, i, gen);
    }
    return dead;
}

/* ---- gauges across a graceful restart --------------------------------- */

void drain_each_gauge(const struct drain *d, drain_gauge_fn fn, void *ctx)
{
    for (uint32_t i = 0; i < d->seg->slots; i++) {
        const struct slot_state *ss = &d->slots[i];
        /* ACQUIRE: as in drain_slot(). A producer that retired its slot has
         * left; its contributions are about to be dropped, not kept. */
        uint32_t state = atomic_load_explicit(&shmet__slot(d->seg, i)->state, memory_order_acquire);
        struct drain_owner o = {i, ss->gen, ss->pid, ss->start_time};

        if (!ss->attached || state != SHMET_SLOT_ACTIVE)
            continue;
        for (uint32_t p = 0; p < ss->series.npages; p++) {
            const struct binding *b = ss->series.pages[p];
            for (uint32_t k = 0; b != NULL && k < PAGE_IDS; k++)
                if (b[k].g != NULL)
                    fn(ctx, &o, p * PAGE_IDS + k, b[k].g->value);
        }
    }
}

int drain_adopt(struct drain *d, const struct drain_owner *o)
{
    struct shmet_abi_slot *sl;

    if (o->idx >= d->seg->slots)
        return -EINVAL;
    sl = shmet__slot(d->seg, o->idx);
    /* ACQUIRE: as in drain_slot(); then RELAXED, as in drain_slot_attach(). */
    if (atomic_load_explicit(&sl->state, memory_order_acquire) != SHMET_SLOT_ACTIVE ||
        atomic_load_explicit(&sl->generation, memory_order_relaxed) != o->gen ||
        atomic_load_explicit(&sl->pid, memory_order_relaxed) != o->pid ||
        atomic_load_explicit(&sl->start_time, memory_order_relaxed) != o->start_time ||
        owner_alive(d, o->idx, o->gen) != 1)
        return -ESTALE;
    if (!d->slots[o->idx].attached || d->slots[o->idx].gen != o->gen)
        drain_slot_attach(d, o->idx, o->gen);
    return 0;
}

int drain_restore_gauge(struct drain *d, uint32_t idx, uint32_t id, double value)
{
    struct slot_state *ss;
    struct binding *b;

    if (idx >= d->seg->slots || !d->slots[idx].attached)
        return -ESTALE;
    ss = &d->slots[idx];
    b = drain_resolve(d, idx, ss, id);
    if (b == NULL || b->s->fam->type != SHMET_TYPE_GAUGE ||
        b->s->def->gauge_mode == SHMET_GAUGE_LAST)
        return -EINVAL;
    if (b->g == NULL && (b->g = store_gauge_join(b->s)) == NULL)
        return -ENOMEM;
    b->g->value = value;
    b->s->touched = true;
    return 0;
}

/* ---- claims left by dead claimers ---------------------------------------- */

/* Slot i's claim word names claimer, and we hold the slot lock (or the
 * segment has none): no locked claim is under way. A claim word that a
 * locked claimer wrote (lock_claimer names it) was left by a claimer that
 * died; one without was written by a producer that holds no lock, judged
 * by its tid as before. A claim takes microseconds: one still held is
 * either under way (its thread is alive) or left by a thread that died. */
static bool claim_abandoned(const struct drain *d, uint32_t i, int32_t claimer, bool locked)
{
    /* RELAXED: written by locked claimers before their claim word, whose
     * RELEASE our caller's ACQUIRE load of the word pairs with. */
    int32_t named = atomic_load_explicit(&shmet__slot(d->seg, i)->lock_claimer,
                                         memory_order_relaxed);

    if (locked && named == claimer)
        return true;
    return shmet__proc_alive(claimer, 0) == 0;
}

uint32_t drain_reclaim_claims(struct drain *d)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < d->seg->slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(d->seg, i);
        /* RELAXED: a hint, re-read below. */
        if (atomic_load_explicit(&sl->claimer, memory_order_relaxed) == 0)
            continue;
        /* tag-slot-lock: a locked claimer holds the lock for all of its
         * claim, so while we hold it none is under way. */
        int rc = shmet__slot_lock(d->seg, i);
        if (rc == -EAGAIN)
            continue;
        /* ACQUIRE: pairs with the claimer's RELEASE on the word, so its
         * lock_claimer is visible; shmet__slot_unclaim() changes nothing
         * unless the word still names this claimer. */
        int32_t claimer = atomic_load_explicit(&sl->claimer, memory_order_acquire);
        if (claimer != 0 && claim_abandoned(d, i, claimer, rc == 0) &&
            shmet__slot_unclaim(d->seg, i, claimer) == 0) {
            log_producer(LOG_LEVEL_INFO, i, 0,
                         "claimer (tid %d) died half way through its claim: slot given back",
                         (int)claimer);
            n++;
        }
        if (rc == 0)
            (void)shmet__slot_unlock(d->seg, i);
    }
    d->claims_reclaimed += n;
    return n;
}
