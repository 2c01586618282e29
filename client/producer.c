/* SPDX-License-Identifier: MIT */
/*
 * client/producer.c - per-thread producers and the recording slow path.
 *
 * shmet__tls[client index] points at the calling thread's producer for
 * that client. The inline recorder in shmetrics.h uses it when the series
 * is already defined in the thread's slot; everything else lands here:
 * claiming a slot on a thread's first record, writing family and series
 * definitions into the slot's arena (then a DEFINE record), folding new
 * series into __overflow__ when the arena is full, and dropping (and
 * counting) samples when there is no free slot. A thread's slot is retired
 * when it exits; a forked child forgets its parent's producers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

SHMET_EXTERN _Thread_local struct shmet__producer *shmet__tls[SHMET_MAX_CLIENTS];

#define NOSLOT_RETRY 1024u /* samples dropped between claim attempts */

static pthread_key_t exit_key;

static void thread_exit(void *arg);
static void process_exit(void);

void shmet__producer_exit_init(void)
{
    pthread_key_create(&exit_key, thread_exit);
    atexit(process_exit);
}

static void producer_free(struct producer *p)
{
    free(p->defined);
    free(p->fam_defined);
    free(p);
}

/* Caller holds c->lock. Unlink p from c's list. */
static void producer_unlink(struct shmet_client *c, struct producer *p)
{
    for (struct producer **pp = &c->producers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/* Caller holds c->lock. Retire the slot so the aggregator drains and frees
 * it; our last head store happened before (same thread, or the caller of
 * shmet_close guarantees no concurrent records). */
static void producer_retire(struct shmet_client *c, struct producer *p)
{
    if (p->has_slot) {
        /* tag-slot-lock: retire first, then give up the lock. While we
         * hold it the aggregator judges us alive and retires nothing, and
         * no claimer takes the slot (a claim needs the lock), so the slot
         * still holds our generation when the retire swaps its state. In
         * the other order the aggregator could find us gone, free the
         * slot, and a new owner claim it between the retire's generation
         * check and its swap, which would then mark the new owner's slot
         * DEAD. Under c->lock, so no claim of this client takes the byte
         * meanwhile (the lock belongs to the client's file description,
         * shared by its threads). */
        bool locked = shmet__slot_lock_aware(shmet__slot(&c->seg, p->slot), p->slot_gen);

        (void)shmet__slot_retire(&c->seg, p->slot, p->slot_gen);
        if (locked)
            (void)shmet__slot_unlock(&c->seg, p->slot);
    }
    p->has_slot = false;
}

/* Release the calling thread's producers: at thread exit and process exit. */
static void release_own(void)
{
    pthread_mutex_lock(&shmet__registry_lock);
    for (int i = 0; i < SHMET_MAX_CLIENTS; i++) {
        struct producer *p = (struct producer *)shmet__tls[i];
        if (p == NULL)
            continue;
        shmet__tls[i] = NULL;
        if (!p->closed) {
            pthread_mutex_lock(&p->c->lock);
            producer_retire(p->c, p);
            producer_unlink(p->c, p);
            pthread_mutex_unlock(&p->c->lock);
        }
        producer_free(p);
    }
    pthread_mutex_unlock(&shmet__registry_lock);
}

static void thread_exit(void *arg)
{
    (void)arg;
    release_own();
}

static void process_exit(void)
{
    release_own();
}

/* Caller holds c->lock (shmet_close). Every producer of c is retired and
 * marked closed; the calling thread's is freed now, other threads free
 * theirs on their next record or at exit. */
void shmet__producers_close(struct shmet_client *c)
{
    struct producer *p = c->producers, *next;

    for (; p != NULL; p = next) {
        next = p->next;
        producer_retire(c, p);
        p->closed = true;
        p->c = NULL;
        /* RELAXED: see shmet__record(); stale handles now miss the fast path. */
        atomic_store_explicit(&p->pub.gen, 0, memory_order_relaxed);
        /* A zeroed handle has gen 0 too: with no defined bits left it takes
         * the slow path (which ignores it) instead of pushing into the ring
         * of a segment that is about to be unmapped. */
        p->pub.defined_bits = 0;
        if (shmet__tls[c->idx] == &p->pub) {
            shmet__tls[c->idx] = NULL;
            producer_free(p);
        }
    }
    c->producers = NULL;
}

/* In a forked child, with c->lock held: the producers are the parent's
 * threads'; their slots stay the parent's. Free the memory only. */
void shmet__producers_forget(struct shmet_client *c)
{
    struct producer *p = c->producers, *next;

    for (; p != NULL; p = next) {
        next = p->next;
        producer_free(p);
    }
    c->producers = NULL;
    shmet__tls[c->idx] = NULL;
}

static int bitmap_grow(uint64_t **map, uint32_t *bits, uint32_t need)
{
    uint32_t nbits = *bits ? *bits : 256;
    uint64_t *m;

    while (nbits <= need)
        nbits *= 2;
    m = realloc(*map, nbits / 8);
    if (m == NULL)
        return -ENOMEM;
    memset((uint8_t *)m + *bits / 8, 0, (nbits - *bits) / 8);
    *map = m;
    *bits = nbits;
    return 0;
}

static bool bit_get(const uint64_t *map, uint32_t bits, uint32_t i)
{
    return i < bits && ((map[i >> 6] >> (i & 63)) & 1);
}

static int bit_set(uint64_t **map, uint32_t *bits, uint32_t i)
{
    if (i >= *bits && bitmap_grow(map, bits, i) < 0)
        return -ENOMEM;
    (*map)[i >> 6] |= UINT64_C(1) << (i & 63);
    return 0;
}

static int claim(struct shmet_client *c, struct producer *p)
{
    struct shmet__owner o = {.pid = getpid(), .tid = shmet__gettid(), .pid_ns = shmet__pid_ns()};

    (void)shmet__proc_start_time(o.pid, &o.start_time);
    if (shmet__slot_claim(&c->seg, &o, (uint32_t)o.tid, &p->slot, &p->slot_gen) < 0) {
        /* RELAXED: statistics with many writers, read for reports only. */
        atomic_fetch_add_explicit(&c->seg.hdr->noslot_events, 1, memory_order_relaxed);
        p->noslot_countdown = NOSLOT_RETRY;
        return -EAGAIN;
    }
    shmet__ring_producer_init(&p->pub.ring, &c->seg, p->slot);
    /* Both maps are NULL until first grown; memset(NULL, 0, 0) is undefined. */
    if (p->defined != NULL)
        memset(p->defined, 0, p->pub.defined_bits / 8);
    if (p->fam_defined != NULL)
        memset(p->fam_defined, 0, p->fam_bits / 8);
    p->defines = 0;
    p->arena_dropped = 0;
    p->has_slot = true;
    return 0;
}

/* Caller holds c->lock. */
static struct producer *producer_new(struct shmet_client *c)
{
    struct producer *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->c = c;
    atomic_init(&p->pub.gen, c->gen);
    p->next = c->producers;
    c->producers = p;
    shmet__tls[c->idx] = &p->pub;
    /* Any non-NULL value makes thread_exit() run when this thread ends. */
    pthread_setspecific(exit_key, p);
    return p;
}

/* Push a DEFINE record if there is room; the arena entry alone is enough
 * for readers (they scan the arena), so a full ring only loses the hint. */
static void push_define(struct producer *p, uint32_t id, uint16_t kind, uint64_t off)
{
    struct shmet__ring_producer *r = &p->pub.ring;

    /* ACQUIRE: as in shmet__ring_push(); checked here so that a full ring
     * is not counted as a dropped sample. */
    if (r->head - r->tail_cache >= r->capacity)
        r->tail_cache = atomic_load_explicit(r->tail_pub, memory_order_acquire);
    if (r->head - r->tail_cache >= r->capacity)
        return;
    union {
        double f;
        int64_t i;
    } v = {.i = (int64_t)off};
    (void)shmet__ring_push(r, id, SHMET_OP_DEFINE, kind, v.f);
    /* RELAXED: a statistic; the DEFINE record itself was released. */
    atomic_store_explicit(&shmet__slot(&p->c->seg, p->slot)->defines, ++p->defines,
                          memory_order_relaxed);
}

static int put_series(struct producer *p, uint32_t id)
{
    struct shmet_client *c = p->c;
    const struct series_rec *r = &c->series[id];
    const struct shmet_family *f = c->families[r->family];
    const char *vals[SHMET_LABELS_MAX];
    uint64_t off;
    int rc;

    for (uint16_t i = 0; i < f->nlabels; i++)
        vals[i] = shmet__series_value(r, i);
    rc = shmet__arena_put_series(&c->seg, p->slot, id, f->id, vals, f->nlabels, &off);
    if (rc < 0)
        return rc;
    push_define(p, id, SHMET_DEF_SERIES, off);
    rc = bit_set(&p->defined, &p->pub.defined_bits, id);
    p->pub.defined = p->defined; /* may have moved */
    return rc;
}

static int put_family(struct producer *p, const struct shmet_family *f)
{
    struct shmet__family_def d = {.id = f->id,
                                  .type = f->type,
                                  .gauge_mode = f->gauge_mode,
                                  .overflow_series = f->overflow,
                                  .name = f->name,
                                  .help = f->help,
                                  .labels = (const char *const *)f->labels,
                                  .nlabels = f->nlabels,
                                  .bounds = f->bounds,
                                  .nbounds = f->nbounds};
    uint64_t off;
    int rc = shmet__arena_put_family(&p->c->seg, p->slot, &d, &off);

    if (rc < 0)
        return rc;
    push_define(p, f->id, SHMET_DEF_FAMILY, off);
    rc = bit_set(&p->fam_defined, &p->fam_bits, f->id);
    return rc < 0 ? rc : put_series(p, f->overflow);
}

/* Caller holds c->lock. Make series id usable in p's slot; returns the id
 * to record into (id, or the family's __overflow__ when the arena is
 * full), or a negative errno when the sample cannot be recorded. */
static int64_t define(struct producer *p, uint32_t id)
{
    struct shmet_client *c = p->c;
    const struct shmet_family *f;
    struct shmet_abi_slot *sl;
    int rc;

    if (id >= c->nseries)
        return -EINVAL;
    f = c->families[c->series[id].family];
    if (!bit_get(p->fam_defined, p->fam_bits, f->id) && (rc = put_family(p, f)) < 0)
        return rc;
    if (bit_get(p->defined, p->pub.defined_bits, id))
        return id;
    rc = put_series(p, id);
    if (rc != -ENOSPC && rc != -E2BIG)
        return rc < 0 ? (int64_t)rc : (int64_t)id;
    if (!bit_get(p->defined, p->pub.defined_bits, f->overflow))
        return -ENOSPC;
    sl = shmet__slot(&c->seg, p->slot);
    /* RELAXED: a statistic with one writer. */
    atomic_store_explicit(&sl->arena_dropped, ++p->arena_dropped, memory_order_relaxed);
    return f->overflow;
}

static void count_drop(struct producer *p)
{
    struct shmet__ring_producer *r = &p->pub.ring;

    /* RELAXED: a statistic with one writer. */
    if (p->has_slot)
        atomic_store_explicit(r->dropped_pub, ++r->dropped, memory_order_relaxed);
}

/* Caller holds c->lock. Returns the id to record into, or <0 to drop. */
static int64_t prepare(struct shmet_client *c, struct producer **pp, uint32_t id)
{
    struct producer *p = *pp;

    if (p == NULL && (p = *pp = producer_new(c)) == NULL)
        return -ENOMEM;
    if (!p->has_slot && claim(c, p) < 0)
        return -EAGAIN;
    int64_t target = define(p, id);
    if (target < 0)
        count_drop(p);
    return target;
}

/* Drop a sample for want of a slot, without locks while backing off. */
static bool noslot_backoff(struct producer *p, struct shmet_series s)
{
    /* RELAXED: our own thread's producer; see shmet__record(). */
    if (p == NULL || p->closed || p->has_slot ||
        atomic_load_explicit(&p->pub.gen, memory_order_relaxed) != s.gen)
        return false;
    if (p->noslot_countdown == 0)
        return false;
    p->noslot_countdown--;
    return true;
}

SHMET_EXTERN void shmet__record_slow(struct shmet_series s, uint16_t op, double v)
{
    uint8_t ci = s.client & (SHMET_MAX_CLIENTS - 1);
    struct producer *p = (struct producer *)shmet__tls[ci];
    struct shmet_client *c;
    int64_t target = -EINVAL;

    if (s.gen == 0)
        return; /* a zeroed handle records nothing */
    pthread_mutex_lock(&shmet__registry_lock);
    if (p != NULL && p->closed) {
        shmet__tls[ci] = NULL;
        producer_free(p);
        p = NULL;
    }
    c = shmet__registry_get(ci, s.gen);
    if (c != NULL && noslot_backoff(p, s)) {
        /* RELAXED: a statistic with many writers. */
        atomic_fetch_add_explicit(&c->seg.hdr->noslot_dropped, 1, memory_order_relaxed);
        c = NULL;
    }
    if (c != NULL) {
        pthread_mutex_lock(&c->lock);
        target = prepare(c, &p, s.id);
        if (target == -EAGAIN)
            atomic_fetch_add_explicit(&c->seg.hdr->noslot_dropped, 1, memory_order_relaxed);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&shmet__registry_lock);
    if (target >= 0)
        (void)shmet__ring_push(&p->pub.ring, (uint32_t)target, op, 0, v);
}

SHMET_EXTERN int shmet_worker_id(struct shmet_client *c)
{
    struct producer *p;
    int rc = -EAGAIN;

    if (c == NULL)
        return -EINVAL;
    pthread_mutex_lock(&shmet__registry_lock);
    p = (struct producer *)shmet__tls[c->idx];
    if (p != NULL && p->closed) { /* left by a closed client at this index */
        shmet__tls[c->idx] = NULL;
        producer_free(p);
        p = NULL;
    }
    pthread_mutex_lock(&c->lock);
    if (p == NULL && (p = producer_new(c)) == NULL)
        rc = -ENOMEM;
    else if (!p->has_slot)
        (void)claim(c, p);
    for (struct producer *q = c->producers; q != NULL; q = q->next)
        if (q->has_slot && (rc < 0 || (uint32_t)rc > q->slot))
            rc = (int)q->slot;
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&shmet__registry_lock);
    return rc;
}
