/* SPDX-License-Identifier: MIT */
/*
 * aggregator/checkpoint.c - see checkpoint.h. Format (JSON, jansson):
 *   {"format": "shmetrics-checkpoint", "version": 1, "families": [
 *     {"name", "help", "type": "counter"|"gauge"|"histogram", "mode",
 *      "labels": [...], "bounds": [...],
 *      "series": [{"values": [...], "value": x} |
 *                 {"values": [...], "buckets": [n...], "sum": x}]}],
 *    "producers": [{"slot", "generation", "pid", "start_time",
 *                   "gauges": [[series id, value]...]}]}
 * Non-finite floats are written as the strings "NaN", "+Inf", "-Inf".
 * Histogram sketches are not kept: quantiles restart from new samples.
 * "producers" (optional) holds the SUM/MAX/MIN gauge contributions of the
 * producers alive at the stop (drain.h explains why and how they return).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shmetrics.h>

#include "checkpoint.h"
#include "shm.h"

#define FORMAT "shmetrics-checkpoint"
#define VERSION 1

static const char *const type_names[] = {NULL, "counter", "gauge", "histogram"};

int checkpoint_path(const char *ns, char *buf, size_t len)
{
    return shmet__state_path(ns, buf, len);
}

/* ---- save ------------------------------------------------------------- */

static json_t *jnum(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "+Inf" : "-Inf");
    return json_real(v);
}

static json_t *series_json(const struct store_series *s)
{
    const struct store_family *f = s->fam;
    json_t *values = json_array(), *o = json_object();

    for (uint16_t i = 0; i < f->nlabels; i++)
        json_array_append_new(values, json_stringn(s->values[i], s->lens[i]));
    json_object_set_new(o, "values", values);
    if (f->type == SHMET_TYPE_COUNTER) {
        json_object_set_new(o, "value", jnum(s->v.counter));
    } else if (f->type == SHMET_TYPE_GAUGE) {
        json_object_set_new(o, "value", jnum(s->v.g.last));
    } else {
        json_t *b = json_array();
        for (uint32_t i = 0; i <= f->nbounds; i++)
            json_array_append_new(b, json_integer((json_int_t)s->v.h.buckets[i]));
        json_object_set_new(o, "buckets", b);
        json_object_set_new(o, "sum", jnum(s->v.h.sum));
    }
    return o;
}

/* Gauges combined over live producers are not carried over. */
static bool kept(const struct store_family *f)
{
    return !f->internal && (f->type != SHMET_TYPE_GAUGE || f->gauge_mode == SHMET_GAUGE_LAST);
}

static json_t *family_json(const struct store_family *f)
{
    json_t *labels = json_array(), *bounds = json_array(), *series = json_array();

    for (uint16_t i = 0; i < f->nlabels; i++)
        json_array_append_new(labels, json_string(f->labels[i]));
    for (uint32_t i = 0; i < f->nbounds; i++)
        json_array_append_new(bounds, json_real(f->bounds[i]));
    for (uint32_t i = 0; i < f->nseries; i++)
        if (store_series_visible(f->series[i]))
            json_array_append_new(series, series_json(f->series[i]));
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "name", f->name, "help", f->help,
                     "type", type_names[f->type], "mode", (int)f->gauge_mode, "labels", labels,
                     "bounds", bounds, "series", series);
}

/* Contributions arrive slot by slot: one "producers" entry per owner. */
struct owners {
    json_t *arr, *gauges;
    uint32_t idx;
};

static void owner_gauge(void *ctx, const struct drain_owner *o, uint32_t id, double value)
{
    struct owners *w = ctx;

    if (w->gauges == NULL || w->idx != o->idx) {
        w->gauges = json_array();
        w->idx = o->idx;
        json_array_append_new(
            w->arr, json_pack("{s:I, s:I, s:I, s:I, s:o}", "slot", (json_int_t)o->idx, "generation",
                              (json_int_t)o->gen, "pid", (json_int_t)o->pid, "start_time",
                              (json_int_t)o->start_time, "gauges", w->gauges));
    }
    json_array_append_new(w->gauges, json_pack("[I, o]", (json_int_t)id, jnum(value)));
}

