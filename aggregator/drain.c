/* SPDX-License-Identifier: MIT */
/*
 * aggregator/drain.c - see drain.h. Every value read from the segment is
 * copied before it is checked (ring records by shmet__ring_consume, arena
 * entries by shmet__def_read), so a writer scribbling concurrently cannot
 * change what was validated. Bad input is skipped and counted by reason;
 * it never reaches the store.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

#define PAGE_IDS 256u
#define IDS_MAX (1u << 24)
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
    };
    return (unsigned)r < INV_COUNT ? names[r] : "unknown";
}

/* ---- id maps ----------------------------------------------------------- */

static void idmap_init(struct idmap *m, uint32_t elem)
{
    memset(m, 0, sizeof(*m));
    m->elem = elem;
}

static void idmap_fini(struct idmap *m)
{
    for (uint32_t i = 0; i < m->npages; i++)
        free(m->pages[i]);
    free(m->pages);
    m->pages = NULL;
    m->npages = 0;
}

/* Entry for id, or NULL when its page was never made. */
static void *idmap_get(const struct idmap *m, uint32_t id)
{
    uint32_t p = id / PAGE_IDS;

    if (p >= m->npages || m->pages[p] == NULL)
        return NULL;
    return (uint8_t *)m->pages[p] + (size_t)(id % PAGE_IDS) * m->elem;
}

/* Entry for id, making its page; NULL for ids beyond IDS_MAX or ENOMEM. */
static void *idmap_put(struct idmap *m, uint32_t id)
{
    uint32_t p = id / PAGE_IDS;

    if (id >= IDS_MAX)
        return NULL;
    if (p >= m->npages) {
        uint32_t n = p + 1 > m->npages * 2 ? p + 1 : m->npages * 2;
        void **pages = realloc(m->pages, n * sizeof(void *));
        if (pages == NULL)
            return NULL;
        memset(pages + m->npages, 0, (n - m->npages) * sizeof(void *));
        m->pages = pages;
        m->npages = n;
    }
    if (m->pages[p] == NULL && (m->pages[p] = calloc(PAGE_IDS, m->elem)) == NULL)
        return NULL;
    return (uint8_t *)m->pages[p] + (size_t)(id % PAGE_IDS) * m->elem;
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
static void slot_detach(struct slot_state *ss)
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
        slot_detach(&d->slots[i]);
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

static void slot_attach(struct drain *d, uint32_t idx, uint32_t gen)
{
    struct slot_state *ss = &d->slots[idx];
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);

    slot_detach(ss);
    ss->attached = true;
    ss->gen = gen;
    /* RELAXED: written before the ACTIVE state we loaded with ACQUIRE. */
    ss->pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
    ss->start_time = atomic_load_explicit(&sl->start_time, memory_order_relaxed);
    idmap_init(&ss->families, sizeof(struct store_family *));
    idmap_init(&ss->series, sizeof(struct binding));
    shmet__ring_consumer_init(&ss->rc, d->seg, idx);
}

static void refuse(struct drain *d, struct slot_state *ss, enum invalid_reason r)
{
    d->invalid[r]++;
    ss->invalid++;
}

/* ---- definitions ------------------------------------------------------- */

