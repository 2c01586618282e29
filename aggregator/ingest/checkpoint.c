/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/checkpoint.c - see checkpoint.h. Format (JSON, jansson):
 *   {"format": "shmetrics-checkpoint", "version": 2, "families": [
 *     {"name", "type": "counter"|"gauge"|"histogram",
 *      "definitions": [{"help", "mode", "labels": [...], "bounds": [...]}...],
 *      "series": [{"definition": k, "values": [...], "value": x} |
 *                 {"definition": k, "values": [...], "buckets": [n...], "sum": x} |
 *                 {"definition": k, "values": [...], "live": true}
 *                 (and "overflow": true for the family's placeholder)]}],
 *    "producers": [{"slot", "generation", "pid", "start_time",
 *                   "gauges": [[series id, value]...]}]}
 * Every definition a kept series was made by is written (tag-family-defs
 * in store.h), in order of appearance, and the newest one, whose help the
 * family shows; a series names its definition by position in that list,
 * and the placeholder is marked as such (tag-overflow-identity), never
 * told by its values. A SUM/MAX/MIN gauge series has no value to keep
 * (its live producers' contributions are in "producers"), but in a family
 * with several definitions it is written "live", without a value, so that
 * it comes back made by the same definition, with the same mode, whichever
 * producer the next aggregator reads first. Version 1, written before families had several
 * definitions, still loads: one definition at the family level ("help",
 * "mode", "labels", "bounds"), series without "definition", and the
 * placeholder known by its values, all "__overflow__".
 * Non-finite floats are written as the strings "NaN", "+Inf", "-Inf".
 * Histogram sketches are not kept: quantiles restart from new samples.
 * "producers" (optional) holds the SUM/MAX/MIN gauge contributions of the
 * producers alive at the stop (drain.h explains why and how they return).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shmetrics.h>

#include "ingest/checkpoint.h"
#include "shm.h"

#define FORMAT "shmetrics-checkpoint"
#define VERSION 2
#define VERSION_ONE_DEF 1 /* still read */
/* The checkpoint's mode, whatever the umask: its user writes it, its
 * group may read it (tag-checkpoint-file). */
#define CHECKPOINT_MODE 0640

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

/* A gauge combined over live producers (SUM/MAX/MIN): it has no value
 * of its own to keep, the producers set it again. */
static bool live_gauge(const struct store_series *s)
{
    return s->fam->type == SHMET_TYPE_GAUGE && s->def->gauge_mode != SHMET_GAUGE_LAST;
}

/* Counters, histograms and LAST gauges; live gauges of families with
 * several definitions, without a value, for the definition they were
 * made by. */
static bool series_kept(const struct store_series *s)
{
    return store_series_visible(s) && (!live_gauge(s) || s->fam->ndefs > 1);
}

static json_t *series_json(const struct store_series *s, uint32_t def_pos)
{
    const struct store_family *f = s->fam;
    json_t *values = json_array(), *o = json_object();

    for (uint16_t i = 0; i < s->def->nlabels; i++)
        json_array_append_new(values, json_stringn(s->values[i], s->lens[i]));
    json_object_set_new(o, "definition", json_integer(def_pos));
    json_object_set_new(o, "values", values);
    if (s->overflow)
        json_object_set_new(o, "overflow", json_true());
    if (f->type == SHMET_TYPE_COUNTER) {
        json_object_set_new(o, "value", jnum(s->v.counter));
    } else if (live_gauge(s)) {
        json_object_set_new(o, "live", json_true());
    } else if (f->type == SHMET_TYPE_GAUGE) {
        json_object_set_new(o, "value", jnum(s->v.g.last));
    } else {
        json_t *b = json_array();
        for (uint32_t i = 0; i <= s->def->nbounds; i++)
            json_array_append_new(b, json_integer((json_int_t)s->v.h.buckets[i]));
        json_object_set_new(o, "buckets", b);
        json_object_set_new(o, "sum", jnum(s->v.h.sum));
    }
    return o;
}

/* A family is kept unless it is the aggregator's own or a gauge with one
 * definition, not LAST. */
static bool kept(const struct store_family *f)
{
    if (f->internal)
        return false;
    if (f->ndefs > 1)
        return true;
    for (uint32_t i = 0; f->type == SHMET_TYPE_GAUGE && i < f->ndefs; i++)
        if (f->defs[i]->gauge_mode == SHMET_GAUGE_LAST)
            return true;
    return f->type != SHMET_TYPE_GAUGE;
}

static json_t *def_json(const struct store_def *d)
{
    json_t *labels = json_array(), *bounds = json_array();

    for (uint16_t i = 0; i < d->nlabels; i++)
        json_array_append_new(labels, json_string(d->labels[i]));
    for (uint32_t i = 0; i < d->nbounds; i++)
        json_array_append_new(bounds, json_real(d->bounds[i]));
    return json_pack("{s:s, s:i, s:o, s:o}", "help", d->help, "mode", (int)d->gauge_mode,
                     "labels", labels, "bounds", bounds);
}

static json_t *family_json(const struct store_family *f)
{
    json_t *defs = json_array(), *series = json_array();
    /* pos[k]: definition k's position in the file, 0 when not written */
    uint32_t pos[STORE_DEFS_MAX] = {0}, n = 0;

    for (uint32_t i = 0; i < f->nseries; i++)
        if (series_kept(f->series[i]))
            pos[f->series[i]->def->index] = 1;
    pos[f->cur->index] = 1;
    for (uint32_t k = 0; k < f->ndefs; k++) {
        if (pos[k] == 0)
            continue; /* made no series that is kept: forgotten */
        json_array_append_new(defs, def_json(f->defs[k]));
        pos[k] = ++n;
    }
    for (uint32_t i = 0; i < f->nseries; i++)
        if (series_kept(f->series[i]))
            json_array_append_new(series,
                                  series_json(f->series[i], pos[f->series[i]->def->index] - 1));
    return json_pack("{s:s, s:s, s:o, s:o}", "name", f->name, "type", type_names[f->type],
                     "definitions", defs, "series", series);
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

/*
 * tag-checkpoint-file. The checkpoint lives beside the segment, in a
 * directory others may write (/dev/shm: sticky, writable by everyone). So
 * the temporary file is created, never opened: O_CREAT | O_EXCL |
 * O_NOFOLLOW fails on anything planted at its name instead of following
 * it (a symlink to a file of ours would have us overwrite that file), and
 * one left by a predecessor of the same pid is unlinked first (unlink
 * removes a symlink, not what it points to). rename() replaces the name
 * itself, never a file a symlink there points to. A checkpoint is loaded
 * only from a regular file of our user (or root) that nobody else may
 * write (check_file()).
 */
static int write_doc(json_t *doc, const char *tmp)
{
    FILE *f;
    int fd, rc = 0;

    if (unlink(tmp) < 0 && errno != ENOENT)
        return -errno;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CHECKPOINT_MODE);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, CHECKPOINT_MODE) < 0 || (f = fdopen(fd, "w")) == NULL) {
        rc = -errno;
        close(fd);
        return rc;
    }
    errno = 0;
    if (json_dumpf(doc, f, JSON_COMPACT | JSON_REAL_PRECISION(17)) < 0)
        rc = errno != 0 ? -errno : -EIO; /* ENOSPC says so */
    if (fflush(f) != 0 && rc == 0)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
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
    rc = write_doc(doc, tmp);
    json_decref(doc);
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

/* Add the histogram of js, recorded with def's bounds, to s: each of its
 * buckets into the bucket of s that holds its upper bound (the same
 * bucket when s has def's bounds, as it has unless the label set was
 * folded into the placeholder or met twice); count and sum exact. */
static int load_histogram(struct store_series *s, const struct store_def *def, json_t *js)
{
    json_t *b = json_object_get(js, "buckets");
    uint32_t nb = def->nbounds + 1, at = 0;
    uint64_t total = 0;
    double sum;

    if (!json_is_array(b) || json_array_size(b) != nb || !get_num(json_object_get(js, "sum"), &sum))
        return -EINVAL;
    for (uint32_t i = 0; i < nb; i++) {
        json_t *v = json_array_get(b, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -EINVAL;
        double upper = i < def->nbounds ? def->bounds[i] : INFINITY;
        while (at < s->def->nbounds && s->def->bounds[at] < upper)
            at++;
        s->v.h.buckets[at] += (uint64_t)json_integer_value(v);
        total += (uint64_t)json_integer_value(v);
    }
    s->v.h.count += total;
    s->v.h.sum += sum;
    return 0;
}

/* Version 1 knew the placeholder only by its values. */
static bool all_overflow(const char *const *v, const uint32_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] != sizeof(SHMET_OVERFLOW_VALUE) - 1 ||
            memcmp(v[i], SHMET_OVERFLOW_VALUE, lens[i]) != 0)
            return false;
    return n > 0;
}

/* The series js names under def: the placeholder when marked (version 1:
 * when all its values are the placeholder's), else its label set's, which
 * the cap may fold into the placeholder (made then, or already: what the
 * file holds for it is added to what it has). */
static int series_of(struct load_ctx *c, struct store_def *def, json_t *js, int version,
                     struct store_series **out)
{
    const char *values[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    json_t *jo = json_object_get(js, "overflow");
    const char *name = def->fam->name;
    bool ovf;
    size_t n;

    if (strings(json_object_get(js, "values"), SHMET_LABELS_MAX, value_ok, values, lens, &n) < 0 ||
        n != def->nlabels)
        return fail(c, "bad label values in family", name);
    if (version == VERSION_ONE_DEF)
        ovf = all_overflow(values, lens, n);
    else if (jo != NULL && !json_is_boolean(jo))
        return fail(c, "bad overflow mark in family", name);
    else
        ovf = json_is_true(jo);
    if (ovf && def->nlabels == 0) /* a family without labels has no placeholder */
        return fail(c, "bad overflow series in family", name);
    if ((ovf ? store_overflow(c->st, def, out) : store_series_def(c->st, def, values, lens, out)) <
        0)
        return fail(c, "out of memory", NULL);
    return 0;
}

/* Restore one series. Values are added to what the series holds (nothing,
 * unless the cap folded it), LAST gauges set. */
static int load_series(struct load_ctx *c, struct store_def *def, json_t *js, int version)
{
    struct store_family *f = def->fam;
    struct store_series *s;
    double v;
    int rc;

    if ((rc = series_of(c, def, js, version, &s)) < 0)
        return rc;
    s->touched = true;
    c->restored++;
    if (f->type == SHMET_TYPE_HISTOGRAM)
        return load_histogram(s, def, js) < 0 ? fail(c, "bad histogram in family", f->name) : 0;
    json_t *live = json_object_get(js, "live");
    if (live != NULL) /* its producers' contributions come with them */
        return json_is_true(live) && f->type == SHMET_TYPE_GAUGE
                   ? 0
                   : fail(c, "bad live gauge in family", f->name);
    if (!get_num(json_object_get(js, "value"), &v) ||
        (f->type == SHMET_TYPE_COUNTER && !(v >= 0)))
        return fail(c, "bad value in family", f->name);
    if (f->type == SHMET_TYPE_COUNTER)
        s->v.counter += v;
    else
        store_gauge_set_last(c->st, s, v);
    return 0;
}

/* The family's name and type (jf) and one definition (jd: help, mode,
 * labels, bounds; the family object itself in version 1). */
static int def_spec_of(json_t *jf, json_t *jd, struct family_spec *sp, const char **labels,
                       uint32_t *lens, double *bounds)
{
    const char *type = json_string_value(json_object_get(jf, "type"));
    json_t *name = json_object_get(jf, "name"), *help = json_object_get(jd, "help");
    json_t *jb = json_object_get(jd, "bounds"), *mode = json_object_get(jd, "mode");
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
    if (strings(json_object_get(jd, "labels"), SHMET_LABELS_MAX, shmet__label_name_ok, labels,
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

/* Define every definition of jf, in order, into defs[]. */
static int load_defs(struct load_ctx *c, json_t *jf, int version, struct store_def **defs,
                     size_t *ndefs)
{
    const char *labels[SHMET_LABELS_MAX];
    uint32_t lens[SHMET_LABELS_MAX];
    double bounds[SHMET_BOUNDS_MAX];
    const char *name = json_string_value(json_object_get(jf, "name"));
    json_t *list = json_object_get(jf, "definitions");
    struct family_spec sp;
    int rc;

    *ndefs = version == VERSION_ONE_DEF ? 1 : json_array_size(list);
    if (version != VERSION_ONE_DEF &&
        (!json_is_array(list) || *ndefs == 0 || *ndefs > STORE_DEFS_MAX))
        return fail(c, "bad definitions of family", name);
    for (size_t k = 0; k < *ndefs; k++) {
        json_t *jd = version == VERSION_ONE_DEF ? jf : json_array_get(list, k);
        if (def_spec_of(jf, jd, &sp, labels, lens, bounds) < 0)
            return fail(c, "bad family", name);
        rc = store_define(c->st, &sp, &defs[k]);
        if (rc < 0)
            return fail(c, rc == -EEXIST ? "family defined twice"
                           : rc == -ENOMEM ? "out of memory" : "bad family", name);
    }
    return 0;
}

static int load_family(struct load_ctx *c, json_t *jf, int version)
{
    struct store_def *defs[STORE_DEFS_MAX];
    json_t *series = json_object_get(jf, "series"), *js, *name = json_object_get(jf, "name");
    struct store_family *f;
    size_t i, ndefs;
    int rc;

    if (!json_is_string(name) || !json_is_array(series))
        return fail(c, "bad family", json_string_value(name));
    f = store_family_find(c->st, json_string_value(name), json_string_length(name));
    if (f != NULL && f->internal)
        return 0; /* the aggregator's own: never restored */
    if ((rc = load_defs(c, jf, version, defs, &ndefs)) < 0)
        return rc;
    json_array_foreach(series, i, js)
    {
        json_t *k = json_object_get(js, "definition");
        json_int_t at = version == VERSION_ONE_DEF ? 0 : json_integer_value(k);
        if (version != VERSION_ONE_DEF && (!json_is_integer(k) || at < 0 || (size_t)at >= ndefs))
            return fail(c, "bad definition of a series in family", json_string_value(name));
        if ((rc = load_series(c, defs[at], js, version)) < 0)
            return rc;
    }
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
    json_t *jv = json_object_get(doc, "version"), *j;
    json_int_t v = json_is_integer(jv) ? json_integer_value(jv) : 0;
    int version = (v == VERSION || v == VERSION_ONE_DEF) ? (int)v : 0;
    size_t i;
    int rc = 0;

    if (format == NULL || strcmp(format, FORMAT) != 0 ||
        version == 0 || !json_is_array(fams) ||
        (prods != NULL && !json_is_array(prods)))
        return fail(&c, "not a version 1 or 2 checkpoint", NULL);
    json_array_foreach(fams, i, j)
        if (rc == 0)
            rc = load_family(&c, j, version);
    json_array_foreach(prods, i, j)
        if (rc == 0)
            rc = load_producer(&c, j);
    return rc < 0 ? rc : c.restored;
}

/* A checkpoint we may believe (tag-checkpoint-file): a regular file of our
 * user or root, which no other user may write (its group may, when it is
 * ours). 0, or -EPERM with the reason in err. */
static int check_file(int fd, char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        return -EPERM;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(err, errlen,
                 "owned by uid %u, not by uid %u that shmetricsd runs as (or root): another "
                 "user may have planted it",
                 (unsigned)st.st_uid, (unsigned)geteuid());
        return -EPERM;
    }
    if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != getegid())) {
        snprintf(err, errlen, "mode %04o lets other users write it", (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

/* Parse path and check all of it against a scratch store. */
static int load_checked(const char *path, uint32_t max_series, json_t **doc, char *err,
                        size_t errlen)
{
    struct store trial;
    json_error_t jerr;
    FILE *f;
    int rc, fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s", rc == -ELOOP ? "a symbolic link, not a file shmetricsd wrote"
                                                  : strerror(-rc));
        return rc;
    }
    if ((rc = check_file(fd, err, errlen)) < 0 || (f = fdopen(fd, "r")) == NULL) {
        rc = rc < 0 ? rc : -errno;
        close(fd);
        return rc;
    }
    *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
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
