/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/series.c - "shmtool series": the families and series
 * defined in the arenas of the slots in use (or of one slot), as text with
 * every untrusted string escaped, or as JSON (shape in usage.c).
 */
#include <stdlib.h>
#include <string.h>

#include "shmtool.h"

/* Shortest of %.15g and %.17g that reads back as v. */
static void fmt_double(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
}

static void print_family(const struct def_family *f)
{
    char num[40];

    printf("  family %-5u %-9s %s", f->id, type_name(f->type), f->name);
    printf("  labels:");
    for (uint16_t i = 0; i < f->nlabels; i++)
        printf("%s%s", i ? ", " : " ", f->labels[i]);
    if (f->nlabels == 0)
        printf(" none");
    if (f->type == SHMET_TYPE_GAUGE)
        printf("  mode: %s", gauge_mode_name(f->gauge_mode));
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        printf("  buckets:");
        for (uint32_t i = 0; i < f->nbounds; i++) {
            fmt_double(f->bounds[i], num, sizeof(num));
            printf("%s%s", i ? ", " : " ", num);
        }
        printf("%s+Inf", f->nbounds ? ", " : " ");
    }
    printf("\n               help \"");
    fput_escaped(stdout, f->help, strlen(f->help));
    printf("\"\n");
}

/* name{label="value",...}, the Prometheus way; values escaped. */
static void print_series(const struct defs *d, const struct def_series *s)
{
    const struct def_family *f = defs_family(d, s->family);
    bool named = f != NULL && f->nlabels == s->nvalues;

    printf("  series %-5u ", s->id);
    if (f != NULL)
        printf("%s", f->name);
    else
        printf("(undefined family %u)", s->family);
    if (s->nvalues > 0 || f == NULL)
        putchar('{');
    for (uint16_t i = 0; i < s->nvalues; i++) {
        printf("%s%s%s\"", i ? "," : "", named ? f->labels[i] : "", named ? "=" : "");
        fput_escaped(stdout, s->values[i], strlen(s->values[i]));
        putchar('"');
    }
    if (s->nvalues > 0 || f == NULL)
        putchar('}');
    putchar('\n');
}

static void slot_text(uint32_t idx, const struct shmet__slot_snap *sn, const struct defs *d)
{
    printf("slot %u: %s, pid %d, tid %d, generation %u, %llu arena bytes\n", idx,
           shmet__slot_state_name(sn->state), sn->pid, sn->tid, sn->generation,
           (unsigned long long)d->used);
    for (size_t i = 0; i < d->nfam; i++)
        print_family(&d->fam[i]);
    for (size_t i = 0; i < d->nser; i++)
        print_series(d, &d->ser[i]);
    for (size_t i = 0; i < d->nbad; i++)
        printf("  invalid entry at offset %llu: %s\n", (unsigned long long)d->bad[i].off,
               d->bad[i].what);
    if (d->stopped)
        printf("  (arena not read past offset %llu)\n", (unsigned long long)d->stop_off);
}

static json_t *strs_json(char *const *strs, uint16_t n)
{
    json_t *arr = jnew_array();

    for (uint16_t i = 0; i < n; i++)
        jpush(arr, jstrn(strs[i], strlen(strs[i])));
    return arr;
}

static json_t *family_json(const struct def_family *f)
{
    json_t *o = jnew_object();

    jset(o, "id", json_integer(f->id));
    jset(o, "type", json_string(type_name(f->type)));
    jset(o, "name", jstrn(f->name, strlen(f->name)));
    jset(o, "help", jstrn(f->help, strlen(f->help)));
    jset(o, "labels", strs_json(f->labels, f->nlabels));
    jset(o, "overflow_series", json_integer(f->overflow));
    jset(o, "offset", ju64(f->off));
    if (f->type == SHMET_TYPE_GAUGE)
        jset(o, "gauge_mode", json_string(gauge_mode_name(f->gauge_mode)));
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        json_t *b = jnew_array();
        for (uint32_t i = 0; i < f->nbounds; i++)
            jpush(b, json_real(f->bounds[i]));
        jset(o, "buckets", b);
    }
    return o;
}

