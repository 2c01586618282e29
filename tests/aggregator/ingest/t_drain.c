/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/t_drain.c - see t_drain.h.
 */
#include <string.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_drain.h"
#include "t_util.h"

void t_setup_with(struct fixture *fx, uint32_t ring, uint32_t arena, uint32_t max_series)
{
    struct shmet_options o = {.ns = t_ns(fx->ns, sizeof(fx->ns), "drain"), .slots = 8,
                              .ring_records = ring, .arena_bytes = arena};

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &fx->c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(fx->ns, NULL, 0, 0, &fx->seg), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&fx->st, max_series), 0);
    CU_ASSERT_EQUAL_FATAL(drain_init(&fx->d, &fx->seg, &fx->st), 0);
}

void t_setup(struct fixture *fx, uint32_t ring)
{
    t_setup_with(fx, ring, 0, 1000);
}

void t_teardown(struct fixture *fx)
{
    drain_fini(&fx->d);
    store_fini(&fx->st);
    shmet__seg_close(&fx->seg);
    shmet_close(fx->c);
    t_ns_cleanup(fx->ns);
}

struct store_series *t_find(struct store *st, const char *fam, const char *v0)
{
    struct store_family *f = store_family_find(st, fam, strlen(fam));

    for (uint32_t i = 0; f != NULL && i < f->nseries; i++)
        if (f->series[i]->def->nlabels == 0 ||
            (v0 != NULL && strcmp(f->series[i]->values[0], v0) == 0))
            return f->series[i];
    return NULL;
}

/* Append a raw record to slot idx's ring as a hostile writer would. */
void t_raw_push(struct fixture *fx, uint32_t idx, uint32_t series, uint16_t op, double v)
{
    struct shmet__ring_producer p;

    shmet__ring_producer_init(&p, &fx->seg, idx);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, series, op, 0, v), 0);
}

uint32_t t_own_slot(struct fixture *fx)
{
    for (uint32_t i = 0; i < fx->seg.slots; i++)
        if (shmet__slot(&fx->seg, i)->state == SHMET_SLOT_ACTIVE &&
            shmet__slot(&fx->seg, i)->pid == getpid())
            return i;
    CU_FAIL("no slot");
    return 0;
}

/* The series of family fam whose labels are exactly the NULL-terminated
 * name, value pairs kv (empty values included). */
struct store_series *t_find_kv(struct store *st, const char *fam, const char *const *kv)
{
    struct store_family *f = store_family_find(st, fam, strlen(fam));
    size_t n = 0;

    while (kv[n] != NULL)
        n += 2;
    for (uint32_t i = 0; f != NULL && i < f->nseries; i++) {
        const struct store_series *s = f->series[i];
        bool ok = s->def->nlabels == n / 2;
        for (uint16_t k = 0; ok && k < s->def->nlabels; k++)
            ok = strcmp(s->def->labels[k], kv[2 * k]) == 0 &&
                 strcmp(s->values[k], kv[2 * k + 1]) == 0;
        if (ok)
            return f->series[i];
    }
    return NULL;
}

/* A DEFINE record with the given kind (aux) naming arena offset off. */
void t_raw_define(struct fixture *fx, uint32_t idx, uint16_t kind, uint64_t off)
{
    struct shmet__ring_producer p;
    union {
        double f;
        int64_t i;
    } v = {.i = (int64_t)off};

    shmet__ring_producer_init(&p, &fx->seg, idx);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, 0, SHMET_OP_DEFINE, kind, v.f), 0);
}
