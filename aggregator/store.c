/* SPDX-License-Identifier: MIT */
/*
 * aggregator/store.c - see store.h. Tables are open-addressing arrays of
 * indices keyed with SipHash (a random key per run), so label values that
 * come from requests cannot be chosen to collide.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <shmetrics/abi.h>

#include "shm.h"
#include "store.h"

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
    for (uint16_t i = 0; i < s->fam->nlabels; i++)
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

static void family_free(struct store_family *f)
{
    for (uint32_t i = 0; i < f->nseries; i++)
        series_free(f->series[i]);
    for (uint16_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->bounds);
    free(f->series);
    free(f->sorted_series);
    free(f->table);
    free(f->name);
    free(f->help);
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

/* Rebuild table (capacity doubled) over n items whose hashes hash_at gives. */
static int table_grow(uint32_t **table, uint32_t *cap, uint32_t n, hash_at_fn hash_at,
                      const void *ctx)
{
    uint32_t ncap = *cap ? *cap * 2 : 64;
    uint32_t *t = calloc(ncap, sizeof(*t));

    if (t == NULL)
        return -ENOMEM;
    for (uint32_t k = 0; k < n; k++) {
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

static bool spec_matches(const struct store_family *f, const struct family_spec *s)
{
    if (f->type != s->type || f->nlabels != s->nlabels || f->nbounds != s->nbounds)
        return false;
    if (f->type == SHMET_TYPE_GAUGE && f->gauge_mode != s->gauge_mode)
        return false;
    for (uint16_t i = 0; i < f->nlabels; i++)
        if (strlen(f->labels[i]) != s->label_lens[i] ||
            memcmp(f->labels[i], s->labels[i], s->label_lens[i]) != 0)
            return false;
    for (uint32_t i = 0; i < f->nbounds; i++)
        if (f->bounds[i] != s->bounds[i])
            return false;
    return true;
}

static struct store_family *family_new(const struct family_spec *s)
{
    struct store_family *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->name = strndup(s->name, s->name_len);
    f->help = strndup(s->help, s->help_len);
    f->labels = calloc(s->nlabels + 1u, sizeof(char *));
    f->bounds = malloc((s->nbounds + 1u) * sizeof(double));
    if (f->name == NULL || f->help == NULL || f->labels == NULL || f->bounds == NULL)
        goto err;
    for (; f->nlabels < s->nlabels; f->nlabels++)
        if ((f->labels[f->nlabels] = strndup(s->labels[f->nlabels],
                                             s->label_lens[f->nlabels])) == NULL)
            goto err;
    f->type = s->type;
    f->gauge_mode = s->gauge_mode;
    f->nbounds = s->nbounds;
    if (s->nbounds)
        memcpy(f->bounds, s->bounds, s->nbounds * sizeof(double));
    return f;
err:
    family_free(f);
    return NULL;
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

int store_family(struct store *st, const struct family_spec *spec, struct store_family **out)
{
    struct store_family *f = store_family_find(st, spec->name, spec->name_len);
    int rc;

    if (f != NULL) {
        if (!spec_matches(f, spec))
            return -EEXIST;
        *out = f;
        return 0;
    }
    if ((uint64_t)(st->nfamilies + 1) * 2 > st->table_cap &&
        (rc = table_grow(&st->table, &st->table_cap, st->nfamilies, family_hash_at, st)) < 0)
        return rc;
    if ((rc = grow_ptrs(&st->families, &st->cap, st->nfamilies)) < 0)
        return rc;
    f = family_new(spec);
    if (f == NULL)
        return -ENOMEM;
    st->families[st->nfamilies++] = f;
    uint32_t i = (uint32_t)family_hash(st, f->name, spec->name_len) & (st->table_cap - 1);
    while (st->table[i] != 0)
        i = (i + 1) & (st->table_cap - 1);
    st->table[i] = st->nfamilies;
    st->sorted = false;
    *out = f;
    return 0;
}

/* ---- series ------------------------------------------------------------ */

static uint64_t series_hash(const struct store *st, const char *const *v, const uint32_t *lens,
                            uint16_t n)
{
    uint64_t h = st->key[1];

    for (uint16_t i = 0; i < n; i++)
        h = (h ^ shmet__siphash(st->key, v[i], lens[i])) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 31);
}

static uint64_t series_hash_at(const void *ctx, uint32_t idx)
{
    return ((const struct store_family *)ctx)->series[idx]->hash;
}

static bool series_equal(const struct store_series *s, const char *const *v,
                         const uint32_t *lens)
{
    for (uint16_t i = 0; i < s->fam->nlabels; i++)
        if (s->lens[i] != lens[i] || memcmp(s->values[i], v[i], lens[i]) != 0)
            return false;
    return true;
}

static struct store_series *series_find(struct store_family *f, uint64_t h,
                                        const char *const *v, const uint32_t *lens)
{
    if (f->table_cap == 0)
        return NULL;
    for (uint32_t i = (uint32_t)h & (f->table_cap - 1); f->table[i] != 0;
         i = (i + 1) & (f->table_cap - 1)) {
        struct store_series *s = f->series[f->table[i] - 1];
        if (s->hash == h && series_equal(s, v, lens))
            return s;
    }
    return NULL;
}

static bool all_overflow(const char *const *v, const uint32_t *lens, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        if (lens[i] != sizeof(SHMET_OVERFLOW_VALUE) - 1 ||
            memcmp(v[i], SHMET_OVERFLOW_VALUE, lens[i]) != 0)
            return false;
    return n > 0;
}

static struct store_series *series_new(struct store_family *f, uint64_t h, const char *const *v,
                                       const uint32_t *lens)
{
    /* A histogram's bucket counts follow the series in one block: the
     * drain touches both for every observation. */
    size_t extra = f->type == SHMET_TYPE_HISTOGRAM ? (f->nbounds + 1u) * sizeof(uint64_t) : 0;
    struct store_series *s = calloc(1, sizeof(*s) + extra);

    if (s == NULL)
        return NULL;
    s->fam = f;
    s->hash = h;
    s->values = calloc(f->nlabels + 1u, sizeof(char *));
    s->lens = calloc(f->nlabels + 1u, sizeof(uint32_t));
    if (s->values == NULL || s->lens == NULL)
        goto err;
    for (uint16_t i = 0; i < f->nlabels; i++) {
        if ((s->values[i] = strndup(v[i], lens[i])) == NULL)
            goto err;
        s->lens[i] = lens[i];
    }
    s->overflow = all_overflow(v, lens, f->nlabels);
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        sketch_init(&s->v.h.sketch);
        s->v.h.buckets = (uint64_t *)(void *)(s + 1);
    }
    return s;
err:
    series_free(s);
    return NULL;
}

static int series_insert(struct store *st, struct store_family *f, uint64_t h,
                         const char *const *v, const uint32_t *lens, struct store_series **out)
{
    struct store_series *s;
    int rc;

    if ((uint64_t)(f->nseries + 1) * 2 > f->table_cap &&
        (rc = table_grow(&f->table, &f->table_cap, f->nseries, series_hash_at, f)) < 0)
        return rc;
    if ((rc = grow_ptrs(&f->series, &f->cap, f->nseries)) < 0)
        return rc;
    if ((s = series_new(f, h, v, lens)) == NULL)
        return -ENOMEM;
    f->series[f->nseries++] = s;
    uint32_t i = (uint32_t)h & (f->table_cap - 1);
    while (f->table[i] != 0)
        i = (i + 1) & (f->table_cap - 1);
    f->table[i] = f->nseries;
    f->sorted = false;
    st->nseries++;
    if (s->overflow)
        f->overflow = s;
    *out = s;
    return 0;
}

/* The family's __overflow__ series, made on first need. */
static int overflow_series(struct store *st, struct store_family *f, struct store_series **out)
{
    const char *v[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];

    if (f->overflow != NULL) {
        *out = f->overflow;
        return 0;
    }
    for (uint16_t i = 0; i < f->nlabels; i++) {
        v[i] = SHMET_OVERFLOW_VALUE;
        lens[i] = sizeof(SHMET_OVERFLOW_VALUE) - 1;
    }
    return series_insert(st, f, series_hash(st, v, lens, f->nlabels), v, lens, out);
}

int store_series(struct store *st, struct store_family *f, const char *const *values,
                 const uint32_t *lens, struct store_series **out)
{
    uint64_t h = series_hash(st, values, lens, f->nlabels);
    struct store_series *s = series_find(f, h, values, lens);

    if (s != NULL) {
        *out = s;
        return 0;
    }
    /* The cap counts real series; the overflow series itself is always allowed. */
    if (f->nlabels > 0 && !all_overflow(values, lens, f->nlabels) &&
        f->nseries - (f->overflow != NULL) >= st->max_series) {
        f->folded++;
        int rc = overflow_series(st, f, out);
        if (rc == 0)
            (*out)->touched = true;
        return rc;
    }
    return series_insert(st, f, h, values, lens, out);
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

/* SUM: 0 with no live producer; MAX/MIN: NaN (absent) with none. */
double store_gauge_value(const struct store_series *s)
{
    double v;

    switch (s->fam->gauge_mode) {
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
            if (isnan(v) || (s->fam->gauge_mode == SHMET_GAUGE_MAX ? c > v : c < v))
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
    const struct store_family *f = s->fam;
    uint32_t lo = 0, hi = f->nbounds;

    /* first bound >= v (le is inclusive); +Inf bucket when none */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (f->bounds[mid] < v)
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

    for (uint16_t i = 0; i < x->fam->nlabels; i++) {
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
