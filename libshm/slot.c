/* SPDX-License-Identifier: MIT */
/*
 * libshm/slot.c - slot ownership: FREE -> CLAIMING -> ACTIVE -> DEAD -> FREE.
 *
 * A producer takes a FREE slot's claim word, moves it to CLAIMING,
 * initialises it (nobody else touches a CLAIMING slot), publishes it as
 * ACTIVE and gives the claim word back (tag-slot-claim in abi.h). A
 * claimer that died half way is named by the claim word; the aggregator
 * gives its slot back with shmet__slot_unclaim(). The owner retires it (ACTIVE -> DEAD) when its thread exits;
 * the aggregator does the same for owners that died. Only the consumer
 * frees a DEAD slot, after draining its ring. The generation increments on
 * every claim so that readers can tell two owners of one slot apart.
 * With a descriptor for locks, the claimer also takes the slot lock first
 * and keeps it for as long as it owns the slot (tag-slot-lock).
 */
#include <errno.h>

#include "shm.h"

const char *shmet__slot_state_name(uint32_t state)
{
    switch (state) {
    case SHMET_SLOT_FREE:
        return "free";
    case SHMET_SLOT_CLAIMING:
        return "claiming";
    case SHMET_SLOT_ACTIVE:
        return "active";
    case SHMET_SLOT_DEAD:
        return "dead";
    default:
        return "invalid";
    }
}

/* Reset everything a previous owner left, while we hold the slot CLAIMING.
 * RELAXED stores: the RELEASE store of ACTIVE in shmet__slot_claim()
 * publishes them all. */
static void slot_reset(struct shmet_abi_slot *sl, const struct shmet__owner *o, uint32_t gen,
                       bool locked)
{
    atomic_store_explicit(&sl->generation, gen, memory_order_relaxed);
    atomic_store_explicit(&sl->lock_gen, locked ? gen : 0, memory_order_relaxed);
    atomic_store_explicit(&sl->pid_ns, o->pid_ns, memory_order_relaxed);
    atomic_store_explicit(&sl->pid, o->pid, memory_order_relaxed);
    atomic_store_explicit(&sl->tid, o->tid, memory_order_relaxed);
    atomic_store_explicit(&sl->start_time, o->start_time, memory_order_relaxed);
    atomic_store_explicit(&sl->claimed_ns, shmet__now_ns(), memory_order_relaxed);
    atomic_store_explicit(&sl->flags, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->head, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->arena_used, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->defines, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->arena_dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->tail, 0, memory_order_relaxed);
}

/* Take the claim word of sl for tid; 0, or -1 when another claimer holds
 * it. ACQUIRE on success: pairs with the RELEASE in claim_word_give() and
 * shmet__slot_unclaim(), so the previous claim is complete. RELEASE too:
 * the lock_claimer stored before is visible to whoever reads the word with
 * ACQUIRE (the aggregator, judging a claim). */
static int claim_word_take(struct shmet_abi_slot *sl, int32_t tid)
{
    int32_t expect = 0;

    return atomic_compare_exchange_strong_explicit(&sl->claimer, &expect, tid,
                                                   memory_order_acq_rel, memory_order_relaxed)
               ? 0
               : -1;
}

/* RELEASE: the state we stored (ACTIVE, or FREE left alone) is visible
 * before the next claimer takes the word; pairs with claim_word_take().
 * A locked claim clears lock_claimer first (tag-slot-lock). */
static void claim_word_give(struct shmet_abi_slot *sl, bool locked)
{
    if (locked) /* RELAXED: published by the RELEASE below */
        atomic_store_explicit(&sl->lock_claimer, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->claimer, 0, memory_order_release);
}

/* tag-slot-lock: take slot i's lock and name ourselves in lock_claimer,
 * then the claim word. *locked says whether we hold the lock (a segment
 * without a lock descriptor, or a lock the kernel refuses for another
 * reason, claims without one). -1: the slot is in use, skip it. */
static int claim_begin(struct shmet__seg *s, uint32_t i, int32_t me, bool *locked)
{
    struct shmet_abi_slot *sl = shmet__slot(s, i);
    int32_t prev = 0;
    int rc = shmet__slot_lock(s, i);

    if (rc == -EAGAIN)
        return -1; /* a live owner or claimer holds it */
    *locked = rc == 0;
    if (*locked) {
        /* RELAXED: only holders of the lock write it (we, or the
         * aggregator reclaiming); the CAS below publishes our value. */
        prev = atomic_load_explicit(&sl->lock_claimer, memory_order_relaxed);
        atomic_store_explicit(&sl->lock_claimer, me, memory_order_relaxed);
    }
    if (claim_word_take(sl, me) == 0)
        return 0;
    if (*locked) { /* the word names another (a claimer without a lock) */
        atomic_store_explicit(&sl->lock_claimer, prev, memory_order_relaxed);
        (void)shmet__slot_unlock(s, i);
    }
    return -1;
}

