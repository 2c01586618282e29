/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/drain.c - see drain.h. Every value read from the segment is
 * copied before it is checked (ring records by shmet__ring_consume, arena
 * entries by shmet__def_read), so a writer scribbling concurrently cannot
 * change what was validated. Bad input is skipped and counted by reason;
 * it never reaches the store.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/drain.h"
#include "log.h"

#define PAGE_IDS 256u
#define IDS_MAX (1u << 24)
#define BATCH 512

/* A slot-local family id as the drain bound it (the families idmap). */
struct slot_family {
    struct store_def *def;           /* the definition; NULL when refused */
    struct store_conflict *conflict; /* refused for a type conflict: counted there */
    uint32_t overflow_id;            /* the slot-local id of its __overflow__ series */
    uint8_t refused;                 /* enum invalid_reason + 1 when refused */
    bool defined;                    /* read from the arena (once per id) */
};

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
    if (m->pages[p] == NULL) {
        /* Cache-line aligned, so that no 32-byte binding straddles two
         * lines: the drain touches one binding per sample, at random. */
        size_t bytes = ((size_t)PAGE_IDS * m->elem + 63) & ~(size_t)63;
        if ((m->pages[p] = aligned_alloc(64, bytes)) == NULL)
            return NULL;
        memset(m->pages[p], 0, bytes);
    }
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
    log_producer(LOG_LEVEL_DEBUG, idx, ss->pid, "attached (generation %u, %s)", gen,
                 shmet__slot_lock_aware(sl, gen) ? "holds its slot lock" : "judged by pid");
    idmap_init(&ss->families, sizeof(struct slot_family));
    idmap_init(&ss->series, sizeof(struct binding));
    shmet__ring_consumer_init(&ss->rc, d->seg, idx);
}

static void refuse(struct drain *d, struct slot_state *ss, enum invalid_reason r)
{
    d->invalid[r]++;
    ss->invalid++;
}

/* ---- definitions ------------------------------------------------------- */

/* A definition of an existing name as another type (or of one of the
 * aggregator's own families): refused, and so is every series and sample
 * of it, each counted in the family's conflict record. The first of each
 * type is told, naming both definitions. */
static void family_refused(struct drain *d, uint32_t idx, struct slot_state *ss,
                           struct slot_family *sf, struct store_family *f,
                           const struct family_spec *spec)
{
    char have[512];
    bool first;
    struct store_conflict *c = store_conflict_note(f, spec, &first);

    sf->refused = INV_FAMILY_CONFLICT + 1;
    sf->conflict = c;
    refuse(d, ss, INV_FAMILY_CONFLICT);
    if (c == NULL)
        return;
    c->definitions++;
    if (!first)
        return;
    store_def_describe(f->cur, have, sizeof(have));
    log_producer(LOG_LEVEL_WARN, idx, ss->pid,
                 "family %s defined as %s [%s]: refused, it is %s%s; its series and samples "
                 "are counted as invalid (family_conflict)",
                 f->name, store_type_name(spec->type), c->labels,
                 f->internal ? "the aggregator's own " : "already ", have);
}

/* A definition refused for another reason: its series and samples are
 * refused with it. The first of a reason is told. */
static void family_refused_as(struct drain *d, uint32_t idx, struct slot_state *ss,
                              struct slot_family *sf, const struct family_spec *spec,
                              enum invalid_reason r)
{
    if (r == INV_DEFINITION_LIMIT && d->invalid[r] == 0)
        log_producer(LOG_LEVEL_WARN, idx, ss->pid,
                     "family %.*s: a definition beyond the %u it holds is refused, with its "
                     "series and samples (definition_limit)",
                     (int)spec->name_len, spec->name, STORE_DEFS_MAX);
    sf->refused = (uint8_t)(r + 1);
    refuse(d, ss, r);
}

