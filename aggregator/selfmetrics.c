/* SPDX-License-Identifier: MIT */
/*
 * aggregator/selfmetrics.c - see selfmetrics.h. Counters here are set to
 * the drain's running totals (which only grow) rather than incremented.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

#include "selfmetrics.h"

static const double duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   0.25,   1};

static int fam(struct store *st, const char *name, const char *help, uint8_t type,
               const char *label, struct store_family **out)
{
    const char *labels[2] = {label, NULL};
    uint32_t lens[2] = {label ? (uint32_t)strlen(label) : 0, 0};
    struct family_spec s = {.name = name, .name_len = strlen(name), .help = help,
                            .help_len = strlen(help), .type = type,
                            .gauge_mode = SHMET_GAUGE_LAST, .nlabels = label ? 1 : 0,
                            .labels = labels, .label_lens = lens};
    int rc;

    if (type == SHMET_TYPE_HISTOGRAM) {
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
    rc |= fam(st, "shmetrics_samples_total", "Samples applied from producer slots, by slot index.",
              SHMET_TYPE_COUNTER, "slot", &m->samples);
    rc |= fam(st, "shmetrics_dropped_total",
              "Samples producers dropped because their ring was full, by slot index.",
              SHMET_TYPE_COUNTER, "slot", &m->dropped);
    rc |= fam(st, "shmetrics_noslot_dropped_total",
              "Samples dropped because a producer found no free slot.", SHMET_TYPE_COUNTER, NULL,
              &m->noslot);
    rc |= fam(st, "shmetrics_invalid_records_total",
              "Records and definitions refused as invalid, by reason.", SHMET_TYPE_COUNTER,
              "reason", &m->invalid);
    rc |= fam(st, "shmetrics_series", "Series held, by family.", SHMET_TYPE_GAUGE, "family",
              &m->series);
    rc |= fam(st, "shmetrics_series_overflow_total",
              "New series folded into __overflow__ by the per-family cap, by family.",
              SHMET_TYPE_COUNTER, "family", &m->folded);
    rc |= fam(st, "shmetrics_families", "Metric families held.", SHMET_TYPE_GAUGE, NULL,
              &m->families);
    rc |= fam(st, "shmetrics_producers", "Producer slots in use (active).", SHMET_TYPE_GAUGE,
              NULL, &m->producers);
    rc |= fam(st, "shmetrics_slots_freed_total", "Slots drained and freed after their owner left.",
              SHMET_TYPE_COUNTER, NULL, &m->slots_freed);
    rc |= fam(st, "shmetrics_segment_attaches_total",
              "Times shmetricsd attached to a segment: at start, then after a loss or a "
              "replacement.",
              SHMET_TYPE_COUNTER, NULL, &m->attaches);
    rc |= fam(st, "shmetrics_segment_lost_total",
              "Times the segment was truncated under shmetricsd, which then kept its metrics "
              "and waited for a valid segment at the name.",
              SHMET_TYPE_COUNTER, NULL, &m->lost);
    rc |= fam(st, "shmetrics_claims_reclaimed_total",
              "Slots given back after their claimer died in the middle of claiming them.",
              SHMET_TYPE_COUNTER, NULL, &m->claims_reclaimed);
    rc |= fam(st, "shmetrics_drain_duration_seconds", "Time to drain every slot once.",
              SHMET_TYPE_HISTOGRAM, NULL, &m->drain_seconds);
    rc |= fam(st, "shmetrics_scrape_duration_seconds", "Time to render one /metrics response.",
              SHMET_TYPE_HISTOGRAM, NULL, &m->scrape_seconds);
    rc |= fam(st, "shmetrics_build_info", "Version of shmetricsd and of the segment ABI.",
              SHMET_TYPE_GAUGE, "version", &m->build);
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
        if (f->internal)
            continue;
        set_gauge(st, m->series, f->name, f->nseries);
        set_counter(st, m->folded, f->name, (double)f->folded);
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
