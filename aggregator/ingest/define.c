/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/define.c - from a slot's definition arena to bindings.
 * A FAMILY entry becomes a definition of a store family (several per
 * family during a rolling deploy: tag-family-defs in store/store.h); a
 * SERIES entry binds its slot-local id to the store series of its label
 * set, or to the family's __overflow__ placeholder. The arena is read in
 * order, each entry copied out and validated by libshm before use
 * (shmet__def_read), and each read once: up to the entry a DEFINE record
 * names when the record comes, to arena_used when a sample names an id
 * not bound yet (tag-define-record in abi.h).
 */
#include <errno.h>
#include <string.h>

#include "ingest/drain_impl.h"
#include "log.h"

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
void drain_define_at(struct drain *d, uint32_t idx, struct slot_state *ss,
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

struct binding *drain_lookup(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id)
{
    struct binding *b = idmap_get(&ss->series, id);

    if (b == NULL || (b->s == NULL && !b->refused)) {
        scan_arena(d, idx, ss, UINT64_MAX);
        b = idmap_get(&ss->series, id);
    }
    return (b != NULL && (b->s != NULL || b->refused)) ? b : NULL;
}

struct binding *drain_resolve(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id)
{
    struct binding *b = drain_lookup(d, idx, ss, id);

    return (b != NULL && b->s != NULL) ? b : NULL;
}
