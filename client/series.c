/* SPDX-License-Identifier: MIT */
/*
 * client/series.c - series interning: (family, label values) -> a dense
 * client-local series id, through an open-addressing table keyed with
 * SipHash so label values taken from requests cannot flood it. Ids never
 * change or go away while the client is open, so handles stay valid in
 * every thread and in forked children. Refused values say why through
 * shmet_last_error().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

const char *shmet__series_value(const struct series_rec *r, uint16_t i)
{
    const char *p = r->values;

    while (i-- > 0)
        p += strlen(p) + 1;
    return p;
}

static uint64_t series_hash(const struct shmet_client *c, uint32_t family, const char *const *v,
                            uint16_t n, uint32_t *vlen)
{
    uint64_t h = c->key[0] ^ ((uint64_t)family * 0x9e3779b97f4a7c15ULL);

    *vlen = 0;
    for (uint16_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        h = (h ^ shmet__siphash(c->key, v[i], len)) * 0xff51afd7ed558ccdULL;
        *vlen += (uint32_t)len + 1;
    }
    return h ^ (h >> 29);
}

static bool series_equal(const struct series_rec *r, uint32_t family, const char *const *v,
                         uint16_t n, uint32_t vlen)
{
    const char *p = r->values;

    if (r->family != family || r->vlen != vlen)
        return false;
    for (uint16_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        if (memcmp(p, v[i], len + 1) != 0)
            return false;
        p += len + 1;
    }
    return true;
}

static int table_grow(struct shmet_client *c)
{
    uint32_t cap = c->table_cap ? c->table_cap * 2 : 1024;
    uint32_t *t = calloc(cap, sizeof(*t));

    if (t == NULL)
        return -ENOMEM;
    for (uint32_t id = 0; id < c->nseries; id++) {
        uint32_t i = (uint32_t)c->series[id].hash & (cap - 1);
        while (t[i] != 0)
            i = (i + 1) & (cap - 1);
        t[i] = id + 1;
    }
    free(c->table);
    c->table = t;
    c->table_cap = cap;
    return 0;
}

static int series_append(struct shmet_client *c, uint32_t family, const char *const *v,
                         uint16_t n, uint32_t vlen, uint64_t hash)
{
    struct series_rec *r;
    char *p;

    if (c->nseries == c->series_cap) {
        uint32_t cap = c->series_cap ? c->series_cap * 2 : 256;
        void *np = realloc(c->series, cap * sizeof(*c->series));
        if (np == NULL)
            return -ENOMEM;
        c->series = np;
        c->series_cap = cap;
    }
    r = &c->series[c->nseries];
    r->values = malloc(vlen ? vlen : 1);
    if (r->values == NULL)
        return -ENOMEM;
    r->family = family;
    r->vlen = vlen;
    r->hash = hash;
    p = r->values;
    for (uint16_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        memcpy(p, v[i], len);
        p += len;
    }
    c->nseries++;
    return 0;
}

/* Caller holds c->lock; values already validated. */
int shmet__series_intern(struct shmet_client *c, struct shmet_family *f,
                         const char *const *values, uint32_t *id)
{
    uint32_t vlen, i;
    uint64_t h = series_hash(c, f->id, values, f->nlabels, &vlen);
    int rc;

    if ((uint64_t)(c->nseries + 1) * 2 > c->table_cap && (rc = table_grow(c)) < 0)
        return rc;
    for (i = (uint32_t)h & (c->table_cap - 1); c->table[i] != 0; i = (i + 1) & (c->table_cap - 1)) {
        const struct series_rec *r = &c->series[c->table[i] - 1];
        if (r->hash == h && series_equal(r, f->id, values, f->nlabels, vlen)) {
            *id = c->table[i] - 1;
            return 0;
        }
    }
    if (c->nseries >= SERIES_MAX)
        return shmet__fail(-ENOSPC, "at most %u series per client", SERIES_MAX);
    rc = series_append(c, f->id, values, f->nlabels, vlen, h);
    if (rc < 0)
        return rc;
    c->table[i] = c->nseries;
    *id = c->nseries - 1;
    return 0;
}

void shmet__series_free_all(struct shmet_client *c)
{
    for (uint32_t i = 0; i < c->nseries; i++)
        free(c->series[i].values);
    free(c->series);
    free(c->table);
}

static int values_check(const struct shmet_family *f, const char *const *values)
{
    char q[SHMET__QUOTE_BUF];

    if (f->nlabels > 0 && values == NULL)
        return shmet__fail(-EINVAL, "expected %u label values, got none (values is NULL)",
                           (unsigned)f->nlabels);
    for (uint16_t i = 0; i < f->nlabels; i++) {
        size_t len;
        if (values[i] == NULL)
            return shmet__fail(-EINVAL, "expected %u label values, got %u",
                               (unsigned)f->nlabels, (unsigned)i);
        len = strlen(values[i]);
        shmet__quote(f->labels[i], q);
        if (len > SHMET_LABEL_VALUE_MAX)
            return shmet__fail(-EINVAL, "label value is %zu bytes, at most %u (label '%s')", len,
                               SHMET_LABEL_VALUE_MAX, q);
        if (!shmet__utf8_ok(values[i], len))
            return shmet__fail(-EINVAL, "label value is not valid UTF-8 (label '%s')", q);
        /* The aggregator folds the label sets beyond its cap into this
         * value; a real series of that name would merge with them. */
        if (strcmp(values[i], SHMET_OVERFLOW_VALUE) == 0)
            return shmet__fail(-EINVAL, "label value '" SHMET_OVERFLOW_VALUE
                                        "' is reserved (label '%s')", q);
    }
    return 0;
}

SHMET_EXTERN int shmet_series_get(struct shmet_family *f, const char *const *values,
                                  struct shmet_series *out)
{
    struct shmet_client *c;
    uint32_t id;
    int rc;

    if (f == NULL)
        return shmet__fail(-EINVAL, "family is NULL");
    if (out == NULL)
        return shmet__fail(-EINVAL, "out is NULL");
    rc = values_check(f, values);
    if (rc < 0)
        return rc;
    c = f->c;
    pthread_mutex_lock(&c->lock);
    rc = shmet__series_intern(c, f, values, &id);
    pthread_mutex_unlock(&c->lock);
    if (rc == -ENOMEM)
        return shmet__fail(rc, "out of memory");
    if (rc < 0)
        return rc;
    out->id = id;
    out->client = c->idx;
    out->type = f->type;
    out->gen = c->gen;
    return 0;
}
