/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/debug.c - see debug.h. Built with jansson; non-finite floats,
 * which JSON cannot hold, are written as the strings "NaN", "+Inf", "-Inf".
 *
 * Additions to the DESIGN schema for families with several definitions
 * (tag-family-defs in store.h) and for the placeholder: per family
 * "definitions" (each with "index", "help", "labels", "series", and
 * "bounds" or "mode"; the family's own "help", "labels" and "mode" are the
 * newest one's), "series_count" (the placeholder not counted, as in the
 * aggregator's "series"), "overflow_samples" {"arena", "cardinality"},
 * "definition_mismatch_samples" and "conflicts" (definitions of the name
 * as another type, refused); per series "definition" (an index into
 * "definitions").
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "render/debug.h"

static const double quantiles[] = {0.5, 0.9, 0.95, 0.99, 0.999};
static const char *const quantile_keys[] = {"0.5", "0.9", "0.95", "0.99", "0.999"};

static json_t *jnum(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "+Inf" : "-Inf");
    return json_real(v);
}

static const char *type_name(uint8_t t)
{
    return t == SHMET_TYPE_COUNTER ? "counter" : t == SHMET_TYPE_GAUGE ? "gauge" : "histogram";
}

/* Geometry as validated at attach, then the hold on the segment
 * (additions to the DESIGN schema: path, attached, attaches_total,
 * lost_total). */
static json_t *segment_obj(const struct debug_ctx *c)
{
    char abi[16];

    snprintf(abi, sizeof(abi), "%u.%u", SHMET_ABI_MAJOR, (unsigned)c->seg->abi_minor);
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:I, s:I}", "ns", c->seg->ns, "abi", abi,
                     "slots", (json_int_t)c->seg->slots, "ring_records",
                     (json_int_t)c->seg->ring_records, "arena_bytes",
                     (json_int_t)c->seg->arena_bytes, "path", c->path, "attached", c->attached,
                     "attaches_total", (json_int_t)c->attaches, "lost_total", (json_int_t)c->lost);
}

static json_t *aggregator_obj(const struct debug_ctx *c)
{
    return json_pack("{s:i, s:f, s:I, s:I, s:I, s:I, s:I}", "pid", (int)c->pid, "uptime_seconds",
                     c->uptime_seconds, "samples_total", (json_int_t)c->totals.samples,
                     "dropped_total", (json_int_t)c->totals.dropped,
                     "invalid_records_total", (json_int_t)c->totals.invalid, "families",
                     (json_int_t)c->st->nfamilies, "series", (json_int_t)c->st->nseries);
}

static json_t *producer_obj(const struct debug_ctx *c, uint32_t i)
{
    const struct shmet__slot_snap *p = &c->slots[i];

    if (p->state == SHMET_SLOT_FREE)
        return NULL;
    return json_pack("{s:I, s:i, s:i, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "slot",
                     (json_int_t)i, "pid", (int)p->pid, "tid", (int)p->tid, "generation",
                     (json_int_t)p->generation, "state", shmet__slot_state_name(p->state),
                     "ring_used", (json_int_t)shmet__snap_ring_used(c->seg, p), "ring_tail", (json_int_t)p->tail,
                     "samples_total",
                     (json_int_t)shmet__snap_samples(p),
                     "dropped_total", (json_int_t)p->dropped, "arena_used",
                     (json_int_t)p->arena_used, "arena_dropped", (json_int_t)p->arena_dropped);
}

static json_t *histogram_fields(json_t *o, const struct store_series *s)
{
    const struct store_def *d = s->def; /* the series' own buckets */
    json_t *buckets = json_array(), *q = json_object();
    uint64_t acc = 0;

    for (uint32_t i = 0; i <= d->nbounds; i++) {
        acc += s->v.h.buckets[i];
        json_array_append_new(buckets, json_pack("[o, I]", i < d->nbounds ? json_real(d->bounds[i])
                                                                          : json_string("+Inf"),
                                                 (json_int_t)acc));
    }
    for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
        json_object_set_new(q, quantile_keys[i], jnum(sketch_quantile(&s->v.h.sketch, quantiles[i])));
    json_object_set_new(o, "count", json_integer((json_int_t)acc));
    json_object_set_new(o, "sum", jnum(s->v.h.sum));
    json_object_set_new(o, "buckets", buckets);
    json_object_set_new(o, "quantiles", q);
    return o;
}

