/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store/store.c - see store.h. Tables are open-addressing arrays of
 * indices keyed with SipHash (a random key per run), so label values that
 * come from requests cannot be chosen to collide. A label set's key adds
 * up one keyed hash per non-empty (name, value) pair, so that it does not
 * depend on the order of the labels (tag-family-defs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <shmetrics/abi.h>

#include "shm.h"
#include "store/store.h"

int store_init(struct store *st, uint32_t max_series)
{
    memset(st, 0, sizeof(*st));
    if (getrandom(st->key, sizeof(st->key), 0) != sizeof(st->key))
        return -EIO;
    st->max_series = max_series;
    return 0;
}

static void series_free(struct store_series *s)
{
    if (s == NULL)
        return;
    for (uint16_t i = 0; s->values != NULL && i < s->def->nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->lens);
    free(s->label_text);
    if (s->fam->type == SHMET_TYPE_HISTOGRAM) {
        sketch_fini(&s->v.h.sketch); /* the buckets live in s's block */
    } else if (s->fam->type == SHMET_TYPE_GAUGE) {
        for (uint32_t i = 0; i < s->v.g.ncontribs; i++)
            s->v.g.contribs[i]->series = NULL; /* the binding outlives us */
        free(s->v.g.contribs);
    }
    free(s);
}

static void def_free(struct store_def *d)
{
    if (d == NULL)
        return;
    for (uint16_t i = 0; d->labels != NULL && i < d->nlabels; i++)
        free(d->labels[i]);
    free(d->labels);
    free(d->name_hash);
    free(d->bounds);
    free(d->help);
    free(d);
}

static void family_free(struct store_family *f)
{
    for (uint32_t i = 0; i < f->nseries; i++)
        series_free(f->series[i]);
    for (uint32_t i = 0; i < f->ndefs; i++)
        def_free(f->defs[i]);
    for (size_t i = 0; i < sizeof(f->conflicts) / sizeof(f->conflicts[0]); i++) {
        if (f->conflicts[i] != NULL)
            free(f->conflicts[i]->labels);
        free(f->conflicts[i]);
    }
    free(f->defs);
    free(f->series);
    free(f->sorted_series);
    free(f->table);
    free(f->name);
    free(f);
}

void store_fini(struct store *st)
{
    for (uint32_t i = 0; i < st->nfamilies; i++)
        family_free(st->families[i]);
    free(st->families);
    free(st->sorted_families);
    free(st->table);
    memset(st, 0, sizeof(*st));
}

/* ---- open-addressing index tables ----------------------------------- */

typedef uint64_t (*hash_at_fn)(const void *ctx, uint32_t idx);

/* Rebuild table (capacity doubled) over n items whose hashes hash_at gives;
 * skip(ctx, k) leaves item k out of it (may be NULL). */
static int table_grow(uint32_t **table, uint32_t *cap, uint32_t n, hash_at_fn hash_at,
                      bool (*skip)(const void *ctx, uint32_t idx), const void *ctx)
{
    uint32_t ncap = *cap ? *cap * 2 : 64;
    uint32_t *t = calloc(ncap, sizeof(*t));

    if (t == NULL)
        return -ENOMEM;
    for (uint32_t k = 0; k < n; k++) {
        if (skip != NULL && skip(ctx, k))
            continue;
        uint32_t i = (uint32_t)hash_at(ctx, k) & (ncap - 1);
        while (t[i] != 0)
            i = (i + 1) & (ncap - 1);
        t[i] = k + 1;
    }
    free(*table);
    *table = t;
    *cap = ncap;
    return 0;
}

static void table_put(uint32_t *table, uint32_t cap, uint64_t h, uint32_t idx)
{
    uint32_t i = (uint32_t)h & (cap - 1);

    while (table[i] != 0)
        i = (i + 1) & (cap - 1);
    table[i] = idx + 1;
}

static int grow_ptrs(void *arr, uint32_t *cap, uint32_t n)
{
    void **a = *(void ***)arr;

    if (n < *cap)
        return 0;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    a = realloc(a, ncap * sizeof(void *));
    if (a == NULL)
        return -ENOMEM;
    *(void ***)arr = a;
    *cap = ncap;
    return 0;
}

/* ---- families and their definitions ----------------------------------- */

static uint64_t family_hash(const struct store *st, const char *name, size_t len)
{
    return shmet__siphash(st->key, name, len);
}

static uint64_t family_hash_at(const void *ctx, uint32_t idx)
{
    const struct store *st = ctx;
    const struct store_family *f = st->families[idx];

    return family_hash(st, f->name, strlen(f->name));
}

struct store_family *store_family_find(struct store *st, const char *name, size_t len)
{
    if (st->table_cap == 0)
        return NULL;
    uint32_t i = (uint32_t)family_hash(st, name, len) & (st->table_cap - 1);
    for (; st->table[i] != 0; i = (i + 1) & (st->table_cap - 1)) {
        struct store_family *f = st->families[st->table[i] - 1];
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
            return f;
    }
    return NULL;
}

static bool bounds_equal(const double *a, uint32_t na, const double *b, uint32_t nb)
{
    if (na != nb)
        return false;
    for (uint32_t i = 0; i < na; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The whole definition: labels in order, bounds, gauge mode, help. */
static bool def_matches(const struct store_def *d, const struct family_spec *s)
{
    if (d->nlabels != s->nlabels || !bounds_equal(d->bounds, d->nbounds, s->bounds, s->nbounds))
        return false;
    if (d->fam->type == SHMET_TYPE_GAUGE && d->gauge_mode != s->gauge_mode)
        return false;
    if (strlen(d->help) != s->help_len || memcmp(d->help, s->help, s->help_len) != 0)
        return false;
    for (uint16_t i = 0; i < d->nlabels; i++)
        if (strlen(d->labels[i]) != s->label_lens[i] ||
            memcmp(d->labels[i], s->labels[i], s->label_lens[i]) != 0)
            return false;
    return true;
}

bool store_def_same_layout(const struct store_def *a, const struct store_def *b)
{
    if (a == b)
        return true;
    if (a->fam->type == SHMET_TYPE_HISTOGRAM)
        return bounds_equal(a->bounds, a->nbounds, b->bounds, b->nbounds);
    if (a->fam->type == SHMET_TYPE_GAUGE)
        return a->gauge_mode == b->gauge_mode;
    return true;
}

/* A label name given twice would make an exposition no parser accepts. */
static bool labels_unique(const struct family_spec *s)
{
    for (uint16_t i = 0; i < s->nlabels; i++)
        for (uint16_t j = 0; j < i; j++)
            if (s->label_lens[i] == s->label_lens[j] &&
                memcmp(s->labels[i], s->labels[j], s->label_lens[i]) == 0)
                return false;
    return true;
}

static struct store_def *def_new(const struct store *st, struct store_family *f,
                                 const struct family_spec *s)
{
    struct store_def *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->fam = f;
    d->help = strndup(s->help, s->help_len);
    d->labels = calloc(s->nlabels + 1u, sizeof(char *));
    d->name_hash = calloc(s->nlabels + 1u, sizeof(uint64_t));
    d->bounds = malloc((s->nbounds + 1u) * sizeof(double));
    if (d->help == NULL || d->labels == NULL || d->name_hash == NULL || d->bounds == NULL)
        goto err;
    for (; d->nlabels < s->nlabels; d->nlabels++) {
        uint16_t i = d->nlabels;
        if ((d->labels[i] = strndup(s->labels[i], s->label_lens[i])) == NULL)
            goto err;
        d->name_hash[i] = shmet__siphash(st->key, s->labels[i], s->label_lens[i]);
    }
    d->gauge_mode = s->gauge_mode;
    d->nbounds = s->nbounds;
    if (s->nbounds)
        memcpy(d->bounds, s->bounds, s->nbounds * sizeof(double));
    return d;
err:
    def_free(d);
    return NULL;
}

/* Append a new definition to f; it becomes the newest. */
static int def_add(struct store *st, struct store_family *f, const struct family_spec *s,
                   struct store_def **out)
{
    struct store_def *d;

    if (f->ndefs >= STORE_DEFS_MAX)
        return -ENOSPC;
    if (grow_ptrs(&f->defs, &f->defs_cap, f->ndefs) < 0 || (d = def_new(st, f, s)) == NULL)
        return -ENOMEM;
    d->index = f->ndefs;
    f->defs[f->ndefs++] = d;
    f->cur = d;
    *out = d;
    return 0;
}

static struct store_family *family_new(const struct family_spec *s)
{
    struct store_family *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    if ((f->name = strndup(s->name, s->name_len)) == NULL) {
        free(f);
        return NULL;
    }
    f->type = s->type;
    return f;
}

/* A new family with its first definition, in the family table. */
static int family_insert(struct store *st, const struct family_spec *spec, struct store_def **out)
{
    struct store_family *f;
    int rc;

    if ((uint64_t)(st->nfamilies + 1) * 2 > st->table_cap &&
        (rc = table_grow(&st->table, &st->table_cap, st->nfamilies, family_hash_at, NULL, st)) <
            0)
        return rc;
    if ((rc = grow_ptrs(&st->families, &st->cap, st->nfamilies)) < 0)
        return rc;
    if ((f = family_new(spec)) == NULL)
        return -ENOMEM;
    if ((rc = def_add(st, f, spec, out)) < 0) {
        family_free(f);
        return rc;
    }
    st->families[st->nfamilies] = f;
    table_put(st->table, st->table_cap, family_hash(st, f->name, spec->name_len), st->nfamilies);
    st->nfamilies++;
    st->sorted = false;
    return 0;
}

int store_define(struct store *st, const struct family_spec *spec, struct store_def **out)
{
    struct store_family *f;

    if (spec->nlabels > SHMET_LABELS_MAX || !labels_unique(spec))
        return -EINVAL;
    f = store_family_find(st, spec->name, spec->name_len);
    if (f == NULL)
        return family_insert(st, spec, out);
    if (f->type != spec->type)
        return -EEXIST;
    for (uint32_t i = 0; i < f->ndefs; i++) {
        if (def_matches(f->defs[i], spec)) {
            *out = f->defs[i];
            return 0;
        }
    }
    return def_add(st, f, spec, out);
}

int store_family(struct store *st, const struct family_spec *spec, struct store_family **out)
{
    struct store_def *d;
    int rc = store_define(st, spec, &d);

    if (rc == 0)
        *out = d->fam;
    return rc;
}

uint32_t store_family_series(const struct store_family *f)
{
    return f->nseries - (f->overflow != NULL);
}

const char *store_type_name(uint8_t t)
{
    return t == SHMET_TYPE_COUNTER ? "counter" : t == SHMET_TYPE_GAUGE ? "gauge" : "histogram";
}

/* "a, b" of n names (lengths given, or NUL-terminated when lens is NULL)
 * into buf of len bytes, cut to fit. */
static void names_text(char *buf, size_t len, const char *const *names, const uint32_t *lens,
                       uint16_t n, const char *sep)
{
    size_t at = 0;

    buf[0] = '\0';
    for (uint16_t i = 0; i < n && at < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%.*s", i ? sep : "",
                         (int)(lens ? lens[i] : strlen(names[i])), names[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

static const char *mode_word(uint8_t m)
{
    static const char *const words[] = {"sum", "max", "min", "last"};

    return m < 4 ? words[m] : "?";
}

void store_def_describe(const struct store_def *d, char *buf, size_t len)
{
    char names[SHMET_LABELS_MAX * 24];
    int at;

    names_text(names, sizeof(names), (const char *const *)d->labels, NULL, d->nlabels, ",");
    at = snprintf(buf, len, "%s [%s]", store_type_name(d->fam->type), names);
    if (d->fam->type == SHMET_TYPE_GAUGE && at >= 0 && (size_t)at < len)
        snprintf(buf + at, len - (size_t)at, " mode %s", mode_word(d->gauge_mode));
    for (uint32_t i = 0; d->fam->type == SHMET_TYPE_HISTOGRAM && i < d->nbounds; i++) {
        if (at < 0 || (size_t)at >= len)
            break;
        int w = snprintf(buf + at, len - (size_t)at, "%s%g", i ? "," : " buckets ", d->bounds[i]);
        at = w < 0 ? w : at + w;
    }
}

struct store_conflict *store_conflict_note(struct store_family *f, const struct family_spec *spec,
                                           bool *first)
{
    struct store_conflict *c;
    size_t len = 1;

    *first = false;
    if (spec->type < SHMET_TYPE_COUNTER || spec->type > SHMET_TYPE_HISTOGRAM)
        return NULL;
    if (f->conflicts[spec->type] != NULL)
        return f->conflicts[spec->type];
    for (uint16_t i = 0; i < spec->nlabels; i++)
        len += spec->label_lens[i] + 1;
    if ((c = calloc(1, sizeof(*c))) == NULL || (c->labels = malloc(len)) == NULL) {
        free(c);
        return NULL;
    }
    names_text(c->labels, len, spec->labels, spec->label_lens, spec->nlabels, ",");
    c->type = spec->type;
    f->conflicts[spec->type] = c;
    *first = true;
    return c;
}

/* ---- series ------------------------------------------------------------ */

/* A bijective 64-bit mix (the MurmurHash3 finaliser's constants). */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* The label set's key: a sum over its non-empty pairs, so any order of
 * the same pairs (and any empty values) gives the same key. */
static uint64_t series_hash(const struct store *st, const struct store_def *d,
                            const char *const *v, const uint32_t *lens)
{
    uint64_t h = 0;

    for (uint16_t i = 0; i < d->nlabels; i++)
        if (lens[i] > 0)
            h += mix64(d->name_hash[i] ^ shmet__siphash(st->key, v[i], lens[i]));
    return mix64(h ^ st->key[1]);
}

static uint64_t series_hash_at(const void *ctx, uint32_t idx)
{
    return ((const struct store_family *)ctx)->series[idx]->hash;
}

static bool series_is_placeholder(const void *ctx, uint32_t idx)
{
    return ((const struct store_family *)ctx)->series[idx]->overflow;
}

static int label_index(const struct store_def *d, const char *name)
{
    for (uint16_t i = 0; i < d->nlabels; i++)
        if (strcmp(d->labels[i], name) == 0)
            return i;
    return -1;
}

/* Same label set: position by position under one definition, else pair
 * by pair, empty values left out. */
static bool series_equal(const struct store_series *s, const struct store_def *d,
                         const char *const *v, const uint32_t *lens)
{
    uint32_t n = 0, m = 0;

    if (s->def == d) {
        for (uint16_t i = 0; i < d->nlabels; i++)
            if (s->lens[i] != lens[i] || memcmp(s->values[i], v[i], lens[i]) != 0)
                return false;
        return true;
    }
    for (uint16_t i = 0; i < d->nlabels; i++) {
        if (lens[i] == 0)
            continue;
        int j = label_index(s->def, d->labels[i]);
        if (j < 0 || s->lens[j] != lens[i] || memcmp(s->values[j], v[i], lens[i]) != 0)
            return false;
        n++;
    }
    for (uint16_t j = 0; j < s->def->nlabels; j++)
        m += s->lens[j] > 0;
    return n == m;
}

static struct store_series *series_find(struct store_family *f, uint64_t h,
                                        const struct store_def *d, const char *const *v,
                                        const uint32_t *lens)
{
    if (f->table_cap == 0)
        return NULL;
    for (uint32_t i = (uint32_t)h & (f->table_cap - 1); f->table[i] != 0;
         i = (i + 1) & (f->table_cap - 1)) {
        struct store_series *s = f->series[f->table[i] - 1];
        if (s->hash == h && series_equal(s, d, v, lens))
            return s;
    }
    return NULL;
}

static struct store_series *series_new(struct store_def *d, uint64_t h, const char *const *v,
                                       const uint32_t *lens)
{
    struct store_family *f = d->fam;
    /* A histogram's bucket counts follow the series in one block: the
     * drain touches both for every observation. */
    size_t extra = f->type == SHMET_TYPE_HISTOGRAM ? (d->nbounds + 1u) * sizeof(uint64_t) : 0;
    struct store_series *s = calloc(1, sizeof(*s) + extra);

    if (s == NULL)
        return NULL;
    s->fam = f;
    s->def = d;
    s->hash = h;
    s->values = calloc(d->nlabels + 1u, sizeof(char *));
    s->lens = calloc(d->nlabels + 1u, sizeof(uint32_t));
    if (s->values == NULL || s->lens == NULL)
        goto err;
    for (uint16_t i = 0; i < d->nlabels; i++) {
        if ((s->values[i] = strndup(v[i], lens[i])) == NULL)
            goto err;
        s->lens[i] = lens[i];
    }
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        sketch_init(&s->v.h.sketch);
        s->v.h.buckets = (uint64_t *)(void *)(s + 1);
    }
    return s;
err:
    series_free(s);
    return NULL;
}

/* Append s to f's series; placeholders stay out of the table. */
static int series_append(struct store *st, struct store_family *f, struct store_series *s)
{
    int rc;

    if ((uint64_t)(f->nseries + 1) * 2 > f->table_cap &&
        (rc = table_grow(&f->table, &f->table_cap, f->nseries, series_hash_at,
                         series_is_placeholder, f)) < 0)
        return rc;
    if ((rc = grow_ptrs(&f->series, &f->cap, f->nseries)) < 0)
        return rc;
    f->series[f->nseries] = s;
    if (s->overflow) {
        f->overflow = s;
    } else {
        table_put(f->table, f->table_cap, s->hash, f->nseries);
        s->def->nseries++;
        st->nseries++;
    }
    f->nseries++;
    f->sorted = false;
    return 0;
}

static int series_insert(struct store *st, struct store_def *d, uint64_t h, const char *const *v,
                         const uint32_t *lens, bool overflow, struct store_series **out)
{
    struct store_series *s = series_new(d, h, v, lens);
    int rc;

    if (s == NULL)
        return -ENOMEM;
    s->overflow = overflow;
    if ((rc = series_append(st, d->fam, s)) < 0) {
        series_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int store_overflow(struct store *st, struct store_def *def, struct store_series **out)
{
    const char *v[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];

    if (def->fam->overflow != NULL) {
        *out = def->fam->overflow;
        return 0;
    }
    for (uint16_t i = 0; i < def->nlabels; i++) {
        v[i] = SHMET_OVERFLOW_VALUE;
        lens[i] = sizeof(SHMET_OVERFLOW_VALUE) - 1;
    }
    /* The hash is never looked up: the placeholder is not in the table. */
    return series_insert(st, def, 0, v, lens, true, out);
}

int store_series_def(struct store *st, struct store_def *def, const char *const *values,
                     const uint32_t *lens, struct store_series **out)
{
    struct store_family *f = def->fam;
    uint64_t h = series_hash(st, def, values, lens);
    struct store_series *s = series_find(f, h, def, values, lens);
    int rc;

    if (s != NULL) {
        *out = s;
        return 0;
    }
    /* The cap counts real series; a family without labels has one. */
    if (def->nlabels > 0 && store_family_series(f) >= st->max_series) {
        f->folded++;
        if ((rc = store_overflow(st, def, out)) < 0)
            return rc;
        (*out)->touched = true;
        return 1;
    }
    return series_insert(st, def, h, values, lens, false, out);
}

int store_series(struct store *st, struct store_family *f, const char *const *values,
                 const uint32_t *lens, struct store_series **out)
{
    int rc = store_series_def(st, f->cur, values, lens, out);

    return rc > 0 ? 0 : rc;
}

/* ---- gauges ------------------------------------------------------------ */

struct gauge_contrib *store_gauge_join(struct store_series *s)
{
    struct gauge_contrib *c = calloc(1, sizeof(*c));

    if (c == NULL || grow_ptrs(&s->v.g.contribs, &s->v.g.cap, s->v.g.ncontribs) < 0) {
        free(c);
        return NULL;
    }
    c->series = s;
    c->index = s->v.g.ncontribs;
    s->v.g.contribs[s->v.g.ncontribs++] = c;
    return c;
}

/* The producer is gone: its contribution no longer counts. */
void store_gauge_leave(struct gauge_contrib *c)
{
    struct store_series *s;

    if (c == NULL)
        return;
    s = c->series;
    if (s != NULL) {
        struct gauge_contrib *last = s->v.g.contribs[--s->v.g.ncontribs];
        s->v.g.contribs[c->index] = last;
        last->index = c->index;
    }
    free(c);
}

void store_gauge_set_last(struct store *st, struct store_series *s, double v)
{
    s->v.g.last = v;
    s->v.g.last_seq = ++st->gauge_seq;
}

/* By the series' own mode. SUM: 0 with no live producer; MAX/MIN: NaN
 * (absent) with none. */
double store_gauge_value(const struct store_series *s)
{
    uint8_t mode = s->def->gauge_mode;
    double v;

    switch (mode) {
    case SHMET_GAUGE_LAST:
        return s->v.g.last;
    case SHMET_GAUGE_SUM:
        v = 0;
        for (uint32_t i = 0; i < s->v.g.ncontribs; i++)
            v += s->v.g.contribs[i]->value;
        return v;
    default:
        v = NAN;
        for (uint32_t i = 0; i < s->v.g.ncontribs; i++) {
            double c = s->v.g.contribs[i]->value;
            if (isnan(v) || (mode == SHMET_GAUGE_MAX ? c > v : c < v))
                v = c;
        }
        return v;
    }
}

/* ---- histograms -------------------------------------------------------- */

bool store_series_visible(const struct store_series *s)
{
    return !s->overflow || s->touched;
}

void store_observe(struct store_series *s, double v)
{
    const struct store_def *d = s->def;
    uint32_t lo = 0, hi = d->nbounds;

    /* first bound >= v (le is inclusive); +Inf bucket when none */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (d->bounds[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    s->v.h.buckets[lo]++;
    s->v.h.count++;
    s->v.h.sum += v;
    (void)sketch_add(&s->v.h.sketch, v);
}

/* ---- ordered views ----------------------------------------------------- */

static int cmp_family(const void *a, const void *b)
{
    return strcmp((*(struct store_family *const *)a)->name,
                  (*(struct store_family *const *)b)->name);
}

static int cmp_series(const void *a, const void *b)
{
    const struct store_series *x = *(struct store_series *const *)a;
    const struct store_series *y = *(struct store_series *const *)b;

    if (x->def != y->def)
        return x->def->index < y->def->index ? -1 : 1;
    for (uint16_t i = 0; i < x->def->nlabels; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

struct store_family *const *store_families_sorted(struct store *st)
{
    if (!st->sorted) {
        void *p = realloc(st->sorted_families, (st->nfamilies + 1u) * sizeof(void *));
        if (p == NULL)
            return NULL;
        st->sorted_families = p;
        if (st->nfamilies > 0) /* families is NULL when empty */
            memcpy(p, st->families, st->nfamilies * sizeof(void *));
        qsort(p, st->nfamilies, sizeof(void *), cmp_family);
        st->sorted = true;
    }
    return st->sorted_families;
}

struct store_series *const *store_series_sorted(struct store_family *f)
{
    if (!f->sorted) {
        void *p = realloc(f->sorted_series, (f->nseries + 1u) * sizeof(void *));
        if (p == NULL)
            return NULL;
        f->sorted_series = p;
        if (f->nseries > 0)
            memcpy(p, f->series, f->nseries * sizeof(void *));
        qsort(p, f->nseries, sizeof(void *), cmp_series);
        f->sorted = true;
    }
    return f->sorted_series;
}
