/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_consumer.c - see t_consumer.h. Simplicity over speed:
 * linear searches, bounded ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_consumer.h"

#define T_IDS_MAX (1u << 20)
#define T_KEY_MAX 4096

struct t_entry {
    char key[T_KEY_MAX]; /* family + '\0' + labels */
    uint8_t type;
    double value;         /* counter */
    double *gauge;        /* per slot */
    uint64_t count;       /* histogram */
    double sum;
    uint32_t nbounds;
    double bounds[SHMET_BOUNDS_MAX];
    uint64_t buckets[SHMET_BOUNDS_MAX + 1];
};

struct t_fam {
    int valid;
    uint8_t type;
    char name[SHMET_NAME_MAX + 1];
    uint32_t nbounds;
    double bounds[SHMET_BOUNDS_MAX];
};

struct t_slot {
    uint32_t gen;
    struct shmet__ring_consumer rc;
    uint64_t arena_off;
    struct t_fam *fam;  /* by local family id */
    int32_t *series;    /* local series id -> entry index, -1 unknown */
    uint32_t nfam, nseries;
};

struct t_consumer {
    struct shmet__seg *seg;
    struct t_slot *slots;
    struct t_entry **entries;
    uint32_t nentries;
    uint64_t invalid, defines;
    uint8_t buf[SHMET_DEF_MAX] __attribute__((aligned(8)));
};

struct t_consumer *t_consumer_new(struct shmet__seg *seg)
{
    struct t_consumer *tc = calloc(1, sizeof(*tc));

    tc->seg = seg;
    tc->slots = calloc(seg->slots, sizeof(*tc->slots));
    return tc;
}

static void slot_reset(struct t_slot *s)
{
    free(s->fam);
    free(s->series);
    memset(s, 0, sizeof(*s));
}

void t_consumer_free(struct t_consumer *tc)
{
    if (tc == NULL)
        return;
    for (uint32_t i = 0; i < tc->seg->slots; i++)
        slot_reset(&tc->slots[i]);
    for (uint32_t i = 0; i < tc->nentries; i++) {
        free(tc->entries[i]->gauge);
        free(tc->entries[i]);
    }
    free(tc->entries);
    free(tc->slots);
    free(tc);
}

static int32_t entry_get(struct t_consumer *tc, const struct t_fam *f, const char *labels)
{
    size_t nl = strlen(f->name);

    for (uint32_t i = 0; i < tc->nentries; i++)
        if (strcmp(tc->entries[i]->key, f->name) == 0 &&
            strcmp(tc->entries[i]->key + nl + 1, labels) == 0)
            return (int32_t)i;
    struct t_entry *e = calloc(1, sizeof(*e));
    memcpy(e->key, f->name, nl + 1);
    snprintf(e->key + nl + 1, sizeof(e->key) - nl - 1, "%s", labels);
    e->type = f->type;
    e->nbounds = f->nbounds;
    memcpy(e->bounds, f->bounds, f->nbounds * sizeof(double));
    e->gauge = calloc(tc->seg->slots, sizeof(double));
    tc->entries = realloc(tc->entries, (tc->nentries + 1) * sizeof(*tc->entries));
    tc->entries[tc->nentries] = e;
    return (int32_t)tc->nentries++;
}

static void grow(void **p, uint32_t *n, uint32_t need, size_t elem, int fill)
{
    if (need < *n)
        return;
    uint32_t nn = need + 64;
    *p = realloc(*p, nn * elem);
    memset((char *)*p + *n * elem, fill, (nn - *n) * elem);
    *n = nn;
}

static void def_apply(struct t_consumer *tc, struct t_slot *s, const struct shmet__def_view *v)
{
    if (v->id >= T_IDS_MAX) {
        tc->invalid++;
        return;
    }
    if (v->kind == SHMET_DEF_FAMILY) {
        grow((void **)&s->fam, &s->nfam, v->id, sizeof(*s->fam), 0);
        struct t_fam *f = &s->fam[v->id];
        f->valid = 1;
        f->type = v->type;
        snprintf(f->name, sizeof(f->name), "%.*s", (int)v->name.len, v->name.ptr);
        f->nbounds = v->nbounds;
        memcpy(f->bounds, v->bounds, v->nbounds * sizeof(double));
        return;
    }
    if (v->family >= s->nfam || !s->fam[v->family].valid) {
        tc->invalid++;
        return;
    }
    char labels[T_KEY_MAX] = "";
    size_t len = 0;
    for (uint16_t i = 0; i < v->nlabels; i++)
        len += (size_t)snprintf(labels + len, sizeof(labels) - len, "%s%.*s", i ? "|" : "",
                                (int)v->labels[i].len, v->labels[i].ptr);
    grow((void **)&s->series, &s->nseries, v->id, sizeof(*s->series), 0xff);
    s->series[v->id] = entry_get(tc, &s->fam[v->family], labels);
}

