/* SPDX-License-Identifier: MIT */
/*
 * libshm/ring.c - the single-producer single-consumer ring of one slot.
 *
 * The producer's push is inline in shmetrics.h (shmet__ring_push) so that
 * recording is a handful of instructions; this file sets up both ends and
 * holds the consumer. Protocol: tag-ring-publish in shmetrics/abi.h.
 * The consumer treats head as untrusted: a head that is behind tail or
 * more than one ring ahead of it is reported, never followed.
 */
#include <errno.h>
#include <string.h>

#include "shm.h"

void shmet__ring_producer_init(struct shmet__ring_producer *p, struct shmet__seg *s, uint32_t idx)
{
    struct shmet_abi_slot *sl = shmet__slot(s, idx);

    memset(p, 0, sizeof(*p));
    p->capacity = s->ring_records;
    p->mask = s->ring_records - 1;
    p->records = shmet__slot_ring(s, idx);
    p->head_pub = &sl->head;
    p->tail_pub = &sl->tail;
    p->dropped_pub = &sl->dropped;
    /* RELAXED: the producer is the only writer of head and dropped; tail
     * is re-read with ACQUIRE before any record is overwritten. */
    p->head = atomic_load_explicit(&sl->head, memory_order_relaxed);
    p->dropped = atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    p->tail_cache = atomic_load_explicit(&sl->tail, memory_order_acquire);
}

void shmet__ring_consumer_init(struct shmet__ring_consumer *c, struct shmet__seg *s, uint32_t idx)
{
    struct shmet_abi_slot *sl = shmet__slot(s, idx);

    memset(c, 0, sizeof(*c));
    c->records = shmet__slot_ring(s, idx);
    c->head_pub = &sl->head;
    c->tail_pub = &sl->tail;
    c->capacity = s->ring_records;
    c->mask = s->ring_records - 1;
    /* RELAXED: the consumer is the only writer of tail. */
    c->tail = atomic_load_explicit(&sl->tail, memory_order_relaxed);
    c->head_cache = c->tail;
}

/* Copy up to max records into out and release them to the producer.
 * Returns the number copied, 0 when empty, or -EBADMSG when head is not
 * within one ring of tail (a corrupt or hostile slot). */
int shmet__ring_consume(struct shmet__ring_consumer *c, struct shmet_abi_record *out, size_t max)
{
    uint64_t tail = c->tail, avail, n, first;

    if (c->head_cache - tail < max) {
        /* ACQUIRE: pairs with the producer's RELEASE store of head in
         * shmet__ring_push() (shmetrics.h): records below head are
         * complete. */
        c->head_cache = atomic_load_explicit(c->head_pub, memory_order_acquire);
    }
    avail = c->head_cache - tail;
    if (avail > c->capacity)
        return -EBADMSG;
    n = avail < max ? avail : max;
    if (n == 0)
        return 0;
    first = c->capacity - (tail & c->mask);
    if (first > n)
        first = n;
    memcpy(out, &c->records[tail & c->mask], first * sizeof(*out));
    memcpy(out + first, c->records, (n - first) * sizeof(*out));
    c->tail = tail + n;
    /* RELEASE: our copies above happen before the producer overwrites
     * these records; pairs with the ACQUIRE load of tail in
     * shmet__ring_push(). */
    atomic_store_explicit(c->tail_pub, c->tail, memory_order_release);
    return (int)n;
}

/* Records waiting in a slot's ring, clamped to [0, capacity]; for
 * reporting only. */
uint64_t shmet__ring_used(const struct shmet__seg *s, uint32_t idx)
{
    struct shmet_abi_slot *sl = shmet__slot(s, idx);
    /* ACQUIRE: a report, but keep it consistent with the records. */
    uint64_t head = atomic_load_explicit(&sl->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&sl->tail, memory_order_acquire);
    uint64_t used = head - tail;

    return used > s->ring_records ? s->ring_records : used;
}