static json_t *series_json(const struct defs *d, const struct def_series *s)
{
    const struct def_family *f = defs_family(d, s->family);
    json_t *o = jnew_object(), *labels = jnew_object();

    jset(o, "id", json_integer(s->id));
    jset(o, "family", json_integer(s->family));
    jset(o, "family_name", f ? jstrn(f->name, strlen(f->name)) : json_null());
    for (uint16_t i = 0; f != NULL && f->nlabels == s->nvalues && i < s->nvalues; i++)
        jset(labels, f->labels[i], jstrn(s->values[i], strlen(s->values[i])));
    jset(o, "labels", labels);
    jset(o, "values", strs_json(s->values, s->nvalues));
    jset(o, "offset", ju64(s->off));
    return o;
}

static json_t *slot_json(uint32_t idx, const struct shmet__slot_snap *sn, const struct defs *d)
{
    json_t *o = jnew_object(), *fams = jnew_array(), *sers = jnew_array(), *bad = jnew_array();

    jset(o, "slot", json_integer(idx));
    jset(o, "state", json_string(shmet__slot_state_name(sn->state)));
    jset(o, "pid", json_integer(sn->pid));
    jset(o, "tid", json_integer(sn->tid));
    jset(o, "generation", json_integer(sn->generation));
    jset(o, "arena_used", ju64(d->used));
    for (size_t i = 0; i < d->nfam; i++)
        jpush(fams, family_json(&d->fam[i]));
    for (size_t i = 0; i < d->nser; i++)
        jpush(sers, series_json(d, &d->ser[i]));
    for (size_t i = 0; i < d->nbad; i++) {
        json_t *b = jnew_object();
        jset(b, "offset", ju64(d->bad[i].off));
        jset(b, "error", json_string(d->bad[i].what));
        jpush(bad, b);
    }
    jset(o, "families", fams);
    jset(o, "series", sers);
    jset(o, "invalid", bad);
    return o;
}

/* One slot, text or JSON; a free slot is shown without its leftovers. */
static void series_slot(const struct shmet__seg *s, uint32_t idx, json_t *slots)
{
    struct shmet__slot_snap sn;
    struct defs d;

    defs_load_slot(s, idx, &sn, &d);
    if (sn.state == SHMET_SLOT_FREE) {
        defs_free(&d);
        memset(&d, 0, sizeof(d));
        d.used = 0;
    }
    if (slots != NULL)
        jpush(slots, slot_json(idx, &sn, &d));
    else
        slot_text(idx, &sn, &d);
    defs_free(&d);
}

static bool slot_in_use(const struct shmet__seg *s, uint32_t idx)
{
    /* RELAXED: a filter only; series_slot() reads the slot properly. */
    return atomic_load_explicit(&shmet__slot(s, idx)->state, memory_order_relaxed) !=
           SHMET_SLOT_FREE;
}

int cmd_series(const struct tool_args *a)
{
    json_t *root = NULL, *slots = NULL;
    struct shmet__seg s;
    int rc = TOOL_OK;

    if (seg_attach(a, &s) < 0)
        return TOOL_PROBLEM;
    if (a->has_slot && a->slot >= s.slots) {
        usage_error("series", "--slot %u: the segment has %u slots (0 to %u)", a->slot, s.slots,
                    s.slots - 1);
        shmet__seg_close(&s);
        return TOOL_USAGE;
    }
    if (a->json) {
        root = jnew_object();
        slots = jnew_array();
        jset(root, "ns", json_string(a->ns));
        jset(root, "path", jstrn(a->path, strlen(a->path)));
    }
    for (uint32_t i = 0; i < s.slots; i++)
        if (a->has_slot ? i == a->slot : slot_in_use(&s, i))
            series_slot(&s, i, slots);
    if (root != NULL) {
        jset(root, "slots", slots);
        rc = json_print(root) < 0 ? TOOL_PROBLEM : TOOL_OK;
    }
    shmet__seg_close(&s);
    return rc;
}
