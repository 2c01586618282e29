/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/expo.c - see expo.h. Escaping differs between the formats:
 * 0.0.4 HELP escapes only backslash and newline; OpenMetrics HELP also
 * escapes the double quote; label values escape all three in both.
 * OpenMetrics names a counter family without its _total suffix and ends
 * with "# EOF".
 *
 * A family with several definitions (tag-family-defs in store.h) is one
 * block: one HELP (the newest definition's) and TYPE, then every series
 * with its own labels, and for histograms its own buckets. Both formats
 * allow the series of a family to differ in label names; a series' lines
 * (buckets, _sum, _count) stay together.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

#include "render/expo.h"
#include "render/number.h"

const char *expo_content_type(enum expo_format fmt)
{
    return fmt == EXPO_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                   : "text/plain; version=0.0.4; charset=utf-8";
}

static void put_escaped(struct buf *b, const char *s, size_t n, bool quote)
{
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n"
                          : (quote && s[i] == '"') ? "\\\"" : NULL;
        if (rep == NULL)
            continue;
        buf_put(b, s + run, i - run);
        buf_put(b, rep, 2);
        run = i + 1;
    }
    buf_put(b, s + run, n - run);
}

static const char *type_name(uint8_t type)
{
    return type == SHMET_TYPE_COUNTER ? "counter" : type == SHMET_TYPE_GAUGE ? "gauge" : "histogram";
}

/* Family name as it appears in HELP/TYPE lines. */
static size_t family_name_len(const struct store_family *f, enum expo_format fmt)
{
    size_t n = strlen(f->name);

    if (fmt == EXPO_OPENMETRICS && f->type == SHMET_TYPE_COUNTER && n > 6 &&
        memcmp(f->name + n - 6, "_total", 6) == 0)
        return n - 6;
    return n;
}

static void family_header(struct buf *b, const struct store_family *f, enum expo_format fmt)
{
    size_t n = family_name_len(f, fmt);

    const char *help = f->cur->help;

    if (help[0] != '\0') { /* no HELP line rather than an empty one */
        buf_str(b, "# HELP ");
        buf_put(b, f->name, n);
        buf_char(b, ' ');
        put_escaped(b, help, strlen(help), fmt == EXPO_OPENMETRICS);
        buf_char(b, '\n');
    }
    buf_str(b, "# TYPE ");
    buf_put(b, f->name, n);
    buf_char(b, ' ');
    buf_str(b, type_name(f->type));
    buf_char(b, '\n');
}

static bool clashes(const struct store_def *d, const char *name)
{
    for (uint16_t i = 0; i < d->nlabels; i++)
        if (strcmp(d->labels[i], name) == 0)
            return true;
    return false;
}

static void put_pair(struct buf *b, bool *first, const char *name, const char *v, size_t n)
{
    if (!*first)
        buf_char(b, ',');
    *first = false;
    buf_str(b, name);
    buf_str(b, "=\"");
    put_escaped(b, v, n, true);
    buf_char(b, '"');
}

/* The series' own labels, escaped (a="x",b="y"): made once, kept in the
 * series, since label values never change. NULL when out of memory. */
static const char *own_labels(struct store_series *s, size_t *len)
{
    struct buf t;
    bool first = true;

    if (s->label_text == NULL && s->def->nlabels > 0) {
        buf_init(&t);
        for (uint16_t i = 0; i < s->def->nlabels; i++)
            put_pair(&t, &first, s->def->labels[i], s->values[i], s->lens[i]);
        if (buf_failed(&t) || t.len > UINT32_MAX) {
            buf_free(&t);
            return NULL;
        }
        s->label_text = t.data;
        s->label_text_len = (uint32_t)t.len;
    }
    *len = s->label_text_len;
    return s->def->nlabels > 0 ? s->label_text : "";
}

/* The series' labels without the closing brace ("{a=\"x\",b=\"y\""), or
 * an empty string when it has none; *any says whether any were written.
 * consts holds the constant labels that apply to the family, escaped. */
