/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/drain.c - see drain.h: the slots and their records.
 * Every value read from the segment is copied before it is checked (ring
 * records by shmet__ring_consume, arena entries by shmet__def_read), so a
 * writer scribbling concurrently cannot change what was validated. Bad
 * input is skipped and counted by reason; it never reaches the store.
 * Definitions are read in define.c, owners judged in owner.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/drain_impl.h"
#include "log.h"

#define BATCH 512

const char *invalid_reason_name(enum invalid_reason r)
{
    static const char *const names[INV_COUNT] = {
        [INV_BAD_OP] = "bad_op",
        [INV_UNKNOWN_SERIES] = "unknown_series",
        [INV_TYPE_MISMATCH] = "type_mismatch",
        [INV_BAD_VALUE] = "bad_value",
        [INV_BAD_DEFINITION] = "bad_definition",
        [INV_FAMILY_CONFLICT] = "family_conflict",
        [INV_RING_CORRUPT] = "ring_corrupt",
        [INV_BAD_STATE] = "bad_state",
        [INV_RESERVED_VALUE] = "reserved_value",
        [INV_DEFINITION_LIMIT] = "definition_limit",
    };
    return (unsigned)r < INV_COUNT ? names[r] : "unknown";
}

/* ---- slot attach / detach ---------------------------------------------- */

int drain_init(struct drain *d, struct shmet__seg *seg, struct store *st)
{
    memset(d, 0, offsetof(struct drain, defbuf));
    d->seg = seg;
    d->st = st;
    d->nslots = d->ncounted = seg->slots;
    d->slots = calloc(seg->slots, sizeof(*d->slots));
    d->slot_samples = calloc(seg->slots, sizeof(uint64_t));
    d->slot_dropped = calloc(seg->slots, sizeof(uint64_t));
    if (d->slots == NULL || d->slot_samples == NULL || d->slot_dropped == NULL) {
        drain_fini(d);
        return -ENOMEM;
    }
    return 0;
}

/* Forget a slot's generation: its gauge contributions stop counting. */
void drain_slot_detach(struct slot_state *ss)
{
    for (uint32_t p = 0; p < ss->series.npages; p++) {
        struct binding *b = ss->series.pages[p];
        for (uint32_t i = 0; b != NULL && i < PAGE_IDS; i++)
            store_gauge_leave(b[i].g);
    }
    idmap_fini(&ss->series);
    idmap_fini(&ss->families);
    memset(ss, 0, sizeof(*ss));
}

void drain_fini(struct drain *d)
{
    drain_forget(d);
    free(d->slots);
    free(d->slot_samples);
    free(d->slot_dropped);
    d->slots = NULL;
    d->slot_samples = NULL;
    d->slot_dropped = NULL;
    d->nslots = d->ncounted = 0;
}

void drain_forget(struct drain *d)
{
    for (uint32_t i = 0; d->slots != NULL && i < d->nslots; i++)
        drain_slot_detach(&d->slots[i]);
    d->active = 0;
}

/* Grow a per-slot count array to n entries, the new ones zero. */
static int grow_counts(uint64_t **a, uint32_t old, uint32_t n)
{
    uint64_t *p = realloc(*a, (size_t)n * sizeof(**a));

    if (p == NULL)
        return -ENOMEM;
    memset(p + old, 0, (size_t)(n - old) * sizeof(*p));
    *a = p;
    return 0;
}

int drain_rebind(struct drain *d)
{
    uint32_t n = d->seg->slots;
    struct slot_state *slots = calloc(n, sizeof(*slots));

    drain_forget(d);
    if (slots == NULL)
        return -ENOMEM;
    if (n > d->ncounted) {
        if (grow_counts(&d->slot_samples, d->ncounted, n) < 0 ||
            grow_counts(&d->slot_dropped, d->ncounted, n) < 0) {
            free(slots);
            return -ENOMEM; /* a grown first array is harmless */
        }
        d->ncounted = n;
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = n;
    d->noslot_seen = 0; /* a new header counts from its own start */
    return 0;
}

void drain_slot_attach(struct drain *d, uint32_t idx, uint32_t gen)
{
    struct slot_state *ss = &d->slots[idx];
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);

    drain_slot_detach(ss);
    ss->attached = true;
    ss->gen = gen;
    /* RELAXED: written before the ACTIVE state we loaded with ACQUIRE. */
    ss->pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
    ss->start_time = atomic_load_explicit(&sl->start_time, memory_order_relaxed);
    log_producer(LOG_LEVEL_DEBUG, idx, ss->pid, "attached (generation %u, %s)", gen,
                 shmet__slot_lock_aware(sl, gen) ? "holds its slot lock" : "judged by pid");
    idmap_init(&ss->families, sizeof(struct slot_family));
    idmap_init(&ss->series, sizeof(struct binding));
    shmet__ring_consumer_init(&ss->rc, d->seg, idx);
}