static void def_family(struct drain *d, struct slot_state *ss, const struct shmet__def_view *v)
{
    const char *labels[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    struct family_spec spec = {
        .name = v->name.ptr, .name_len = v->name.len, .help = v->help.ptr,
        .help_len = v->help.len, .type = v->type, .gauge_mode = v->gauge_mode,
        .nlabels = v->nlabels, .labels = labels, .label_lens = lens,
        .nbounds = v->nbounds, .bounds = v->bounds};
    struct store_family *f, **slotp;
    int rc;

    for (uint16_t i = 0; i < v->nlabels; i++) {
        labels[i] = v->labels[i].ptr;
        lens[i] = v->labels[i].len;
    }
    slotp = idmap_put(&ss->families, v->id);
    if (slotp == NULL || *slotp != NULL) {
        refuse(d, ss, INV_BAD_DEFINITION); /* id out of range, or defined twice */
        return;
    }
    rc = store_family(d->st, &spec, &f);
    if (rc == -EEXIST || (rc == 0 && f->internal)) {
        refuse(d, ss, INV_FAMILY_CONFLICT);
        return;
    }
    if (rc < 0) {
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    *slotp = f;
}

static void def_series(struct drain *d, struct slot_state *ss, const struct shmet__def_view *v)
{
    const char *values[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    struct store_family **fp = idmap_get(&ss->families, v->family);
    struct binding *b;

    if (fp == NULL || *fp == NULL || (*fp)->nlabels != v->nlabels) {
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    b = idmap_put(&ss->series, v->id);
    if (b == NULL || b->s != NULL) {
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    for (uint16_t i = 0; i < v->nlabels; i++) {
        values[i] = v->labels[i].ptr;
        lens[i] = v->labels[i].len;
    }
    if (store_series(d->st, *fp, values, lens, &b->s) < 0)
        refuse(d, ss, INV_BAD_DEFINITION);
    else if (b->s->fam->type == SHMET_TYPE_HISTOGRAM)
        b->hist = b->s->v.h.buckets;
}

/* Read every definition the producer has published so far. */
static void scan_arena(struct drain *d, uint32_t idx, struct slot_state *ss)
{
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);
    /* ACQUIRE: pairs with the RELEASE store of arena_used in arena_put()
     * (libshm/arena.c): the entries below it are complete. */
    uint64_t used = atomic_load_explicit(&sl->arena_used, memory_order_acquire);
    struct shmet__def_view v;
    int rc;

    while ((rc = shmet__arena_next(d->seg, idx, used, &ss->arena_off, d->defbuf,
                                   sizeof(d->defbuf), &v)) != 0) {
        if (rc < 0) {
            refuse(d, ss, INV_BAD_DEFINITION);
            if (rc == -EFAULT || rc == -EMSGSIZE) {
                ss->arena_off = UINT64_MAX; /* cannot find the next entry */
                break;
            }
            continue;
        }
        if (v.kind == SHMET_DEF_FAMILY)
            def_family(d, ss, &v);
        else
            def_series(d, ss, &v);
    }
}

/* ---- records ----------------------------------------------------------- */

static struct binding *resolve(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id)
{
    struct binding *b = idmap_get(&ss->series, id);

    if (b == NULL || b->s == NULL) {
        scan_arena(d, idx, ss);
        b = idmap_get(&ss->series, id);
    }
    return (b != NULL && b->s != NULL) ? b : NULL;
}

static void apply_gauge(struct drain *d, struct slot_state *ss, struct binding *b, uint16_t op,
                        double v)
{
    struct store_series *s = b->s;

    if (s->fam->gauge_mode == SHMET_GAUGE_LAST) {
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
        return; /* definitions are read from the arena on demand */
    }
    if (r->op < SHMET_OP_COUNTER_ADD || r->op > SHMET_OP_OBSERVE) {
        refuse(d, ss, INV_BAD_OP);
        return;
    }
    if ((b = resolve(d, idx, ss, r->series)) == NULL) {
        refuse(d, ss, INV_UNKNOWN_SERIES);
        return;
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
        slot_detach(ss);
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
            slot_detach(ss); /* freed behind our back; nothing left to read */
        ss->bad = false;
        return 0;
    }
    if (!ss->attached || ss->gen != gen)
        slot_attach(d, idx, gen);
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
        d->slots_freed++;
        slot_detach(ss);
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

bool drain_owner_gone(struct drain *d, uint32_t idx, uint32_t gen)
{
    int locked;

    if (idx >= d->nslots)
        return false;
    /* Whoever told us (a pidfd, a pid check) cannot overrule the lock. */
    locked = owner_lock_take(d, idx, gen);
    if (locked == 0)
        return false;
    bool retired = shmet__slot_retire(d->seg, idx, gen) == 0;
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
    /* ACQUIRE: as in drain_slot(); then RELAXED, as in slot_attach(). */
    if (atomic_load_explicit(&sl->state, memory_order_acquire) != SHMET_SLOT_ACTIVE ||
        atomic_load_explicit(&sl->generation, memory_order_relaxed) != o->gen ||
        atomic_load_explicit(&sl->pid, memory_order_relaxed) != o->pid ||
        atomic_load_explicit(&sl->start_time, memory_order_relaxed) != o->start_time ||
        owner_alive(d, o->idx, o->gen) != 1)
        return -ESTALE;
    if (!d->slots[o->idx].attached || d->slots[o->idx].gen != o->gen)
        slot_attach(d, o->idx, o->gen);
    return 0;
}

int drain_restore_gauge(struct drain *d, uint32_t idx, uint32_t id, double value)
{
    struct slot_state *ss;
    struct binding *b;

    if (idx >= d->seg->slots || !d->slots[idx].attached)
        return -ESTALE;
    ss = &d->slots[idx];
    b = resolve(d, idx, ss, id);
    if (b == NULL || b->s->fam->type != SHMET_TYPE_GAUGE ||
        b->s->fam->gauge_mode == SHMET_GAUGE_LAST)
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
            shmet__slot_unclaim(d->seg, i, claimer) == 0)
            n++;
        if (rc == 0)
            (void)shmet__slot_unlock(d->seg, i);
    }
    d->claims_reclaimed += n;
    return n;
}

uint64_t drain_invalid_total(const struct drain *d)
{
    uint64_t n = 0;

    for (int i = 0; i < INV_COUNT; i++)
        n += d->invalid[i];
    return n;
}
