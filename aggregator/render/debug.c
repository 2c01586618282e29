/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/debug.c - see debug.h. Written with the JSON writer of
 * json.h: every number as the exposition writes it (0.1 is 0.1); counts
 * as JSON integers (int64, as jansson wrote them); values, sums, bounds
 * and the uptime as reals (1.0, never 1); non-finite floats, which JSON
 * cannot hold, as the strings "NaN", "+Inf", "-Inf".
 *
 * Text that is not UTF-8 has U+FFFD in place of the bad bytes, so that
 * the document is always valid JSON and lists every family, definition,
 * series and label. The store holds only text ingest validated, but the
 * segment's path may be any bytes. (jansson refused such text: the label,
 * label name, definition, conflict or whole family holding it went
 * missing, and a bad path failed the request.)
 *
 * Beyond the first schema, for families with several definitions
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
#include <stdio.h>

#include "render/debug.h"
#include "render/json.h"

static const double quantiles[] = {0.5, 0.9, 0.95, 0.99, 0.999};
static const char *const quantile_keys[] = {"0.5", "0.9", "0.95", "0.99", "0.999"};

static const char *type_name(uint8_t t)
{
    return t == SHMET_TYPE_COUNTER ? "counter" : t == SHMET_TYPE_GAUGE ? "gauge" : "histogram";
}

/* Geometry as validated at attach, then the hold on the segment
 * (path, attached, attaches_total and lost_total came after the first
 * schema; docs/ARCHITECTURE.md, "The /debug document"). */
static void segment_obj(struct jw *w, const struct debug_ctx *c)
{
    char abi[16];

    snprintf(abi, sizeof(abi), "%u.%u", SHMET_ABI_MAJOR, (unsigned)c->seg->abi_minor);
    jw_object(w, "segment");
    jw_cstring(w, "ns", c->seg->ns);
    jw_cstring(w, "abi", abi);
    jw_int(w, "slots", c->seg->slots);
    jw_int(w, "ring_records", c->seg->ring_records);
    jw_int(w, "arena_bytes", c->seg->arena_bytes);
    jw_cstring(w, "path", c->path);
    jw_bool(w, "attached", c->attached);
    jw_int(w, "attaches_total", c->attaches);
    jw_int(w, "lost_total", c->lost);
    jw_end(w);
}

static void aggregator_obj(struct jw *w, const struct debug_ctx *c)
{
    jw_object(w, "aggregator");
    jw_int(w, "pid", c->pid);
    jw_real(w, "uptime_seconds", c->uptime_seconds);
    jw_int(w, "samples_total", c->totals.samples);
    jw_int(w, "dropped_total", c->totals.dropped);
    jw_int(w, "invalid_records_total", c->totals.invalid);
    jw_int(w, "families", c->st->nfamilies);
    jw_int(w, "series", c->st->nseries);
    jw_end(w);
}

static void producer_obj(struct jw *w, const struct debug_ctx *c, uint32_t i)
{
    const struct shmet__slot_snap *p = &c->slots[i];

    jw_object(w, NULL);
    jw_int(w, "slot", i);
    jw_int(w, "pid", p->pid);
    jw_int(w, "tid", p->tid);
    jw_int(w, "generation", p->generation);
    jw_cstring(w, "state", shmet__slot_state_name(p->state));
    jw_int(w, "ring_used", shmet__snap_ring_used(c->seg, p));
    jw_int(w, "ring_tail", p->tail);
    jw_int(w, "samples_total", shmet__snap_samples(p));
    jw_int(w, "dropped_total", p->dropped);
    jw_int(w, "arena_used", p->arena_used);
    jw_int(w, "arena_dropped", p->arena_dropped);
    jw_end(w);
}

/* Cumulative buckets as [bound, count] pairs, the last bound "+Inf";
 * then count, sum, and the sketch's quantiles. */
static void histogram_fields(struct jw *w, const struct store_series *s)
{
    const struct store_def *d = s->def; /* the series' own buckets */
    uint64_t acc = 0;

    for (uint32_t i = 0; i <= d->nbounds; i++)
        acc += s->v.h.buckets[i];
    jw_int(w, "count", acc);
    jw_real(w, "sum", s->v.h.sum);
    jw_array(w, "buckets");
    acc = 0;
    for (uint32_t i = 0; i <= d->nbounds; i++) {
        acc += s->v.h.buckets[i];
        jw_array(w, NULL);
        if (i < d->nbounds)
            jw_real(w, NULL, d->bounds[i]);
        else
            jw_cstring(w, NULL, "+Inf");
        jw_int(w, NULL, acc);
        jw_end(w);
    }
    jw_end(w);
    jw_object(w, "quantiles");
    for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
        jw_real(w, quantile_keys[i], sketch_quantile(&s->v.h.sketch, quantiles[i]));
    jw_end(w);
}