/* ---- records ----------------------------------------------------------- */

static void apply_gauge(struct drain *d, struct slot_state *ss, struct binding *b, uint16_t op,
                        double v)
{
    struct store_series *s = b->s;

    if (s->def->gauge_mode == SHMET_GAUGE_LAST) { /* the series' own mode */
        store_gauge_set_last(d->st, s, op == SHMET_OP_GAUGE_SET ? v : s->v.g.last + v);
        return;
    }
    if (b->g == NULL && (b->g = store_gauge_join(s)) == NULL) {
        refuse(d, ss, INV_BAD_VALUE);
        return;
    }
    b->g->value = op == SHMET_OP_GAUGE_SET ? v : b->g->value + v;
}

static void apply(struct drain *d, uint32_t idx, struct slot_state *ss,
                  const struct shmet_abi_record *r)
{
    struct binding *b;
    double v = r->value.f;
    uint8_t type;

    if (r->op == SHMET_OP_DEFINE) {
        d->defines++;
        if (r->aux != SHMET_DEF_FAMILY && r->aux != SHMET_DEF_SERIES)
            refuse(d, ss, INV_BAD_OP);
        else
            drain_define_at(d, idx, ss, r);
        return;
    }
    if (r->op < SHMET_OP_COUNTER_ADD || r->op > SHMET_OP_OBSERVE) {
        refuse(d, ss, INV_BAD_OP);
        return;
    }
    /* The common case first: a bound id (a refused one has no series). */
    b = idmap_get(&ss->series, r->series);
    if (__builtin_expect(b == NULL || b->s == NULL, 0)) {
        if ((b = drain_lookup(d, idx, ss, r->series)) == NULL) {
            refuse(d, ss, INV_UNKNOWN_SERIES);
            return;
        }
        if (b->refused) {
            refuse(d, ss, (enum invalid_reason)(b->refused - 1));
            if (b->refused == INV_FAMILY_CONFLICT + 1 && b->conflict != NULL)
                b->conflict->records++;
            return;
        }
    }
    type = b->s->fam->type;
    switch (r->op) {
    case SHMET_OP_COUNTER_ADD:
        if (type != SHMET_TYPE_COUNTER)
            goto mismatch;
        if (!(v >= 0) || isinf(v))
            goto bad_value;
        b->s->v.counter += v;
        break;
    case SHMET_OP_GAUGE_SET:
    case SHMET_OP_GAUGE_ADD:
        if (type != SHMET_TYPE_GAUGE)
            goto mismatch;
        apply_gauge(d, ss, b, r->op, v);
        break;
    default: /* SHMET_OP_OBSERVE */
        if (type != SHMET_TYPE_HISTOGRAM)
            goto mismatch;
        if (isnan(v))
            goto bad_value;
        store_observe(b->s, v);
        break;
    }
    b->s->touched = true;
    if (__builtin_expect(b->counted, 0)) {
        if (b->fold != STORE_FOLD_NONE)
            b->s->fam->overflow_samples[b->fold]++;
        if (b->mismatch)
            b->s->fam->mismatch_samples++;
    }
    ss->samples++;
    d->samples_total++;
    d->slot_samples[idx]++;
    return;
mismatch:
    refuse(d, ss, INV_TYPE_MISMATCH);
    return;
bad_value:
    refuse(d, ss, INV_BAD_VALUE);
}

/* With many series the drain waits on memory, not on instructions: each
 * sample touches its binding, its series and (histograms) its buckets,
 * all at random. Ask for them a few records ahead: the binding of record
 * i + 8, and the series (with its buckets) of record i + 4, whose binding
 * was asked for four records ago. (Asking for a histogram's sketch count
 * too, two records ahead, measured no faster at 100k series.) */
static void prefetch_ahead(const struct slot_state *ss, const struct shmet_abi_record *recs,
                           int i, int n)
{
    if (i + 8 < n) {
        const void *b = idmap_get(&ss->series, recs[i + 8].series);
        if (b != NULL)
            __builtin_prefetch(b, 0, 1);
    }
    if (i + 4 < n) {
        const struct binding *b = idmap_get(&ss->series, recs[i + 4].series);
        if (b != NULL && b->s != NULL) {
            __builtin_prefetch(b->s, 1, 1);
            if (b->hist != NULL)
                __builtin_prefetch(b->hist, 1, 1);
        }
    }
}

/* The ring's head is not within one ring of our tail: skip to head. What
 * was between is lost and counted once as corrupt. */
