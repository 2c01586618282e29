/* SPDX-License-Identifier: MIT */
/*
 * libshm/snap.c - a copy of one slot's control block for reports (shmtool,
 * shmetricsd's /debug), taken while its producer and the aggregator keep
 * changing it. Nothing here decides anything: the drain reads the fields
 * it acts on itself, with the orderings its decisions need.
 */
#include "shm.h"

#define SNAPSHOT_TRIES 8

static void snap_once(const struct shmet_abi_slot *sl, struct shmet__slot_snap *o)
{
    /* ACQUIRE: pairs with the RELEASE store of ACTIVE in shmet__slot_claim()
     * (slot.c): the owner fields below were written before it. */
    o->state = atomic_load_explicit(&sl->state, memory_order_acquire);
    /* RELAXED: published by the state load above, or statistics. */
    o->generation = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    o->pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
    o->tid = atomic_load_explicit(&sl->tid, memory_order_relaxed);
    o->start_time = atomic_load_explicit(&sl->start_time, memory_order_relaxed);
    o->claimed_ns = atomic_load_explicit(&sl->claimed_ns, memory_order_relaxed);
    o->flags = atomic_load_explicit(&sl->flags, memory_order_relaxed);
    /* ACQUIRE (head, tail, head again): pair with the producer's RELEASE
     * of head and the consumer's RELEASE of tail (tag-ring-publish). Both
     * only grow, so head <= tail + capacity and tail <= head_after hold
     * for a sane slot whatever the two sides do in between. */
    o->head = atomic_load_explicit(&sl->head, memory_order_acquire);
    o->tail = atomic_load_explicit(&sl->tail, memory_order_acquire);
    o->head_after = atomic_load_explicit(&sl->head, memory_order_acquire);
    /* ACQUIRE: pairs with the RELEASE of arena_used in arena_put()
     * (arena.c): the entries below it are complete. */
    o->arena_used = atomic_load_explicit(&sl->arena_used, memory_order_acquire);
    /* RELAXED: statistics with one writer. */
    o->dropped = atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    o->defines = atomic_load_explicit(&sl->defines, memory_order_relaxed);
    o->arena_dropped = atomic_load_explicit(&sl->arena_dropped, memory_order_relaxed);
    o->lock_gen = atomic_load_explicit(&sl->lock_gen, memory_order_relaxed);
    o->pid_ns = atomic_load_explicit(&sl->pid_ns, memory_order_relaxed);
}

uint32_t shmet__slot_generation(const struct shmet__seg *s, uint32_t idx)
{
    /* ACQUIRE fence: the reads of the slot before it happen before this
     * re-read, so an unchanged generation means no new claim reset the
     * slot while we were reading it (the seqlock reader pattern). */
    atomic_thread_fence(memory_order_acquire);
    /* RELAXED: ordered by the fence above. */
    return atomic_load_explicit(&shmet__slot(s, idx)->generation, memory_order_relaxed);
}

/* 1 alive, 0 gone, -1 unknown. An owner (or claimer) holding the slot lock
 * is judged by it, from any PID namespace (tag-slot-lock); others by pid
 * and start time, meaningful only in the owner's PID namespace. */
static int judge_alive(const struct shmet__seg *s, uint32_t idx, const struct shmet__slot_snap *sn)
{
    int rc;

    if (sn->state == SHMET_SLOT_FREE)
        return 0;
    if (sn->generation != 0 && sn->lock_gen == sn->generation) {
        rc = shmet__slot_lock_held(s, idx);
        if (rc >= 0 || sn->state == SHMET_SLOT_ACTIVE)
            return rc < 0 ? -1 : rc;
    }
    if (sn->state == SHMET_SLOT_CLAIMING && shmet__slot_lock_held(s, idx) == 1)
        return 1; /* a locked claim under way */
    if (sn->pid <= 0)
        return 0;
    rc = shmet__proc_alive(sn->pid, sn->start_time);
    return rc < 0 ? -1 : rc;
}

void shmet__slot_snapshot(const struct shmet__seg *s, uint32_t idx, bool judge,
                          struct shmet__slot_snap *out)
{
    const struct shmet_abi_slot *sl = shmet__slot(s, idx);

    for (int i = 0; i < SNAPSHOT_TRIES; i++) {
        snap_once(sl, out);
        if (shmet__slot_generation(s, idx) == out->generation &&
            atomic_load_explicit(&sl->state, memory_order_relaxed) == out->state)
            break;
    }
    out->alive = judge ? judge_alive(s, idx, out) : -1;
}

uint64_t shmet__snap_samples(const struct shmet__slot_snap *sn)
{
    return sn->head_after >= sn->defines ? sn->head_after - sn->defines : 0;
}

uint64_t shmet__snap_ring_used(const struct shmet__seg *s, const struct shmet__slot_snap *sn)
{
    uint64_t used;

    if (sn->tail > sn->head_after)
        return 0;
    used = sn->head_after - sn->tail;
    return used > s->ring_records ? s->ring_records : used;
}