static json_t *series_obj(const struct store_series *s)
{
    const struct store_family *f = s->fam;
    json_t *labels = json_object(), *o = json_object();

    for (uint16_t i = 0; i < s->def->nlabels; i++)
        json_object_set_new(labels, s->def->labels[i], json_stringn(s->values[i], s->lens[i]));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "definition", json_integer(s->def->index));
    if (s->overflow)
        json_object_set_new(o, "overflow", json_true());
    if (f->type == SHMET_TYPE_HISTOGRAM)
        return histogram_fields(o, s);
    json_object_set_new(o, "value", jnum(f->type == SHMET_TYPE_COUNTER ? s->v.counter
                                                                        : store_gauge_value(s)));
    if (f->type == SHMET_TYPE_GAUGE)
        json_object_set_new(o, "producers", json_integer(s->v.g.ncontribs));
    return o;
}

static const char *mode_name(uint8_t m)
{
    static const char *const names[] = {"sum", "max", "min", "last"};
    return m < 4 ? names[m] : "?";
}

static json_t *names_array(char *const *names, uint16_t n)
{
    json_t *a = json_array();

    for (uint16_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static json_t *def_obj(const struct store_def *d)
{
    json_t *o = json_pack("{s:I, s:s, s:o, s:I}", "index", (json_int_t)d->index, "help", d->help,
                          "labels", names_array(d->labels, d->nlabels), "series",
                          (json_int_t)d->nseries);

    if (d->fam->type == SHMET_TYPE_HISTOGRAM) {
        json_t *b = json_array();
        for (uint32_t i = 0; i < d->nbounds; i++)
            json_array_append_new(b, json_real(d->bounds[i]));
        json_object_set_new(o, "bounds", b);
    } else if (d->fam->type == SHMET_TYPE_GAUGE) {
        json_object_set_new(o, "mode", json_string(mode_name(d->gauge_mode)));
    }
    return o;
}

/* The refused definitions of the name as another type, and what of them
 * was refused. */
static json_t *conflicts_array(const struct store_family *f)
{
    json_t *a = json_array();

    for (size_t t = 0; t < sizeof(f->conflicts) / sizeof(f->conflicts[0]); t++) {
        const struct store_conflict *c = f->conflicts[t];
        if (c == NULL)
            continue;
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:I, s:I}", "type", type_name(c->type), "labels", c->labels,
                         "definitions_refused", (json_int_t)c->definitions, "records_refused",
                         (json_int_t)c->records));
    }
    return a;
}

static json_t *family_obj(struct store_family *f)
{
    struct store_series *const *ss = store_series_sorted(f);
    json_t *series = json_array(), *defs = json_array();

    for (uint32_t i = 0; ss != NULL && i < f->nseries; i++)
        if (store_series_visible(ss[i]))
            json_array_append_new(series, series_obj(ss[i]));
    for (uint32_t i = 0; i < f->ndefs; i++)
        json_array_append_new(defs, def_obj(f->defs[i]));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I}", "name", f->name, "type",
                          type_name(f->type), "help", f->cur->help, "labels",
                          names_array(f->cur->labels, f->cur->nlabels), "series", series,
                          "overflow_folded", (json_int_t)f->folded);
    if (f->type == SHMET_TYPE_GAUGE)
        json_object_set_new(o, "mode", json_string(mode_name(f->cur->gauge_mode)));
    json_object_set_new(o, "series_count", json_integer(store_family_series(f)));
    json_object_set_new(o, "definitions", defs);
    json_object_set_new(o, "overflow_samples",
                        json_pack("{s:I, s:I}", "arena",
                                  (json_int_t)f->overflow_samples[STORE_FOLD_ARENA], "cardinality",
                                  (json_int_t)f->overflow_samples[STORE_FOLD_CARDINALITY]));
    json_object_set_new(o, "definition_mismatch_samples",
                        json_integer((json_int_t)f->mismatch_samples));
    json_object_set_new(o, "conflicts", conflicts_array(f));
    return o;
}

int debug_render(const struct debug_ctx *c, struct buf *out)
{
    struct store_family *const *fams = store_families_sorted(c->st);
    json_t *producers = json_array(), *families = json_array(), *doc, *p;
    char *text;

    for (uint32_t i = 0; i < c->nslots; i++)
        if ((p = producer_obj(c, i)) != NULL)
            json_array_append_new(producers, p);
    for (uint32_t i = 0; fams != NULL && i < c->st->nfamilies; i++)
        json_array_append_new(families, family_obj(fams[i]));
    doc = json_pack("{s:o, s:o, s:o, s:o}", "segment", segment_obj(c), "aggregator",
                    aggregator_obj(c), "producers", producers, "families", families);
    if (doc == NULL)
        return -ENOMEM;
    text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (text == NULL)
        return -ENOMEM;
    buf_str(out, text);
    buf_char(out, '\n');
    free(text);
    return buf_failed(out) ? -ENOMEM : 0;
}