static void def_family(struct drain *d, uint32_t idx, struct slot_state *ss,
                       const struct shmet__def_view *v)
{
    const char *labels[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    struct family_spec spec = {
        .name = v->name.ptr, .name_len = v->name.len, .help = v->help.ptr,
        .help_len = v->help.len, .type = v->type, .gauge_mode = v->gauge_mode,
        .nlabels = v->nlabels, .labels = labels, .label_lens = lens,
        .nbounds = v->nbounds, .bounds = v->bounds};
    struct slot_family *sf = idmap_put(&ss->families, v->id);
    struct store_family *f;
    struct store_def *def;
    char text[512];
    uint32_t known;
    int rc;

    for (uint16_t i = 0; i < v->nlabels; i++) {
        labels[i] = v->labels[i].ptr;
        lens[i] = v->labels[i].len;
    }
    if (sf == NULL || sf->defined) {
        refuse(d, ss, INV_BAD_DEFINITION); /* id out of range, or defined twice */
        return;
    }
    sf->defined = true;
    sf->overflow_id = v->overflow_series;
    f = store_family_find(d->st, spec.name, spec.name_len);
    known = f != NULL ? f->ndefs : 0;
    rc = (f != NULL && f->internal) ? -EEXIST : store_define(d->st, &spec, &def);
    if (rc == -EEXIST)
        family_refused(d, idx, ss, sf, f, &spec);
    else if (rc < 0)
        family_refused_as(d, idx, ss, sf, &spec,
                          rc == -ENOSPC ? INV_DEFINITION_LIMIT : INV_BAD_DEFINITION);
    if (rc < 0)
        return;
    sf->def = def;
    if (known > 0 && def->index >= known) { /* tag-family-defs: a rolling deploy */
        store_def_describe(def, text, sizeof(text));
        log_producer(LOG_LEVEL_INFO, idx, ss->pid,
                     "family %s: new definition %s, served beside the %u known", def->fam->name,
                     text, known);
    }
}

/* Any value equal to the placeholder's (tag-overflow-identity). */
static bool has_reserved(const char *const *v, const uint32_t *lens, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        if (lens[i] == sizeof(SHMET_OVERFLOW_VALUE) - 1 &&
            memcmp(v[i], SHMET_OVERFLOW_VALUE, lens[i]) == 0)
            return true;
    return false;
}

/* Bind b to the store series of sf's definition with these values: the
 * placeholder for the family's declared __overflow__ id (by identity,
 * whatever its values say), refused for any other series that uses the
 * reserved value, else the series of the label set (or the placeholder,
 * when the cap folds it). */
static void bind_series(struct drain *d, uint32_t idx, struct slot_state *ss,
                        const struct slot_family *sf, uint32_t id, struct binding *b,
                        const char *const *values, const uint32_t *lens)
{
    struct store_series *s;
    int rc;

    if (sf->def->nlabels > 0 && id == sf->overflow_id) {
        rc = store_overflow(d->st, sf->def, &s);
        b->fold = STORE_FOLD_ARENA;
    } else if (has_reserved(values, lens, sf->def->nlabels)) {
        if (d->invalid[INV_RESERVED_VALUE] == 0)
            log_producer(LOG_LEVEL_WARN, idx, ss->pid,
                         "family %s: a series with the reserved label value " SHMET_OVERFLOW_VALUE
                         " is refused, with its samples (reserved_value)",
                         sf->def->fam->name);
        b->refused = INV_RESERVED_VALUE + 1;
        refuse(d, ss, INV_RESERVED_VALUE);
        return;
    } else {
        rc = store_series_def(d->st, sf->def, values, lens, &s);
        b->fold = rc == 1 ? STORE_FOLD_CARDINALITY : STORE_FOLD_NONE;
    }
    if (rc < 0) {
        b->fold = STORE_FOLD_NONE;
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    b->s = s;
    b->mismatch = !store_def_same_layout(s->def, sf->def);
    b->counted = b->fold != STORE_FOLD_NONE || b->mismatch;
    if (s->fam->type == SHMET_TYPE_HISTOGRAM)
        b->hist = s->v.h.buckets;
}

static void def_series(struct drain *d, uint32_t idx, struct slot_state *ss,
                       const struct shmet__def_view *v)
{
    const char *values[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    struct slot_family *sf = idmap_get(&ss->families, v->family);
    struct binding *b;

    if (sf == NULL || !sf->defined ||
        (sf->def != NULL && sf->def->nlabels != v->nlabels)) {
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    b = idmap_put(&ss->series, v->id);
    if (b == NULL || b->s != NULL || b->refused) {
        refuse(d, ss, INV_BAD_DEFINITION);
        return;
    }
    if (sf->def == NULL) { /* its family was refused: so is the series */
        b->refused = sf->refused;
        b->conflict = sf->conflict;
        refuse(d, ss, (enum invalid_reason)(sf->refused - 1));
        if (b->conflict != NULL)
            b->conflict->records++;
        return;
    }
    for (uint16_t i = 0; i < v->nlabels; i++) {
        values[i] = v->labels[i].ptr;
        lens[i] = v->labels[i].len;
    }
    bind_series(d, idx, ss, sf, v->id, b, values, lens);
}

/* Read the definitions the producer has published, in arena order, up to
 * and including the entry at upto (UINT64_MAX: every one). Returns the
 * kind of the entry that starts at upto; 0 when none was read there; -1
 * when the one there was invalid (and refused). */
static int scan_arena(struct drain *d, uint32_t idx, struct slot_state *ss, uint64_t upto)
{
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);
    /* ACQUIRE: pairs with the RELEASE store of arena_used in arena_put()
     * (libshm/arena.c): the entries below it are complete. */
    uint64_t used = atomic_load_explicit(&sl->arena_used, memory_order_acquire), at;
    struct shmet__def_view v;
    int rc, kind = 0;

    while ((at = ss->arena_off) <= upto &&
           (rc = shmet__arena_next(d->seg, idx, used, &ss->arena_off, d->defbuf,
                                   sizeof(d->defbuf), &v)) != 0) {
        if (rc < 0) {
            refuse(d, ss, INV_BAD_DEFINITION);
            kind = at == upto ? -1 : kind;
            if (rc == -EFAULT || rc == -EMSGSIZE) {
                ss->arena_off = UINT64_MAX; /* cannot find the next entry */
                break;
            }
            continue;
        }
        if (at == upto)
            kind = v.kind;
        if (v.kind == SHMET_DEF_FAMILY)
            def_family(d, idx, ss, &v);
        else
            def_series(d, idx, ss, &v);
    }
    return kind;
}

/* A DEFINE record names the arena entry its producer published just
 * before it (tag-define-record in abi.h): read the arena up to that entry,
 * so that the definition is bound before the samples behind it in the
 * ring. An entry already read needs nothing (a lookup reads ahead when an
 * id's DEFINE was lost to a full ring); an offset at which no entry of the
 * record's kind starts is refused. */
static void define_at(struct drain *d, uint32_t idx, struct slot_state *ss,
                      const struct shmet_abi_record *r)
{
    uint64_t off = (uint64_t)r->value.i;
    int kind;

    if (off < ss->arena_off || ss->arena_off == UINT64_MAX)
        return;
    kind = scan_arena(d, idx, ss, off);
    if (kind >= 0 && kind != r->aux)
        refuse(d, ss, INV_BAD_DEFINITION);
}

/* ---- records ----------------------------------------------------------- */

/* The binding of id, reading the definitions published since the last
 * look when it has none yet; NULL while id is undefined. A refused id's
 * binding is answered too (refused set, s NULL). */
static struct binding *lookup(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id)
{
    struct binding *b = idmap_get(&ss->series, id);

    if (b == NULL || (b->s == NULL && !b->refused)) {
        scan_arena(d, idx, ss, UINT64_MAX);
        b = idmap_get(&ss->series, id);
    }
    return (b != NULL && (b->s != NULL || b->refused)) ? b : NULL;
}

/* The binding of id when it has a series. */
static struct binding *resolve(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id)
{
    struct binding *b = lookup(d, idx, ss, id);

    return (b != NULL && b->s != NULL) ? b : NULL;
}

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
            define_at(d, idx, ss, r);
        return;
    }
    if (r->op < SHMET_OP_COUNTER_ADD || r->op > SHMET_OP_OBSERVE) {
        refuse(d, ss, INV_BAD_OP);
        return;
    }
    /* The common case first: a bound id (a refused one has no series). */
    b = idmap_get(&ss->series, r->series);
    if (__builtin_expect(b == NULL || b->s == NULL, 0)) {
        if ((b = lookup(d, idx, ss, r->series)) == NULL) {
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
        log_producer(LOG_LEVEL_DEBUG, idx, ss->pid, "left (generation %u): drained, slot freed",
                     gen);
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

uint64_t drain_invalid_total(const struct drain *d)
{
    uint64_t n = 0;

    for (int i = 0; i < INV_COUNT; i++)
        n += d->invalid[i];
    return n;
}
