/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/defs.c - a slot's definition arena, walked with libshm's
 * validating reader (shmet__arena_next) up to an ACQUIRE snapshot of
 * arena_used, and kept as owned copies: families, series, and the entries
 * that failed validation with the reason in words. Used by series (to
 * list) and check (to cross-reference).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmtool.h"

const char *type_name(uint8_t type)
{
    switch (type) {
    case SHMET_TYPE_COUNTER:
        return "counter";
    case SHMET_TYPE_GAUGE:
        return "gauge";
    case SHMET_TYPE_HISTOGRAM:
        return "histogram";
    default:
        return "invalid";
    }
}

const char *gauge_mode_name(uint8_t mode)
{
    switch (mode) {
    case SHMET_GAUGE_SUM:
        return "sum";
    case SHMET_GAUGE_MAX:
        return "max";
    case SHMET_GAUGE_MIN:
        return "min";
    case SHMET_GAUGE_LAST:
        return "last";
    default:
        return "invalid";
    }
}

static char **copy_strs(const struct shmet__str *strs, uint16_t n)
{
    char **out = xrealloc_array(NULL, n, sizeof(*out));

    for (uint16_t i = 0; i < n; i++)
        out[i] = xstrndup(strs[i].ptr, strs[i].len);
    return out;
}

static void add_family(struct defs *d, uint64_t off, const struct shmet__def_view *v)
{
    struct def_family *f;

    grow((void **)&d->fam, &d->capfam, d->nfam + 1, sizeof(*d->fam));
    f = &d->fam[d->nfam++];
    f->off = off;
    f->id = v->id;
    f->overflow = v->overflow_series;
    f->type = v->type;
    f->gauge_mode = v->gauge_mode;
    f->nlabels = v->nlabels;
    f->nbounds = v->nbounds;
    f->name = xstrndup(v->name.ptr, v->name.len);
    f->help = xstrndup(v->help.ptr, v->help.len);
    f->labels = copy_strs(v->labels, v->nlabels);
    f->bounds = xrealloc_array(NULL, v->nbounds, sizeof(double));
    memcpy(f->bounds, v->bounds, (size_t)v->nbounds * sizeof(double));
}

static void add_series(struct defs *d, uint64_t off, const struct shmet__def_view *v)
{
    struct def_series *s;

    grow((void **)&d->ser, &d->capser, d->nser + 1, sizeof(*d->ser));
    s = &d->ser[d->nser++];
    s->off = off;
    s->id = v->id;
    s->family = v->family;
    s->nvalues = v->nlabels;
    s->values = copy_strs(v->labels, v->nlabels);
}

/* Which string failed an -EINVAL family entry: shmet__def_read() fills
 * each string of the view before it validates it, and leaves the rest
 * zero, so the first set string that fails is the culprit. */
static void family_invalid(const struct shmet__def_view *v, char *buf, size_t len)
{
    const struct shmet__str *bad = NULL;
    char esc[300];

    if (v->name.ptr != NULL && !shmet__metric_name_ok(v->name.ptr, v->name.len)) {
        bad = &v->name;
    } else if (v->help.ptr != NULL && !shmet__help_ok(v->help.ptr, v->help.len)) {
        snprintf(buf, len, "family %u: help text is not UTF-8 or longer than %u bytes", v->id,
                 SHMET_HELP_MAX);
        return;
    }
    for (uint16_t i = 0; bad == NULL && i < v->nlabels; i++)
        if (v->labels[i].ptr != NULL && !shmet__label_name_ok(v->labels[i].ptr, v->labels[i].len))
            bad = &v->labels[i];
    if (bad == NULL) {
        snprintf(buf, len, "family %u: %s", v->id, shmet__def_error(-EINVAL));
        return;
    }
    escape(esc, sizeof(esc), bad->ptr, bad->len < 256 ? bad->len : 256);
    snprintf(buf, len, "family %u: \"%s\" is not a valid %s name", v->id, esc,
             bad == &v->name ? "metric" : "label");
}

static void series_invalid(const struct shmet__def_view *v, char *buf, size_t len)
{
    for (uint16_t i = 0; i < v->nlabels; i++) {
        const struct shmet__str *s = &v->labels[i];
        if (s->ptr != NULL && (s->len > SHMET_LABEL_VALUE_MAX || !shmet__utf8_ok(s->ptr, s->len))) {
            snprintf(buf, len, "series %u: label value %u is not UTF-8 or longer than %u bytes",
                     v->id, i, SHMET_LABEL_VALUE_MAX);
            return;
        }
    }
    snprintf(buf, len, "series %u: %s", v->id, shmet__def_error(-EINVAL));
}

