/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/drain_impl.h - what the files of the drain share and
 * nobody else sees: the slot-local id maps (idmap.c), the bindings read
 * from the definition arena (define.c), the records and slots (drain.c),
 * and the owners of slots (owner.c). The public face is drain.h.
 */
#ifndef SHMETRICS_AGGREGATOR_DRAIN_IMPL_H
#define SHMETRICS_AGGREGATOR_DRAIN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/drain.h"

#define PAGE_IDS 256u
#define IDS_MAX (1u << 24)

/* A slot-local family id as the drain bound it (the families idmap). */
struct slot_family {
    struct store_def *def;           /* the definition; NULL when refused */
    struct store_conflict *conflict; /* refused for a type conflict: counted there */
    uint32_t overflow_id;            /* the slot-local id of its __overflow__ series */
    uint8_t refused;                 /* enum invalid_reason + 1 when refused */
    bool defined;                    /* read from the arena (once per id) */
};

/* ---- id maps (idmap.c): slot-local id -> entry, two levels ------------- */

void idmap_init(struct idmap *m, uint32_t elem);
void idmap_fini(struct idmap *m);
/* Entry for id, making its page; NULL for ids beyond IDS_MAX or ENOMEM. */
void *idmap_put(struct idmap *m, uint32_t id);

/* Entry for id, or NULL when its page was never made. */
static inline void *idmap_get(const struct idmap *m, uint32_t id)
{
    uint32_t p = id / PAGE_IDS;

    if (p >= m->npages || m->pages[p] == NULL)
        return NULL;
    return (uint8_t *)m->pages[p] + (size_t)(id % PAGE_IDS) * m->elem;
}


/* ---- shared by the drain's files ---------------------------------------- */

static inline void refuse(struct drain *d, struct slot_state *ss, enum invalid_reason r)
{
    d->invalid[r]++;
    ss->invalid++;
}

/* drain.c: bind slot idx's generation gen afresh; forget a slot's. */
void drain_slot_attach(struct drain *d, uint32_t idx, uint32_t gen);
void drain_slot_detach(struct slot_state *ss);

/* define.c: the arena read up to and including the entry at a DEFINE
 * record's offset; the binding of an id (reading the arena to its end when
 * it has none yet), NULL while undefined, refused ones answered too
 * (refused set, s NULL); the binding of an id when it has a series. */
void drain_define_at(struct drain *d, uint32_t idx, struct slot_state *ss,
                     const struct shmet_abi_record *r);
struct binding *drain_lookup(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id);
struct binding *drain_resolve(struct drain *d, uint32_t idx, struct slot_state *ss, uint32_t id);

#endif /* SHMETRICS_AGGREGATOR_DRAIN_IMPL_H */