int shmet__slot_claim(struct shmet__seg *s, const struct shmet__owner *o, uint32_t hint,
                      uint32_t *idx, uint32_t *gen)
{
    /* The claim word names the claiming thread (its pid if it has none). */
    int32_t me = o->tid > 0 ? o->tid : o->pid;

    if (s->readonly)
        return -EROFS;
    if (me <= 0)
        return -EINVAL;
    for (uint32_t n = 0; n < s->slots; n++) {
        /* In 64 bits: hint + n must not wrap before the modulo. */
        uint32_t i = (uint32_t)(((uint64_t)hint + n) % s->slots);
        struct shmet_abi_slot *sl = shmet__slot(s, i);
        uint32_t expect = SHMET_SLOT_FREE;

        /* RELAXED pre-check keeps the scan from bouncing busy lines. */
        if (atomic_load_explicit(&sl->state, memory_order_relaxed) != SHMET_SLOT_FREE ||
            atomic_load_explicit(&sl->claimer, memory_order_relaxed) != 0)
            continue;
        bool locked = false;
        if (claim_begin(s, i, me, &locked) < 0)
            continue;
        /* ACQUIRE on success: pairs with the consumer's RELEASE store of
         * FREE in shmet__slot_free() and shmet__slot_unclaim(), so its last
         * reads of this ring happen before our reset below. */
        if (!atomic_compare_exchange_strong_explicit(&sl->state, &expect, SHMET_SLOT_CLAIMING,
                                                     memory_order_acquire, memory_order_relaxed)) {
            claim_word_give(sl, locked);
            if (locked)
                (void)shmet__slot_unlock(s, i);
            continue;
        }
        uint32_t g = atomic_load_explicit(&sl->generation, memory_order_relaxed) + 1;
        if (g == 0)
            g = 1; /* 0 means "never claimed" to readers */
        slot_reset(sl, o, g, locked);
        /* RELEASE: publishes the reset above; pairs with the ACQUIRE loads
         * of state by the consumer and by shmtool. */
        atomic_store_explicit(&sl->state, SHMET_SLOT_ACTIVE, memory_order_release);
        claim_word_give(sl, locked);
        *idx = i;
        *gen = g;
        return 0;
    }
    return -EAGAIN;
}

/* ACTIVE -> DEAD, if the slot still holds generation gen. Called by the
 * owner at thread exit (after its last record) or by the aggregator when
 * the owner died. */
int shmet__slot_retire(struct shmet__seg *s, uint32_t idx, uint32_t gen)
{
    struct shmet_abi_slot *sl;
    uint32_t expect = SHMET_SLOT_ACTIVE;

    if (idx >= s->slots || s->readonly)
        return -EINVAL;
    sl = shmet__slot(s, idx);
    if (atomic_load_explicit(&sl->generation, memory_order_relaxed) != gen)
        return -ESTALE;
    /* RELEASE: the owner's last head store happens before DEAD is seen;
     * pairs with the consumer's ACQUIRE load of state before its final
     * drain. */
    return atomic_compare_exchange_strong_explicit(&sl->state, &expect, SHMET_SLOT_DEAD,
                                                   memory_order_release, memory_order_relaxed)
               ? 0
               : -ESTALE;
}

/* DEAD -> FREE, by the consumer, once the ring is empty. */
int shmet__slot_free(struct shmet__seg *s, uint32_t idx, uint32_t gen)
{
    struct shmet_abi_slot *sl;
    uint32_t expect = SHMET_SLOT_DEAD;

    if (idx >= s->slots || s->readonly)
        return -EINVAL;
    sl = shmet__slot(s, idx);
    if (atomic_load_explicit(&sl->generation, memory_order_relaxed) != gen)
        return -ESTALE;
    /* ACQUIRE on head: pairs with the owner's last RELEASE store of head. */
    if (atomic_load_explicit(&sl->head, memory_order_acquire) !=
        atomic_load_explicit(&sl->tail, memory_order_relaxed))
        return -EBUSY;
    /* RELEASE: our reads of the ring happen before a new owner's reset;
     * pairs with the ACQUIRE compare-and-swap in shmet__slot_claim(). */
    return atomic_compare_exchange_strong_explicit(&sl->state, &expect, SHMET_SLOT_FREE,
                                                   memory_order_release, memory_order_relaxed)
               ? 0
               : -ESTALE;
}

/* The claimer named claimer (a thread the caller found gone) died while
 * claiming slot idx: a CLAIMING slot goes back to FREE (nothing was ever
 * published from it, and the next claimer resets it all), any other state
 * is left as it is (an ACTIVE one has an owner the death checks find);
 * then the claim word is cleared. */
int shmet__slot_unclaim(struct shmet__seg *s, uint32_t idx, int32_t claimer)
{
    struct shmet_abi_slot *sl;
    uint32_t expect = SHMET_SLOT_CLAIMING;

    if (idx >= s->slots || s->readonly || claimer == 0)
        return -EINVAL;
    sl = shmet__slot(s, idx);
    /* ACQUIRE: pairs with the claimer's ACQUIRE/RELEASE on the word; what
     * it stored before dying happens before our state change. */
    if (atomic_load_explicit(&sl->claimer, memory_order_acquire) != claimer)
        return -ESTALE;
    /* RELEASE: pairs with the ACQUIRE compare-and-swap of the next
     * claimer in shmet__slot_claim(). */
    (void)atomic_compare_exchange_strong_explicit(&sl->state, &expect, SHMET_SLOT_FREE,
                                                  memory_order_release, memory_order_relaxed);
    /* RELAXED: a locked claimer's name goes with its claim (the caller
     * holds the slot lock when the claim was a locked one). */
    if (atomic_load_explicit(&sl->lock_claimer, memory_order_relaxed) == claimer)
        atomic_store_explicit(&sl->lock_claimer, 0, memory_order_relaxed);
    /* RELEASE: FREE is visible before the word is free to take; pairs with
     * claim_word_take(). */
    return atomic_compare_exchange_strong_explicit(&sl->claimer, &claimer, 0,
                                                   memory_order_release, memory_order_relaxed)
               ? 0
               : -ESTALE;
}
