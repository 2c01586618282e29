/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store.h - the aggregator's global metric store: families by
 * name, series by label values (SipHash-keyed tables), counters and
 * histograms that only grow, gauges as one contribution per producer
 * combined by mode, a per-family cardinality cap with an __overflow__
 * series. Written by drain.c, read by the renderers (expo.c, debug.c).
 * Single-threaded: the aggregator has one thread.
 */
#ifndef SHMETRICS_AGGREGATOR_STORE_H
#define SHMETRICS_AGGREGATOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sketch.h"

struct store_series;

/* One producer's contribution to one gauge series (SUM/MAX/MIN). Owned by
 * the series; linked from the producer's binding so that it can be removed
 * when the producer dies. */
struct gauge_contrib {
    struct store_series *series;
    double value;
    uint32_t index; /* position in series->g.contribs */
};

struct hist_data {
    uint64_t count;
    double sum;
    uint64_t *buckets;     /* nbounds + 1, non-cumulative, last is +Inf;
                            * in the series' own allocation */
    struct sketch sketch;  /* quantiles for /debug */
};

struct store_series {
    struct store_family *fam;
    uint64_t hash;
    char **values; /* fam->nlabels label values, NUL-terminated UTF-8 */
    uint32_t *lens;
    char *label_text;     /* the labels as the exposition writes them,
                           * a="x",b="y" escaped: made by expo.c at the
                           * first render, freed with the series */
    uint32_t label_text_len;
    bool overflow; /* the family's __overflow__ fold */
    bool touched;  /* a sample or a fold reached it; untouched overflow
                    * series (defined by every producer) stay hidden */
    union {
        double counter;
        struct {
            double last;     /* LAST mode, and the value of dead producers' LAST */
            uint64_t last_seq;
            struct gauge_contrib **contribs;
            uint32_t ncontribs, cap;
        } g;
        struct hist_data h;
    } v;
};

struct store_family {
    char *name;
    char *help;
    uint8_t type;       /* enum shmet_type */
    uint8_t gauge_mode; /* enum shmet_gauge_mode */
    uint16_t nlabels;
    char **labels;
    uint32_t nbounds;
    double *bounds;
    bool internal; /* the aggregator's own shmetrics_* family */

    struct store_series **series; /* in creation order */
    uint32_t nseries, cap;
    uint32_t *table; /* open addressing: index + 1 */
    uint32_t table_cap;
    bool sorted;                  /* sorted_series is current */
    struct store_series **sorted_series;

    uint64_t folded; /* new series folded into __overflow__ by the cap */
    struct store_series *overflow;
};

struct store {
    uint64_t key[2];
    uint32_t max_series; /* per family */
    struct store_family **families;
    uint32_t nfamilies, cap;
    uint32_t *table;
    uint32_t table_cap;
    bool sorted;
    struct store_family **sorted_families;
    uint64_t nseries; /* all families */
    uint64_t gauge_seq;
};

/* A family definition as read from a producer (or made internally). */
struct family_spec {
    const char *name;
    size_t name_len;
    const char *help;
    size_t help_len;
    uint8_t type;
    uint8_t gauge_mode;
    uint16_t nlabels;
    const char *const *labels; /* not NUL-terminated; lengths below */
    const uint32_t *label_lens;
    uint32_t nbounds;
    const double *bounds;
};

int store_init(struct store *st, uint32_t max_series);
void store_fini(struct store *st);

/* Get or create the family; -EEXIST when the name exists with another
 * type, labels, bounds or gauge mode; -ENOMEM. */
int store_family(struct store *st, const struct family_spec *spec, struct store_family **out);
struct store_family *store_family_find(struct store *st, const char *name, size_t len);

/* Get or create the series for these label values; beyond the family's
 * cap, the __overflow__ series (and fam->folded counts the fold). */
int store_series(struct store *st, struct store_family *f, const char *const *values,
                 const uint32_t *lens, struct store_series **out);

/* Gauge contributions. */
struct gauge_contrib *store_gauge_join(struct store_series *s);
void store_gauge_leave(struct gauge_contrib *c);
void store_gauge_set_last(struct store *st, struct store_series *s, double v);
double store_gauge_value(const struct store_series *s);

/* False for an __overflow__ series nothing has reached yet. */
bool store_series_visible(const struct store_series *s);

/* Histogram observation. */
void store_observe(struct store_series *s, double v);

/* Families sorted by name, series sorted by label values (cached). */
struct store_family *const *store_families_sorted(struct store *st);
struct store_series *const *store_series_sorted(struct store_family *f);

#endif /* SHMETRICS_AGGREGATOR_STORE_H */
