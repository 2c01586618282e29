/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_feed.c - a segment written straight through libshm and
 * drained by the aggregator core in the same process (struct feed in
 * agg.h). The producer side does what the client does for a series' first
 * record (arena entry, then a DEFINE record carrying its offset), without
 * the client's per-thread bookkeeping, so that a benchmark can pre-fill
 * rings with exactly the records it wants and time drain_all() alone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agg.h"

#define SEG_MODE 0600

uint64_t feed_arena_for(uint64_t nseries)
{
    /* A mix series entry is about 80 bytes (header, three length-prefixed
     * values, padding); twice that, plus room for the families. */
    uint64_t want = nseries * 160 + (64u << 10);

    want = (want + 63) / 64 * 64;
    return want < SHMET_ARENA_MAX ? want : SHMET_ARENA_MAX;
}

int feed_open(struct feed *f, const char *what, uint32_t nslots, uint32_t ring_records,
              uint64_t arena_bytes, uint32_t max_series)
{
    struct shmet__geometry g = {.slots = nslots,
                                .ring_records = ring_records,
                                .arena_bytes = (uint32_t)((arena_bytes + 63) / 64 * 64)};
    struct shmet__owner o = {.pid = getpid(), .tid = shmet__gettid()};
    int rc;

    memset(f, 0, sizeof(*f));
    if (nslots == 0 || nslots > FEED_SLOTS_MAX)
        return -EINVAL;
    agg_ns(f->ns, sizeof(f->ns), what);
    (void)shmet__seg_unlink(f->ns); /* a leftover of an interrupted run */
    if ((rc = shmet__seg_open(f->ns, &g, SHMET_SEG_CREATE | SHMET_SEG_EXCL, SEG_MODE, &f->seg)) < 0)
        goto err;
    f->seg_open = true;
    (void)shmet__proc_start_time(o.pid, &o.start_time);
    for (f->nslots = 0; f->nslots < nslots; f->nslots++) {
        uint32_t gen, k = f->nslots;
        if ((rc = shmet__slot_claim(&f->seg, &o, k, &f->slot[k], &gen)) < 0)
            goto err;
        shmet__ring_producer_init(&f->rp[k], &f->seg, f->slot[k]);
    }
    if ((rc = store_init(&f->st, max_series)) < 0)
        goto err;
    f->st_open = true;
    if ((rc = drain_init(&f->d, &f->seg, &f->st)) < 0)
        goto err;
    f->d_open = true;
    return 0;
err:
    fprintf(stderr, "shmetrics-bench: segment for the %s benchmark: %s\n", what,
            shmet__strerror(rc));
    feed_close(f);
    return rc;
}

void feed_close(struct feed *f)
{
    if (f->d_open)
        drain_fini(&f->d);
    if (f->st_open)
        store_fini(&f->st);
    if (f->seg_open) {
        shmet__seg_close(&f->seg);
        (void)shmet__seg_unlink(f->ns);
    }
    f->d_open = f->st_open = f->seg_open = false;
}

uint64_t feed_room(struct feed *f, uint32_t k)
{
    struct shmet__ring_producer *r = &f->rp[k];

    /* ACQUIRE: as in shmet__ring_push(); the consumer is this thread. */
    r->tail_cache = atomic_load_explicit(r->tail_pub, memory_order_acquire);
    return r->capacity - (r->head - r->tail_cache);
}

void feed_record(struct feed *f, uint32_t k, uint32_t id, uint16_t op, double v)
{
    if (feed_room(f, k) == 0)
        (void)drain_all(&f->d);
    (void)shmet__ring_push(&f->rp[k], id, op, 0, v);
}

/* The DEFINE record that publishes an arena entry, as the client pushes. */
static void push_define(struct feed *f, uint32_t k, uint32_t id, uint16_t kind, uint64_t off)
{
    union {
        double f;
        int64_t i;
    } v = {.i = (int64_t)off};

    if (feed_room(f, k) == 0)
        (void)drain_all(&f->d);
    (void)shmet__ring_push(&f->rp[k], id, SHMET_OP_DEFINE, kind, v.f);
}

int feed_series(struct feed *f, uint32_t fam, const char *const *values, uint32_t *id)
{
    uint16_t nvalues = 0;
    uint64_t off;
    int rc;

    while (values != NULL && values[nvalues] != NULL && nvalues < SHMET_LABELS_MAX)
        nvalues++;
    for (uint32_t k = 0; k < f->nslots; k++) {
        rc = shmet__arena_put_series(&f->seg, f->slot[k], f->nseries, fam, values, nvalues, &off);
        if (rc < 0)
            return rc;
        push_define(f, k, f->nseries, SHMET_DEF_SERIES, off);
    }
    *id = f->nseries++;
    return 0;
}

int feed_family(struct feed *f, uint8_t type, const char *name, const char *help,
                const double *bounds, uint32_t nbounds, uint32_t *id)
{
    const char *overflow[MIX_LABELS + 1];
    struct shmet__family_def d = {.id = f->nfamilies,
                                  .type = type,
                                  .gauge_mode = SHMET_GAUGE_SUM,
                                  .overflow_series = f->nseries,
                                  .name = name,
                                  .help = help,
                                  .labels = mix_labels,
                                  .nlabels = MIX_LABELS,
                                  .bounds = bounds,
                                  .nbounds = nbounds};
    uint64_t off;
    uint32_t ovf;
    int rc;

    for (uint32_t k = 0; k < f->nslots; k++) {
        if ((rc = shmet__arena_put_family(&f->seg, f->slot[k], &d, &off)) < 0)
            return rc;
        push_define(f, k, d.id, SHMET_DEF_FAMILY, off);
    }
    for (int i = 0; i < MIX_LABELS; i++)
        overflow[i] = SHMET_OVERFLOW_VALUE;
    overflow[MIX_LABELS] = NULL;
    *id = f->nfamilies++;
    return feed_series(f, *id, overflow, &ovf);
}