static void ring_resync(struct drain *d, uint32_t idx, struct slot_state *ss)
{
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);
    /* ACQUIRE: as in shmet__ring_consume(). */
    uint64_t head = atomic_load_explicit(&sl->head, memory_order_acquire);

    refuse(d, ss, INV_RING_CORRUPT);
    ss->rc.tail = head;
    ss->rc.head_cache = head;
    /* RELEASE: as in shmet__ring_consume(); we read nothing more below head. */
    atomic_store_explicit(ss->rc.tail_pub, head, memory_order_release);
}

/* Account the drops the producer reported since we last looked. */
static void note_drops(struct drain *d, uint32_t idx, struct slot_state *ss)
{
    /* RELAXED: a statistic; a hostile value can only inflate the count. */
    uint64_t now = atomic_load_explicit(&shmet__slot(d->seg, idx)->dropped, memory_order_relaxed);

    if (now > ss->dropped_seen) {
        d->dropped_total += now - ss->dropped_seen;
        d->slot_dropped[idx] += now - ss->dropped_seen;
    }
    ss->dropped_seen = now;
}

/* A state no claim or retire writes, or generation 0 (never written by a
 * claim) on a slot in use: the slot is corrupt. Forget it, and count each
 * bad (state, generation) once, not once per drain. */
static bool bad_state(struct drain *d, struct slot_state *ss, uint32_t state, uint32_t gen)
{
    bool in_use = state == SHMET_SLOT_ACTIVE || state == SHMET_SLOT_DEAD;

    if (state <= SHMET_SLOT_DEAD && !(in_use && gen == 0))
        return false;
    if (ss->attached)
        drain_slot_detach(ss);
    if (!ss->bad || ss->bad_state != state || ss->bad_gen != gen) {
        refuse(d, ss, INV_BAD_STATE);
        ss->bad = true;
        ss->bad_state = state;
        ss->bad_gen = gen;
    }
    return true;
}

uint64_t drain_slot(struct drain *d, uint32_t idx)
{
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);
    struct slot_state *ss = &d->slots[idx];
    struct shmet_abi_record recs[BATCH];
    uint64_t before = d->samples_total;
    /* ACQUIRE: pairs with the RELEASE store of the state in slot claim and
     * retire (libshm/slot.c): the slot's identity and reset are visible. */
    uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
    uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    int n = 0;

    if (bad_state(d, ss, state, gen))
        return 0;
    if (state != SHMET_SLOT_ACTIVE && state != SHMET_SLOT_DEAD) {
        if (ss->attached)
            drain_slot_detach(ss); /* freed behind our back; nothing left to read */
        ss->bad = false;
        return 0;
    }
    if (!ss->attached || ss->gen != gen)
        drain_slot_attach(d, idx, gen);
    /* At most one ring's worth per pass: a producer refilling its ring as
     * fast as we read must not hold the loop (and every other slot). */
    for (uint64_t taken = 0; taken < ss->rc.capacity &&
                             (n = shmet__ring_consume(&ss->rc, recs, BATCH)) != 0;
         taken += (uint64_t)n) {
        if (n < 0) {
            ring_resync(d, idx, ss);
            break;
        }
        for (int i = 0; i < n; i++) {
            prefetch_ahead(ss, recs, i, n);
            apply(d, idx, ss, &recs[i]);
        }
    }
    note_drops(d, idx, ss);
    if (state == SHMET_SLOT_DEAD && shmet__slot_free(d->seg, idx, gen) == 0) {
        log_producer(LOG_LEVEL_DEBUG, idx, ss->pid, "left (generation %u): drained, slot freed",
                     gen);
        d->slots_freed++;
        drain_slot_detach(ss);
    }
    return d->samples_total - before;
}

/* Account the samples producers dropped for want of a free slot (header,
 * any writer): only increases count, as in note_drops(). */
static void note_noslot(struct drain *d)
{
    /* RELAXED: a statistic. */
    uint64_t now = atomic_load_explicit(&d->seg->hdr->noslot_dropped, memory_order_relaxed);

    if (now > d->noslot_seen)
        d->noslot_total += now - d->noslot_seen;
    d->noslot_seen = now;
}

uint64_t drain_all(struct drain *d)
{
    uint64_t n = 0;
    uint32_t active = 0;

    for (uint32_t i = 0; i < d->nslots; i++) {
        n += drain_slot(d, i);
        /* RELAXED: a report of the state just drained. */
        active += atomic_load_explicit(&shmet__slot(d->seg, i)->state, memory_order_relaxed) ==
                  SHMET_SLOT_ACTIVE;
    }
    d->active = active;
    note_noslot(d);
    return n;
}

uint64_t drain_invalid_total(const struct drain *d)
{
    uint64_t n = 0;

    for (int i = 0; i < INV_COUNT; i++)
        n += d->invalid[i];
    return n;
}