/* Read every definition published so far in slot idx. */
static void scan_arena(struct t_consumer *tc, uint32_t idx, struct t_slot *s)
{
    struct shmet_abi_slot *sl = shmet__slot(tc->seg, idx);
    /* ACQUIRE: pairs with the RELEASE store of arena_used by the producer. */
    uint64_t used = atomic_load_explicit(&sl->arena_used, memory_order_acquire);
    struct shmet__def_view v;
    int rc;

    while ((rc = shmet__arena_next(tc->seg, idx, used, &s->arena_off, tc->buf, sizeof(tc->buf),
                                   &v)) != 0) {
        if (rc < 0) {
            tc->invalid++;
            if (rc == -EFAULT || rc == -EMSGSIZE)
                break;
            continue;
        }
        def_apply(tc, s, &v);
    }
}

static void apply(struct t_consumer *tc, uint32_t idx, struct t_slot *s,
                  const struct shmet_abi_record *r)
{
    struct t_entry *e;

    if (r->op == SHMET_OP_DEFINE) {
        tc->defines++;
        return;
    }
    if (r->series >= s->nseries || s->series[r->series] < 0)
        scan_arena(tc, idx, s);
    if (r->series >= s->nseries || s->series[r->series] < 0) {
        tc->invalid++;
        return;
    }
    e = tc->entries[s->series[r->series]];
    if (r->op == SHMET_OP_COUNTER_ADD && e->type == SHMET_TYPE_COUNTER) {
        e->value += r->value.f;
    } else if (r->op == SHMET_OP_GAUGE_SET && e->type == SHMET_TYPE_GAUGE) {
        e->gauge[idx] = r->value.f;
    } else if (r->op == SHMET_OP_GAUGE_ADD && e->type == SHMET_TYPE_GAUGE) {
        e->gauge[idx] += r->value.f;
    } else if (r->op == SHMET_OP_OBSERVE && e->type == SHMET_TYPE_HISTOGRAM) {
        uint32_t b = 0;
        while (b < e->nbounds && r->value.f > e->bounds[b])
            b++;
        e->buckets[b]++;
        e->count++;
        e->sum += r->value.f;
    } else {
        tc->invalid++;
    }
}

static uint64_t drain_slot(struct t_consumer *tc, uint32_t idx)
{
    struct shmet_abi_slot *sl = shmet__slot(tc->seg, idx);
    struct t_slot *s = &tc->slots[idx];
    struct shmet_abi_record recs[256];
    uint64_t applied = 0;
    /* ACQUIRE: pairs with the RELEASE store of state in slot claim/retire. */
    uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
    uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    int n;

    if (state != SHMET_SLOT_ACTIVE && state != SHMET_SLOT_DEAD)
        return 0;
    if (s->gen != gen) {
        for (uint32_t i = 0; i < tc->nentries; i++)
            tc->entries[i]->gauge[idx] = 0;
        slot_reset(s);
        s->gen = gen;
        shmet__ring_consumer_init(&s->rc, tc->seg, idx);
    }
    while ((n = shmet__ring_consume(&s->rc, recs, 256)) > 0) {
        for (int i = 0; i < n; i++) {
            apply(tc, idx, s, &recs[i]);
            applied += recs[i].op != SHMET_OP_DEFINE;
        }
    }
    if (n < 0)
        tc->invalid++;
    if (state == SHMET_SLOT_DEAD && shmet__slot_free(tc->seg, idx, gen) == 0) {
        for (uint32_t i = 0; i < tc->nentries; i++)
            tc->entries[i]->gauge[idx] = 0;
        slot_reset(s);
    }
    return applied;
}

uint64_t t_consumer_drain(struct t_consumer *tc)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < tc->seg->slots; i++)
        n += drain_slot(tc, i);
    return n;
}

static struct t_entry *find(struct t_consumer *tc, const char *family, const char *labels)
{
    size_t nl = strlen(family);

    for (uint32_t i = 0; i < tc->nentries; i++)
        if (strcmp(tc->entries[i]->key, family) == 0 &&
            strcmp(tc->entries[i]->key + nl + 1, labels) == 0)
            return tc->entries[i];
    return NULL;
}

double t_counter(struct t_consumer *tc, const char *family, const char *labels)
{
    struct t_entry *e = find(tc, family, labels);
    return e ? e->value : 0;
}

double t_gauge_sum(struct t_consumer *tc, const char *family, const char *labels)
{
    struct t_entry *e = find(tc, family, labels);
    double sum = 0;

    for (uint32_t i = 0; e != NULL && i < tc->seg->slots; i++)
        sum += e->gauge[i];
    return sum;
}

uint64_t t_hist_count(struct t_consumer *tc, const char *family, const char *labels)
{
    struct t_entry *e = find(tc, family, labels);
    return e ? e->count : 0;
}

double t_hist_sum(struct t_consumer *tc, const char *family, const char *labels)
{
    struct t_entry *e = find(tc, family, labels);
    return e ? e->sum : 0;
}

uint64_t t_hist_bucket(struct t_consumer *tc, const char *family, const char *labels, uint32_t i)
{
    struct t_entry *e = find(tc, family, labels);
    return (e && i <= e->nbounds) ? e->buckets[i] : 0;
}

uint64_t t_invalid(struct t_consumer *tc)
{
    return tc->invalid;
}

uint64_t t_defines(struct t_consumer *tc)
{
    return tc->defines;
}
