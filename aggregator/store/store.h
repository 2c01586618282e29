/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store/store.h - the aggregator's global metric store: families by
 * name, each with one or more definitions, series by label set
 * (SipHash-keyed tables), counters and histograms that only grow, gauges
 * as one contribution per producer combined by mode, a per-family
 * cardinality cap with an __overflow__ placeholder series.
 *
 * Who writes it. Producers' data comes in only through the ingest stage:
 * the drain (ingest/drain.c) and, once at start before the first drain,
 * the checkpoint restore (ingest/checkpoint.c). The daemon's self-metrics
 * (daemon/selfmetrics.c) write only the internal shmetrics_* families,
 * which producers cannot define (store_family.internal). The
 * renderers (render/expo.c, render/debug.c) only read. The store calls
 * nothing outside itself. Single-threaded: the aggregator has one thread.
 * The stage is store.c (this file's) and sketch.c, the log-linear quantile
 * sketch kept beside each histogram's classic buckets.
 *
 * Definitions (tag-family-defs). A family is a name and a type. During a
 * rolling deploy old and new producers define the same name with other
 * label names, help, bucket bounds or gauge mode; each distinct definition
 * is kept (struct store_def, in order of first appearance, at most
 * STORE_DEFS_MAX) and all of them are served under the one name. The
 * newest gives the family its help. Only a definition of another type is
 * refused (-EEXIST), and noted as a conflict of the family.
 *
 * A series is identified by its label set, as Prometheus sees it: the
 * (name, value) pairs whatever their order, a pair with an empty value
 * being no pair at all ({a="x",b=""} is {a="x"}). So the definitions that
 * share label names share series, and a series found through another
 * definition than the one that made it keeps the layout of its maker:
 * its bucket bounds (a live series' buckets stay monotonic, and every
 * observation is counted exactly into them) and its gauge mode.
 *
 * The placeholder (tag-overflow-identity). Each family has at most one
 * __overflow__ series, where producers fold samples when their arena is
 * full and the store folds new label sets beyond the cap. It is known by
 * identity (store_overflow(), series->overflow), never by its label values:
 * it is not in the label-set table, so a series whose values happen to
 * read "__overflow__" is another series. It shows the labels of the
 * definition that first needed it, every value "__overflow__", and is not
 * counted as a series (store.nseries, store_family_series()).
 */
#ifndef SHMETRICS_AGGREGATOR_STORE_H
#define SHMETRICS_AGGREGATOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sketch.h"

#define STORE_DEFS_MAX 64u /* definitions of one family */

struct store_series;
struct store_family;

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
    uint64_t *buckets;     /* def->nbounds + 1, non-cumulative, last is +Inf;
                            * in the series' own allocation */
    struct sketch sketch;  /* quantiles for /debug */
};

/* One definition of a family (tag-family-defs). */
struct store_def {
    struct store_family *fam;
    char *help;
    uint8_t gauge_mode; /* enum shmet_gauge_mode, gauges only */
    uint16_t nlabels;
    char **labels;
    uint64_t *name_hash; /* per label: SipHash of its name, for label-set keys */
    uint32_t nbounds;
    double *bounds;
    uint32_t index;   /* position in fam->defs: order of first appearance */
    uint32_t nseries; /* series it made (the placeholder not counted) */
};

struct store_series {
    struct store_family *fam;
    struct store_def *def; /* the definition that made it: labels, bounds, mode */
    uint64_t hash;
    char **values; /* def->nlabels label values, NUL-terminated UTF-8 */
    uint32_t *lens;
    char *label_text;     /* the labels as the exposition writes them,
                           * a="x",b="y" escaped: made by expo.c at the
                           * first render, freed with the series */
    uint32_t label_text_len;
    bool overflow; /* the family's __overflow__ placeholder */
    bool touched;  /* a sample or a fold reached it; an untouched
                    * placeholder (defined by every producer) stays hidden */
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

/* Why a sample reached the placeholder. */
enum store_fold {
    STORE_FOLD_NONE = 0,
    STORE_FOLD_ARENA,       /* the producer's arena was full: it recorded
                             * into its family's __overflow__ series */
    STORE_FOLD_CARDINALITY, /* a label set beyond --max-series-per-family */
    STORE_FOLD_COUNT,
};

/* A definition of the family's name as another type, refused; the first
 * one of each type is described. */
struct store_conflict {
    uint8_t type;        /* enum shmet_type refused */
    char *labels;        /* its label names, comma-separated */
    uint64_t definitions; /* family definitions refused */
    uint64_t records;     /* their series definitions and samples refused */
};

struct store_family {
    char *name;
    uint8_t type; /* enum shmet_type */
    bool internal; /* the aggregator's own shmetrics_* family */

