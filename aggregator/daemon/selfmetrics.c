/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/selfmetrics.c - see selfmetrics.h. Counters here are set to
 * the drain's running totals (which only grow) rather than incremented.
 * Per family: its series (the placeholder not counted), label sets folded
 * by the cap, samples that reached the placeholder by reason, and its
 * definitions (tag-family-defs in store.h): how many, the samples counted
 * into a series of another layout (families with more than one), and the
 * records refused for a definition of another type (families with one).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

#include "daemon/selfmetrics.h"

static const double duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   0.25,   1};

/* One of the aggregator's own families, and where self_init() keeps its
 * handle: an offset into struct selfmetrics. */
struct self_family {
    const char *name;
    uint8_t type;
    const char *labels[2]; /* none, the first, or both */
    size_t handle;
    const char *help;
};

#define AT(field) offsetof(struct selfmetrics, field)

/* Created in this order, which the store's family list keeps (the
 * renderers sort by name). */
static const struct self_family self_families[] = {
    {"shmetrics_samples_total", SHMET_TYPE_COUNTER, {"slot"}, AT(samples),
     "Samples applied from producer slots, by slot index."},
    {"shmetrics_dropped_total", SHMET_TYPE_COUNTER, {"slot"}, AT(dropped),
     "Samples producers dropped because their ring was full, by slot index."},
    {"shmetrics_noslot_dropped_total", SHMET_TYPE_COUNTER, {NULL}, AT(noslot),
     "Samples dropped because a producer found no free slot."},
    {"shmetrics_invalid_records_total", SHMET_TYPE_COUNTER, {"reason"}, AT(invalid),
     "Records and definitions refused as invalid, by reason."},
    {"shmetrics_series", SHMET_TYPE_GAUGE, {"family"}, AT(series),
     "Series held (the __overflow__ series not counted), by family."},
    {"shmetrics_series_overflow_total", SHMET_TYPE_COUNTER, {"family"}, AT(folded),
     "New series folded into __overflow__ by the per-family cap, by family."},
    {"shmetrics_families", SHMET_TYPE_GAUGE, {NULL}, AT(families), "Metric families held."},
    {"shmetrics_producers", SHMET_TYPE_GAUGE, {NULL}, AT(producers),
     "Producer slots in use (active)."},
    {"shmetrics_slots_freed_total", SHMET_TYPE_COUNTER, {NULL}, AT(slots_freed),
     "Slots drained and freed after their owner left."},
    {"shmetrics_segment_attaches_total", SHMET_TYPE_COUNTER, {NULL}, AT(attaches),
     "Times shmetricsd attached to a segment: at start, then after a loss or a replacement."},
    {"shmetrics_segment_lost_total", SHMET_TYPE_COUNTER, {NULL}, AT(lost),
     "Times the segment was truncated under shmetricsd, which then kept its metrics and waited "
     "for a valid segment at the name."},
    {"shmetrics_claims_reclaimed_total", SHMET_TYPE_COUNTER, {NULL}, AT(claims_reclaimed),
     "Slots given back after their claimer died in the middle of claiming them."},
    {"shmetrics_drain_duration_seconds", SHMET_TYPE_HISTOGRAM, {NULL}, AT(drain_seconds),
     "Time to drain every slot once."},
    {"shmetrics_scrape_duration_seconds", SHMET_TYPE_HISTOGRAM, {NULL}, AT(scrape_seconds),
     "Time to render one /metrics response."},
    {"shmetrics_overflow_samples_total", SHMET_TYPE_COUNTER, {"family", "reason"},
     AT(overflow_samples),
     "Samples that reached a family's __overflow__ series, by family and reason: arena (the "
     "producer's definition arena was full), cardinality (--max-series-per-family)."},
    {"shmetrics_family_definitions", SHMET_TYPE_GAUGE, {"family"}, AT(definitions),
     "Definitions of a family served side by side (a rolling deploy changed its labels, help, "
     "buckets or gauge mode), by family."},
    {"shmetrics_definition_mismatch_samples_total", SHMET_TYPE_COUNTER, {"family"}, AT(mismatch),
     "Samples recorded under one definition of a family and counted into a series made by "
     "another with other buckets or gauge mode, by family (those with more than one "
     "definition)."},
    {"shmetrics_family_conflicts_total", SHMET_TYPE_COUNTER, {"family", "type"}, AT(conflicts),
     "Definitions, series definitions and samples refused because they define a family as "
     "another type than it has, by family and the type refused."},
    {"shmetrics_build_info", SHMET_TYPE_GAUGE, {"version"}, AT(build),
     "Version of shmetricsd and of the segment ABI."},
};

#undef AT

/* Create f in st, marked internal, and store its handle in m. */
static int fam(struct store *st, const struct self_family *f, struct selfmetrics *m)
{
    const char *a = f->labels[0], *b = f->labels[1];
    uint32_t lens[2] = {a ? (uint32_t)strlen(a) : 0, b ? (uint32_t)strlen(b) : 0};
    struct store_family **out = (struct store_family **)((char *)m + f->handle);
    struct family_spec s = {.name = f->name, .name_len = strlen(f->name), .help = f->help,
                            .help_len = strlen(f->help), .type = f->type,
                            .gauge_mode = SHMET_GAUGE_LAST,
                            .nlabels = (uint16_t)(a ? (b ? 2 : 1) : 0),
                            .labels = f->labels, .label_lens = lens};
    int rc;

    if (f->type == SHMET_TYPE_HISTOGRAM) {
        s.bounds = duration_bounds;
        s.nbounds = sizeof(duration_bounds) / sizeof(duration_bounds[0]);
    }
    rc = store_family(st, &s, out);
    if (rc == 0)
        (*out)->internal = true;
    return rc;
}