static void add_bad(struct defs *d, uint64_t off, int err, const struct shmet__def_view *v)
{
    struct def_bad *b;

    grow((void **)&d->bad, &d->capbad, d->nbad + 1, sizeof(*d->bad));
    b = &d->bad[d->nbad++];
    b->off = off;
    b->err = err;
    if (err == -EINVAL && v->kind == SHMET_DEF_FAMILY)
        family_invalid(v, b->what, sizeof(b->what));
    else if (err == -EINVAL && v->kind == SHMET_DEF_SERIES)
        series_invalid(v, b->what, sizeof(b->what));
    else if (err == -EBADMSG && v->kind != SHMET_DEF_FAMILY && v->kind != SHMET_DEF_SERIES)
        snprintf(b->what, sizeof(b->what), "%s (kind %u is neither family nor series)",
                 shmet__def_error(err), v->kind);
    else if (err == -EFAULT)
        snprintf(b->what, sizeof(b->what),
                 "only %llu bytes left before arena_used %llu, too few for an entry",
                 (unsigned long long)(d->used - off), (unsigned long long)d->used);
    else
        snprintf(b->what, sizeof(b->what), "%s", shmet__def_error(err));
}

static int fam_cmp(const void *a, const void *b)
{
    const struct def_family *x = *(const struct def_family *const *)a;
    const struct def_family *y = *(const struct def_family *const *)b;

    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int ser_cmp(const void *a, const void *b)
{
    const struct def_series *x = *(const struct def_series *const *)a;
    const struct def_series *y = *(const struct def_series *const *)b;

    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static void make_index(struct defs *d)
{
    d->fam_by_id = xrealloc_array(NULL, d->nfam, sizeof(*d->fam_by_id));
    for (size_t i = 0; i < d->nfam; i++)
        d->fam_by_id[i] = &d->fam[i];
    qsort(d->fam_by_id, d->nfam, sizeof(*d->fam_by_id), fam_cmp);
    d->ser_by_id = xrealloc_array(NULL, d->nser, sizeof(*d->ser_by_id));
    for (size_t i = 0; i < d->nser; i++)
        d->ser_by_id[i] = &d->ser[i];
    qsort(d->ser_by_id, d->nser, sizeof(*d->ser_by_id), ser_cmp);
}

/* The first-defined family with this id, or NULL. */
const struct def_family *defs_family(const struct defs *d, uint32_t id)
{
    size_t lo = 0, hi = d->nfam;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->fam_by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nfam && d->fam_by_id[lo]->id == id ? d->fam_by_id[lo] : NULL;
}

/* The first-defined series with this id, or NULL. */
const struct def_series *defs_series(const struct defs *d, uint32_t id)
{
    size_t lo = 0, hi = d->nser;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->ser_by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nser && d->ser_by_id[lo]->id == id ? d->ser_by_id[lo] : NULL;
}

/*
 * defs_load - walk slot idx's arena up to an ACQUIRE snapshot of
 * arena_used. Entries that fail validation are listed in d->bad; the walk
 * goes on past them when their size is sane, and stops (d->stopped) at
 * one whose size cannot be trusted. The caller re-checks the slot's
 * generation if it needs to know that one owner wrote everything read.
 */
void defs_load(const struct shmet__seg *s, uint32_t idx, struct defs *d)
{
    struct shmet__def_view v = {0};
    uint8_t *buf = xmalloc(SHMET_DEF_MAX); /* malloc alignment suits the f64 bounds */
    uint64_t off = 0, at;
    int rc;

    memset(d, 0, sizeof(*d));
    /* ACQUIRE: pairs with the RELEASE store of arena_used in arena_put()
     * (libshm/arena.c): every entry below it is completely written. */
    d->used = atomic_load_explicit(&shmet__slot(s, idx)->arena_used, memory_order_acquire);
    for (;;) {
        at = off;
        rc = shmet__arena_next(s, idx, d->used, &off, buf, SHMET_DEF_MAX, &v);
        if (rc == 0)
            break;
        if (rc > 0 && v.kind == SHMET_DEF_FAMILY)
            add_family(d, at, &v);
        else if (rc > 0)
            add_series(d, at, &v);
        else
            add_bad(d, at, rc, &v);
        if (rc < 0 && off == at) {
            d->stopped = true;
            d->stop_off = at;
            break;
        }
    }
    free(buf);
    make_index(d);
}

void defs_free(struct defs *d)
{
    for (size_t i = 0; i < d->nfam; i++) {
        for (uint16_t k = 0; k < d->fam[i].nlabels; k++)
            free(d->fam[i].labels[k]);
        free(d->fam[i].labels);
        free(d->fam[i].name);
        free(d->fam[i].help);
        free(d->fam[i].bounds);
    }
    for (size_t i = 0; i < d->nser; i++) {
        for (uint16_t k = 0; k < d->ser[i].nvalues; k++)
            free(d->ser[i].values[k]);
        free(d->ser[i].values);
    }
    free(d->fam);
    free(d->ser);
    free(d->bad);
    free(d->fam_by_id);
    free(d->ser_by_id);
    memset(d, 0, sizeof(*d));
}

/*
 * defs_load_slot - a snapshot of slot idx and its arena, by one owner:
 * loaded again (a few times) if a new claim changed the generation while
 * the arena was walked. Returns true when snapshot and arena agree.
 */
bool defs_load_slot(const struct shmet__seg *s, uint32_t idx, struct shmet__slot_snap *sn, struct defs *d)
{
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            defs_free(d);
        shmet__slot_snapshot(s, idx, true, sn);
        defs_load(s, idx, d);
        if (shmet__slot_generation(s, idx) == sn->generation)
            return true;
    }
    return false;
}