int checkpoint_save(struct store *st, const struct drain *d, const char *path)
{
    json_t *fams = json_array(), *doc;
    struct owners w = {json_array(), NULL, 0};
    char tmp[512];
    int rc;

    for (uint32_t i = 0; i < st->nfamilies; i++)
        if (kept(st->families[i]))
            json_array_append_new(fams, family_json(st->families[i]));
    if (d != NULL)
        drain_each_gauge(d, owner_gauge, &w);
    doc = json_pack("{s:s, s:i, s:o, s:o}", "format", FORMAT, "version", VERSION, "families", fams,
                    "producers", w.arr);
    if (doc == NULL)
        return -ENOMEM;
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    rc = json_dump_file(doc, tmp, JSON_COMPACT | JSON_REAL_PRECISION(17)) < 0 ? -EIO : 0;
    json_decref(doc);
    if (rc == 0 && chmod(tmp, SHMET_MODE_DEFAULT) < 0) /* as private as the segment */
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ---- load (untrusted) ------------------------------------------------- */

struct load_ctx {
    struct store *st;
    struct drain *d; /* NULL: check the producers only */
    char *err;
    size_t errlen;
    int restored;
};

static int fail(struct load_ctx *c, const char *what, const char *name)
{
    snprintf(c->err, c->errlen, "%s%s%s", what, name ? ": " : "", name ? name : "");
    return -EINVAL;
}

static bool get_num(json_t *j, double *out)
{
    const char *s = json_string_value(j);

    if (json_is_number(j)) {
        *out = json_number_value(j);
        return true;
    }
    if (s == NULL)
        return false;
    *out = strcmp(s, "NaN") == 0 ? NAN : strcmp(s, "+Inf") == 0 ? INFINITY
                                       : strcmp(s, "-Inf") == 0 ? -INFINITY : 0;
    return strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0;
}

/* Strings of arr, each checked by ok(); at most max of them. */
static int strings(json_t *arr, size_t max, bool (*ok)(const char *, size_t), const char **out,
                   uint32_t *lens, size_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > max)
        return -EINVAL;
    *n = json_array_size(arr);
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v))
            return -EINVAL;
        out[i] = json_string_value(v);
        lens[i] = (uint32_t)json_string_length(v);
        if (strlen(out[i]) != lens[i] || !ok(out[i], lens[i]))
            return -EINVAL;
    }
    return 0;
}

static bool value_ok(const char *s, size_t n)
{
    return n <= SHMET_LABEL_VALUE_MAX && shmet__utf8_ok(s, n);
}