    struct store_def **defs; /* in order of first appearance */
    uint32_t ndefs, defs_cap;
    struct store_def *cur; /* the newest: its help is the family's */

    struct store_series **series; /* in creation order, the placeholder too */
    uint32_t nseries, cap;
    uint32_t *table; /* open addressing: index + 1; never the placeholder */
    uint32_t table_cap;
    bool sorted;                  /* sorted_series is current */
    struct store_series **sorted_series;

    uint64_t folded; /* new label sets folded into __overflow__ by the cap */
    struct store_series *overflow;
    uint64_t overflow_samples[STORE_FOLD_COUNT]; /* samples that reached it, by reason */
    uint64_t mismatch_samples; /* samples applied to a series of another layout */
    struct store_conflict *conflicts[4]; /* by refused type (1..3), made on need */
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
    uint64_t nseries; /* all families, placeholders not counted */
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

/* Get or create the definition spec describes, and its family. Errors:
 * -EEXIST the name exists with another type; -ENOSPC the family holds
 * STORE_DEFS_MAX definitions already; -EINVAL a label name twice, or
 * more than SHMET_LABELS_MAX labels; -ENOMEM. Internal families are not
 * told apart: callers that must not add to them check f->internal. */
int store_define(struct store *st, const struct family_spec *spec, struct store_def **out);
/* store_define(), answering the family. */
int store_family(struct store *st, const struct family_spec *spec, struct store_family **out);
struct store_family *store_family_find(struct store *st, const char *name, size_t len);

/* Get or create the series of def's label values (def->nlabels of them).
 * Returns 0 with the series in *out, 1 with the family's placeholder in
 * *out when a new label set was folded by the cap (fam->folded counts
 * it), or -ENOMEM. */
int store_series_def(struct store *st, struct store_def *def, const char *const *values,
                     const uint32_t *lens, struct store_series **out);
/* store_series_def() under the family's newest definition; 0 on a fold
 * too (the aggregator's own families, benchmarks, tests). */
int store_series(struct store *st, struct store_family *f, const char *const *values,
                 const uint32_t *lens, struct store_series **out);
/* The family's placeholder, made on first need with def's label names
 * (def is a definition of the family with at least one label). 0 or
 * -ENOMEM. */
int store_overflow(struct store *st, struct store_def *def, struct store_series **out);

/* Series of f, the placeholder not counted. */
uint32_t store_family_series(const struct store_family *f);
/* Whether a and b (of one family) record alike: the same bucket bounds
 * (histograms), the same gauge mode (gauges); counters always do. */
bool store_def_same_layout(const struct store_def *a, const struct store_def *b);
/* "counter [method,code]", "gauge [pool] mode max", "histogram [route]
 * buckets 0.1,1" into buf (cut to len). */
void store_def_describe(const struct store_def *d, char *buf, size_t len);
/* "counter", "gauge" or "histogram". */
const char *store_type_name(uint8_t type);

/* The conflict record of f for a refused definition of type spec->type
 * (made and described on first need; NULL when out of memory). *first
 * says whether it was just made. */
struct store_conflict *store_conflict_note(struct store_family *f, const struct family_spec *spec,
                                           bool *first);

/* Gauge contributions. */
struct gauge_contrib *store_gauge_join(struct store_series *s);
void store_gauge_leave(struct gauge_contrib *c);
void store_gauge_set_last(struct store *st, struct store_series *s, double v);
double store_gauge_value(const struct store_series *s);

/* False for a placeholder nothing has reached yet. */
bool store_series_visible(const struct store_series *s);

/* Histogram observation, into the series' own buckets. */
void store_observe(struct store_series *s, double v);

/* Families sorted by name; series sorted by definition (order of
 * appearance), then label values (cached). */
struct store_family *const *store_families_sorted(struct store *st);
struct store_series *const *store_series_sorted(struct store_family *f);

#endif /* SHMETRICS_AGGREGATOR_STORE_H */