static void label_prefix(struct buf *lb, struct store_series *s, const struct buf *consts,
                         bool *any)
{
    size_t n;
    const char *own = own_labels(s, &n);

    *any = false;
    lb->len = 0;
    buf_char(lb, '{');
    buf_put(lb, consts->data, consts->len);
    if (own == NULL) {
        lb->failed = true;
        return;
    }
    if (consts->len > 0 && n > 0)
        buf_char(lb, ',');
    buf_put(lb, own, n);
    *any = consts->len > 0 || n > 0;
}

/* The constant labels that a definition does not override, escaped. */
static void def_consts(struct buf *cb, const struct store_def *d, const struct expo_opts *o)
{
    bool first = true;

    cb->len = 0;
    for (size_t i = 0; i < o->nconsts; i++)
        if (!clashes(d, o->consts[i].name))
            put_pair(cb, &first, o->consts[i].name, o->consts[i].value,
                     strlen(o->consts[i].value));
}

/* name+suffix{labels[,le="x"]} value\n, in room reserved once. */
static void sample(struct buf *b, const char *name, size_t nlen, const char *suffix,
                   const struct buf *lb, bool any, const char *le, size_t lelen, const char *val,
                   size_t vlen)
{
    size_t slen = strlen(suffix);

    if (!buf_reserve(b, nlen + slen + lb->len + lelen + vlen + 12))
        return;
    char *w = b->data + b->len;
    memcpy(w, name, nlen);
    w += nlen;
    memcpy(w, suffix, slen);
    w += slen;
    if (any || le != NULL) {
        memcpy(w, lb->data, lb->len);
        w += lb->len;
        if (le != NULL) {
            if (any)
                *w++ = ',';
            memcpy(w, "le=\"", 4);
            memcpy(w + 4, le, lelen);
            w += 4 + lelen;
            *w++ = '"';
        }
        *w++ = '}';
    }
    *w++ = ' ';
    memcpy(w, val, vlen);
    w += vlen;
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

/* OpenMetrics treats _sum as counter-like: it may not be negative, and a
 * histogram with negative buckets has no _sum. Such series are written
 * with their buckets only, since _count may not appear without _sum. */
static bool om_sum_allowed(const struct store_series *s)
{
    const struct store_def *d = s->def;

    return !(d->nbounds > 0 && d->bounds[0] < 0) && !(s->v.h.sum < 0);
}

/* The bucket lines of one histogram family differ only in the series'
 * labels, the le value and the count: each is written as three copies,
 * "name_bucket{labels" (once per series), ",le=\"0.5\"} " (once per
 * definition) and the count, into room reserved once per series. */
struct le_tails {
    char text[SHMET_BOUNDS_MAX + 1][48]; /* ,le="X"}<space> */
    uint8_t len[SHMET_BOUNDS_MAX + 1];
    size_t max;
};

static void le_tails_make(struct le_tails *t, const struct store_def *d, bool any)
{
    char v[32];

    t->max = 0;
    for (uint32_t i = 0; i <= d->nbounds; i++) {
        size_t n = i < d->nbounds ? fmt_double(v, d->bounds[i]) : 4;
        if (i == d->nbounds)
            memcpy(v, "+Inf", 5);
        t->len[i] = (uint8_t)snprintf(t->text[i], sizeof(t->text[i]), "%sle=\"%.*s\"} ",
                                      any ? "," : "", (int)n, v);
        t->max = t->len[i] > t->max ? t->len[i] : t->max;
    }
}

static void render_histogram(struct buf *b, const struct store_series *s, const struct buf *lb,
                             bool any, const struct le_tails *t, bool om)
{
    const struct store_family *f = s->fam;
    uint32_t nbounds = s->def->nbounds;
    size_t nlen = strlen(f->name), head = nlen + 7 + lb->len;
    uint64_t acc = 0;
    char v[32];
    size_t vlen;

    if (!buf_reserve(b, (nbounds + 1) * (head + t->max + 21)))
        return;
    char *w = b->data + b->len;
    for (uint32_t i = 0; i <= nbounds; i++) {
        acc += s->v.h.buckets[i];
        memcpy(w, f->name, nlen);
        memcpy(w + nlen, "_bucket", 7);
        memcpy(w + nlen + 7, lb->data, lb->len);
        w += head;
        memcpy(w, t->text[i], t->len[i]);
        w += t->len[i];
        w += fmt_u64(w, acc);
        *w++ = '\n';
    }
    b->len = (size_t)(w - b->data);
    if (om && !om_sum_allowed(s))
        return; /* _count needs _sum beside it; the +Inf bucket has the count */
    vlen = fmt_double(v, s->v.h.sum);
    sample(b, f->name, nlen, "_sum", lb, any, NULL, 0, v, vlen);
    vlen = fmt_u64(v, acc);
    sample(b, f->name, nlen, "_count", lb, any, NULL, 0, v, vlen);
}

/* The le tails of s's definition for the labels written (any), made
 * again only when either changed since the series before. */
struct tails_cache {
    struct le_tails t;
    const struct store_def *def;
    bool any;
};

static int render_family(struct buf *b, struct store_family *f, enum expo_format fmt,
                         const struct expo_opts *o, struct buf *lb, struct buf *cb)
{
    static struct tails_cache tc;
    const struct store_def *consts_of = NULL;
    struct store_series *const *ss = store_series_sorted(f);
    size_t nlen = family_name_len(f, fmt);
    const char *suffix = (fmt == EXPO_OPENMETRICS && f->type == SHMET_TYPE_COUNTER) ? "_total" : "";
    char v[32];
    bool any;

    if (ss == NULL)
        return -ENOMEM;
    family_header(b, f, fmt);
    tc.def = NULL;
    for (uint32_t i = 0; i < f->nseries; i++) {
        struct store_series *s = ss[i];
        if (!store_series_visible(s))
            continue;
        if (s->def != consts_of) { /* sorted by definition: rarely */
            def_consts(cb, s->def, o);
            consts_of = s->def;
        }
        label_prefix(lb, s, cb, &any);
        if (f->type == SHMET_TYPE_HISTOGRAM) {
            if (tc.def != s->def || tc.any != any)
                le_tails_make(&tc.t, s->def, any);
            tc.def = s->def;
            tc.any = any;
            render_histogram(b, s, lb, any, &tc.t, fmt == EXPO_OPENMETRICS);
            continue;
        }
        double val = f->type == SHMET_TYPE_COUNTER ? s->v.counter : store_gauge_value(s);
        if (f->type == SHMET_TYPE_GAUGE && isnan(val) && s->def->gauge_mode != SHMET_GAUGE_LAST &&
            s->def->gauge_mode != SHMET_GAUGE_SUM)
            continue; /* MAX/MIN without a live producer: absent */
        sample(b, f->name, nlen, suffix, lb, any, NULL, 0, v, fmt_double(v, val));
    }
    return 0;
}

int expo_render(struct store *st, enum expo_format fmt, const struct expo_opts *o,
                struct buf *out)
{
    static const struct expo_opts none;
    struct store_family *const *fams = store_families_sorted(st);
    struct buf lb, cb;
    int rc = 0;

    if (fams == NULL)
        return -ENOMEM;
    if (o == NULL)
        o = &none;
    buf_init(&lb);
    buf_init(&cb);
    for (uint32_t i = 0; i < st->nfamilies && rc == 0; i++)
        rc = render_family(out, fams[i], fmt, o, &lb, &cb);
    if (fmt == EXPO_OPENMETRICS)
        buf_str(out, "# EOF\n");
    rc = (rc < 0 || buf_failed(out) || buf_failed(&lb) || buf_failed(&cb)) ? -ENOMEM : 0;
    buf_free(&lb);
    buf_free(&cb);
    return rc;
}