static int load_histogram(struct store_series *s, json_t *js)
{
    json_t *b = json_object_get(js, "buckets");
    uint32_t nb = s->fam->nbounds + 1;
    uint64_t total = 0;
    double sum;

    if (!json_is_array(b) || json_array_size(b) != nb || !get_num(json_object_get(js, "sum"), &sum))
        return -EINVAL;
    for (uint32_t i = 0; i < nb; i++) {
        json_t *v = json_array_get(b, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -EINVAL;
        s->v.h.buckets[i] = (uint64_t)json_integer_value(v);
        total += s->v.h.buckets[i];
    }
    s->v.h.count = total;
    s->v.h.sum = sum;
    return 0;
}

static int load_series(struct load_ctx *c, struct store_family *f, json_t *js)
{
    const char *values[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    struct store_series *s;
    size_t n;
    double v;

    if (strings(json_object_get(js, "values"), SHMET_LABELS_MAX, value_ok, values, lens, &n) < 0 ||
        n != f->nlabels)
        return fail(c, "bad label values in family", f->name);
    if (store_series(c->st, f, values, lens, &s) < 0)
        return fail(c, "out of memory", NULL);
    s->touched = true;
    c->restored++;
    if (f->type == SHMET_TYPE_HISTOGRAM)
        return load_histogram(s, js) < 0 ? fail(c, "bad histogram in family", f->name) : 0;
    if (!get_num(json_object_get(js, "value"), &v) ||
        (f->type == SHMET_TYPE_COUNTER && !(v >= 0)))
        return fail(c, "bad value in family", f->name);
    if (f->type == SHMET_TYPE_COUNTER)
        s->v.counter = v;
    else
        store_gauge_set_last(c->st, s, v);
    return 0;
}

static int family_spec_of(json_t *jf, struct family_spec *sp, const char **labels,
                          uint32_t *lens, double *bounds)
{
    const char *type = json_string_value(json_object_get(jf, "type"));
    json_t *name = json_object_get(jf, "name"), *help = json_object_get(jf, "help");
    json_t *jb = json_object_get(jf, "bounds"), *mode = json_object_get(jf, "mode");
    size_t n;

    if (!json_is_string(name) || !json_is_string(help) || type == NULL || !json_is_array(jb) ||
        !json_is_integer(mode) || json_integer_value(mode) < 0 ||
        json_integer_value(mode) > SHMET_GAUGE_LAST || json_array_size(jb) > SHMET_BOUNDS_MAX)
        return -EINVAL;
    memset(sp, 0, sizeof(*sp));
    for (uint8_t t = SHMET_TYPE_COUNTER; t <= SHMET_TYPE_HISTOGRAM; t++)
        if (strcmp(type, type_names[t]) == 0)
            sp->type = t;
    sp->name = json_string_value(name);
    sp->name_len = json_string_length(name);
    sp->help = json_string_value(help);
    sp->help_len = json_string_length(help);
    sp->gauge_mode = (uint8_t)json_integer_value(mode);
    if (sp->type == 0 || !shmet__metric_name_ok(sp->name, sp->name_len) ||
        strlen(sp->name) != sp->name_len || !shmet__help_ok(sp->help, sp->help_len) ||
        strlen(sp->help) != sp->help_len)
        return -EINVAL;
    if (strings(json_object_get(jf, "labels"), SHMET_LABELS_MAX, shmet__label_name_ok, labels,
                lens, &n) < 0)
        return -EINVAL;
    sp->nlabels = (uint16_t)n;
    sp->labels = labels;
    sp->label_lens = lens;
    sp->nbounds = (uint32_t)json_array_size(jb);
    for (uint32_t i = 0; i < sp->nbounds; i++)
        if (!json_is_number(json_array_get(jb, i)))
            return -EINVAL;
        else
            bounds[i] = json_number_value(json_array_get(jb, i));
    sp->bounds = bounds;
    if (sp->type != SHMET_TYPE_HISTOGRAM && sp->nbounds != 0)
        return -EINVAL;
    return shmet__bounds_check(bounds, sp->nbounds);
}

static int load_family(struct load_ctx *c, json_t *jf)
{
    const char *labels[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    double bounds[SHMET_BOUNDS_MAX];
    struct family_spec sp;
    struct store_family *f;
    json_t *series = json_object_get(jf, "series"), *js;
    size_t i;
    int rc;

    if (family_spec_of(jf, &sp, labels, lens, bounds) < 0 || !json_is_array(series))
        return fail(c, "bad family", json_string_value(json_object_get(jf, "name")));
    f = store_family_find(c->st, sp.name, sp.name_len);
    if (f != NULL && f->internal)
        return 0; /* the aggregator's own: never restored */
    rc = store_family(c->st, &sp, &f);
    if (rc < 0)
        return fail(c, rc == -EEXIST ? "family defined twice" : "out of memory", sp.name);
    json_array_foreach(series, i, js)
        if ((rc = load_series(c, f, js)) < 0)
            return rc;
    return 0;
}

/* An integer field of o in [0, max]. */
static bool get_uint(json_t *o, const char *field, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, field);

    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* One producer's gauges: checked always, rejoined when c->d is given and
 * the producer still owns its slot (else silently dropped: it is gone). */
static int load_producer(struct load_ctx *c, json_t *jp)
{
    json_t *gauges = json_object_get(jp, "gauges"), *g;
    uint64_t idx, gen, pid, start;
    struct drain_owner o;
    bool adopted;
    size_t i;
    double v;

    if (!get_uint(jp, "slot", UINT32_MAX, &idx) || !get_uint(jp, "generation", UINT32_MAX, &gen) ||
        !get_uint(jp, "pid", INT32_MAX, &pid) || !get_uint(jp, "start_time", INT64_MAX, &start) ||
        !json_is_array(gauges))
        return fail(c, "bad producer entry", NULL);
    o = (struct drain_owner){(uint32_t)idx, (uint32_t)gen, (int32_t)pid, start};
    adopted = c->d != NULL && drain_adopt(c->d, &o) == 0;
    json_array_foreach(gauges, i, g)
    {
        json_t *id = json_array_get(g, 0);
        if (!json_is_array(g) || json_array_size(g) != 2 || !json_is_integer(id) ||
            json_integer_value(id) < 0 || json_integer_value(id) > UINT32_MAX ||
            !get_num(json_array_get(g, 1), &v))
            return fail(c, "bad gauge of producer entry", NULL);
        if (adopted && drain_restore_gauge(c->d, o.idx, (uint32_t)json_integer_value(id), v) == 0)
            c->restored++;
    }
    return 0;
}

static int load_into(struct store *st, struct drain *d, json_t *doc, char *err, size_t errlen)
{
    struct load_ctx c = {st, d, err, errlen, 0};
    json_t *fams = json_object_get(doc, "families"), *prods = json_object_get(doc, "producers");
    const char *format = json_string_value(json_object_get(doc, "format"));
    json_t *j;
    size_t i;
    int rc = 0;

    if (format == NULL || strcmp(format, FORMAT) != 0 ||
        json_integer_value(json_object_get(doc, "version")) != VERSION || !json_is_array(fams) ||
        (prods != NULL && !json_is_array(prods)))
        return fail(&c, "not a version 1 checkpoint", NULL);
    json_array_foreach(fams, i, j)
        if (rc == 0)
            rc = load_family(&c, j);
    json_array_foreach(prods, i, j)
        if (rc == 0)
            rc = load_producer(&c, j);
    return rc < 0 ? rc : c.restored;
}

/* Parse path and check all of it against a scratch store. */
static int load_checked(const char *path, uint32_t max_series, json_t **doc, char *err,
                        size_t errlen)
{
    struct store trial;
    json_error_t jerr;
    int rc;

    *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (*doc == NULL) {
        snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
        return -EINVAL;
    }
    rc = store_init(&trial, max_series);
    if (rc == 0) {
        rc = load_into(&trial, NULL, *doc, err, errlen);
        store_fini(&trial);
    }
    return rc;
}

int checkpoint_take(struct store *st, struct drain *d, const char *path, char *err, size_t errlen)
{
    json_t *doc = NULL;
    int rc;

    if (access(path, F_OK) < 0)
        return errno == ENOENT ? 0 : -errno;
    /* All or nothing: check everything first, so a bad entry half-way
     * through leaves the real store untouched. */
    rc = load_checked(path, st->max_series, &doc, err, errlen);
    /* Valid or not, the file describes tails we are about to move past:
     * it must not outlive this process (see checkpoint.h). */
    if (unlink(path) < 0 && errno != ENOENT && rc >= 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot remove it: %s", strerror(-rc));
    }
    if (rc >= 0)
        rc = load_into(st, d, doc, err, errlen);
    json_decref(doc);
    return rc;
}