/* The series of f with one label value (or none). */
static struct store_series *one(struct store *st, struct store_family *f, const char *value)
{
    const char *v[1] = {value};
    uint32_t len[1] = {value ? (uint32_t)strlen(value) : 0};
    struct store_series *s = NULL;

    (void)store_series(st, f, v, len, &s);
    return s;
}

int self_init(struct selfmetrics *m, struct store *st, const struct drain *d)
{
    int rc = 0;
    (void)d;

    memset(m, 0, sizeof(*m));
    /* Every family is tried even after a failure, as one error at the end. */
    for (size_t i = 0; i < sizeof(self_families) / sizeof(self_families[0]); i++)
        rc |= fam(st, &self_families[i], m);
    if (rc != 0)
        return -ENOMEM;
    m->drain_s = one(st, m->drain_seconds, NULL);
    m->scrape_s = one(st, m->scrape_seconds, NULL);
    struct store_series *b = one(st, m->build, SHMET_VERSION);
    if (m->drain_s == NULL || m->scrape_s == NULL || b == NULL)
        return -ENOMEM;
    store_gauge_set_last(st, b, 1);
    for (int r = 0; r < INV_COUNT; r++) { /* every reason visible, even at 0 */
        if (one(st, m->invalid, invalid_reason_name((enum invalid_reason)r)) == NULL)
            return -ENOMEM;
    }
    return 0;
}

static void set_counter(struct store *st, struct store_family *f, const char *v, double x)
{
    struct store_series *s = one(st, f, v);

    if (s != NULL)
        s->v.counter = x;
}

static void set_gauge(struct store *st, struct store_family *f, const char *v, double x)
{
    struct store_series *s = one(st, f, v);

    if (s != NULL)
        store_gauge_set_last(st, s, x);
}

/* The series of f with two label values. */
static struct store_series *two(struct store *st, struct store_family *f, const char *a,
                                const char *b)
{
    const char *v[2] = {a, b};
    uint32_t len[2] = {(uint32_t)strlen(a), (uint32_t)strlen(b)};
    struct store_series *s = NULL;

    (void)store_series(st, f, v, len, &s);
    return s;
}

static void set_counter2(struct store *st, struct store_family *f, const char *a, const char *b,
                         double x)
{
    struct store_series *s = two(st, f, a, b);

    if (s != NULL)
        s->v.counter = x;
}

/* What a family's definitions and placeholder did. */
static void update_family(struct selfmetrics *m, struct store *st, const struct store_family *f)
{
    set_gauge(st, m->series, f->name, store_family_series(f));
    set_counter(st, m->folded, f->name, (double)f->folded);
    set_counter2(st, m->overflow_samples, f->name, "arena",
                 (double)f->overflow_samples[STORE_FOLD_ARENA]);
    set_counter2(st, m->overflow_samples, f->name, "cardinality",
                 (double)f->overflow_samples[STORE_FOLD_CARDINALITY]);
    set_gauge(st, m->definitions, f->name, f->ndefs);
    if (f->ndefs > 1)
        set_counter(st, m->mismatch, f->name, (double)f->mismatch_samples);
}

/* Definitions refused as another type, of any family (the aggregator's
 * own too: producers may not define those names). */
static void update_conflicts(struct selfmetrics *m, struct store *st,
                             const struct store_family *f)
{
    for (uint8_t t = SHMET_TYPE_COUNTER; t <= SHMET_TYPE_HISTOGRAM; t++)
        if (f->conflicts[t] != NULL)
            set_counter2(st, m->conflicts, f->name, store_type_name(t),
                         (double)(f->conflicts[t]->definitions + f->conflicts[t]->records));
}

static void update_slots(struct selfmetrics *m, struct store *st, const struct drain *d)
{
    char idx[16];

    for (uint32_t i = 0; i < d->ncounted; i++) {
        if (d->slot_samples[i] == 0 && d->slot_dropped[i] == 0)
            continue; /* a slot never used has no series */
        snprintf(idx, sizeof(idx), "%u", i);
        set_counter(st, m->samples, idx, (double)d->slot_samples[i]);
        set_counter(st, m->dropped, idx, (double)d->slot_dropped[i]);
    }
    set_gauge(st, m->producers, NULL, d->active);
}

void self_update(struct selfmetrics *m, struct store *st, const struct drain *d,
                 const struct self_segment *seg)
{
    update_slots(m, st, d);
    set_counter(st, m->noslot, NULL, (double)d->noslot_total);
    set_counter(st, m->slots_freed, NULL, (double)d->slots_freed);
    set_counter(st, m->attaches, NULL, (double)seg->attaches);
    set_counter(st, m->lost, NULL, (double)seg->lost);
    set_counter(st, m->claims_reclaimed, NULL, (double)d->claims_reclaimed);
    for (int r = 0; r < INV_COUNT; r++)
        set_counter(st, m->invalid, invalid_reason_name((enum invalid_reason)r),
                    (double)d->invalid[r]);
    for (uint32_t i = 0; i < st->nfamilies; i++) {
        struct store_family *f = st->families[i];
        if (!f->internal)
            update_family(m, st, f);
        update_conflicts(m, st, f);
    }
    set_gauge(st, m->families, NULL, st->nfamilies);
}

void self_observe_drain(struct selfmetrics *m, double seconds)
{
    store_observe(m->drain_s, seconds);
}

void self_observe_scrape(struct selfmetrics *m, double seconds)
{
    store_observe(m->scrape_s, seconds);
}