static void series_obj(struct jw *w, const struct store_series *s)
{
    const struct store_family *f = s->fam;

    jw_object(w, NULL);
    jw_object(w, "labels");
    for (uint16_t i = 0; i < s->def->nlabels; i++)
        jw_string(w, s->def->labels[i], s->values[i], s->lens[i]);
    jw_end(w);
    jw_int(w, "definition", s->def->index);
    if (s->overflow)
        jw_bool(w, "overflow", true);
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        histogram_fields(w, s);
    } else {
        jw_real(w, "value", f->type == SHMET_TYPE_COUNTER ? s->v.counter : store_gauge_value(s));
        if (f->type == SHMET_TYPE_GAUGE)
            jw_int(w, "producers", s->v.g.ncontribs);
    }
    jw_end(w);
}

static const char *mode_name(uint8_t m)
{
    static const char *const names[] = {"sum", "max", "min", "last"};
    return m < 4 ? names[m] : "?";
}

static void names_array(struct jw *w, const char *key, char *const *names, uint16_t n)
{
    jw_array(w, key);
    for (uint16_t i = 0; i < n; i++)
        jw_cstring(w, NULL, names[i]);
    jw_end(w);
}

static void def_obj(struct jw *w, const struct store_def *d)
{
    jw_object(w, NULL);
    jw_int(w, "index", d->index);
    jw_cstring(w, "help", d->help);
    names_array(w, "labels", d->labels, d->nlabels);
    jw_int(w, "series", d->nseries);
    if (d->fam->type == SHMET_TYPE_HISTOGRAM) {
        jw_array(w, "bounds");
        for (uint32_t i = 0; i < d->nbounds; i++)
            jw_real(w, NULL, d->bounds[i]);
        jw_end(w);
    } else if (d->fam->type == SHMET_TYPE_GAUGE) {
        jw_cstring(w, "mode", mode_name(d->gauge_mode));
    }
    jw_end(w);
}

/* The refused definitions of the name as another type, and what of them
 * was refused. */
static void conflicts_array(struct jw *w, const struct store_family *f)
{
    jw_array(w, "conflicts");
    for (size_t t = 0; t < sizeof(f->conflicts) / sizeof(f->conflicts[0]); t++) {
        const struct store_conflict *c = f->conflicts[t];
        if (c == NULL)
            continue;
        jw_object(w, NULL);
        jw_cstring(w, "type", type_name(c->type));
        jw_cstring(w, "labels", c->labels);
        jw_int(w, "definitions_refused", c->definitions);
        jw_int(w, "records_refused", c->records);
        jw_end(w);
    }
    jw_end(w);
}

static void family_obj(struct jw *w, struct store_family *f)
{
    struct store_series *const *ss = store_series_sorted(f);

    jw_object(w, NULL);
    jw_cstring(w, "name", f->name);
    jw_cstring(w, "type", type_name(f->type));
    jw_cstring(w, "help", f->cur->help);
    names_array(w, "labels", f->cur->labels, f->cur->nlabels);
    jw_array(w, "series");
    for (uint32_t i = 0; ss != NULL && i < f->nseries; i++)
        if (store_series_visible(ss[i]))
            series_obj(w, ss[i]);
    jw_end(w);
    jw_int(w, "overflow_folded", f->folded);
    if (f->type == SHMET_TYPE_GAUGE)
        jw_cstring(w, "mode", mode_name(f->cur->gauge_mode));
    jw_int(w, "series_count", store_family_series(f));
    jw_array(w, "definitions");
    for (uint32_t i = 0; i < f->ndefs; i++)
        def_obj(w, f->defs[i]);
    jw_end(w);
    jw_object(w, "overflow_samples");
    jw_int(w, "arena", f->overflow_samples[STORE_FOLD_ARENA]);
    jw_int(w, "cardinality", f->overflow_samples[STORE_FOLD_CARDINALITY]);
    jw_end(w);
    jw_int(w, "definition_mismatch_samples", f->mismatch_samples);
    conflicts_array(w, f);
    jw_end(w);
}

int debug_render(const struct debug_ctx *c, struct buf *out)
{
    struct store_family *const *fams = store_families_sorted(c->st);
    struct jw w;

    jw_init(&w, out);
    jw_object(&w, NULL);
    segment_obj(&w, c);
    aggregator_obj(&w, c);
    jw_array(&w, "producers");
    for (uint32_t i = 0; i < c->nslots; i++)
        if (c->slots[i].state != SHMET_SLOT_FREE)
            producer_obj(&w, c, i);
    jw_end(&w);
    jw_array(&w, "families");
    for (uint32_t i = 0; fams != NULL && i < c->st->nfamilies; i++)
        family_obj(&w, fams[i]);
    jw_end(&w);
    jw_end(&w);
    buf_char(out, '\n');
    return buf_failed(out) ? -ENOMEM : 0;
}
