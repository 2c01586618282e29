/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/check_defs.c - the checks of one slot's definition arena
 * for "shmtool check": entries libshm refused (malformed, bad size, bad
 * names, values or bounds), then what only the whole arena shows:
 * duplicate ids and names, series whose family is missing or comes later
 * or has another number of labels, and families without their
 * __overflow__ series. The arena was loaded by defs.c.
 */
#include <stdlib.h>
#include <string.h>

#include "shmtool.h"

#define STR_PREFIX 4u /* u32 length before each string in an entry */

static void check_bad(const struct defs *d, struct report *r)
{
    for (size_t i = 0; i < d->nbad; i++) {
        const struct def_bad *b = &d->bad[i];
        bool stop = d->stopped && b->off == d->stop_off;
        problem(r, SEV_ERROR, "arena entry at offset %llu: %s%s", (unsigned long long)b->off,
                b->what, stop ? " (the rest of the arena cannot be read)" : "");
    }
}

static void check_dup_ids(const struct defs *d, struct report *r)
{
    for (size_t i = 1; i < d->nfam; i++)
        if (d->fam_by_id[i]->id == d->fam_by_id[i - 1]->id)
            problem(r, SEV_ERROR, "family id %u defined twice (offsets %llu and %llu)",
                    d->fam_by_id[i]->id, (unsigned long long)d->fam_by_id[i - 1]->off,
                    (unsigned long long)d->fam_by_id[i]->off);
    for (size_t i = 1; i < d->nser; i++)
        if (d->ser_by_id[i]->id == d->ser_by_id[i - 1]->id)
            problem(r, SEV_ERROR, "series id %u defined twice (offsets %llu and %llu)",
                    d->ser_by_id[i]->id, (unsigned long long)d->ser_by_id[i - 1]->off,
                    (unsigned long long)d->ser_by_id[i]->off);
}

static int name_cmp(const void *a, const void *b)
{
    const struct def_family *x = *(const struct def_family *const *)a;
    const struct def_family *y = *(const struct def_family *const *)b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : (x->off < y->off ? -1 : x->off > y->off);
}

/* A producer defines each family once per slot. */
static void check_dup_names(const struct defs *d, struct report *r)
{
    const struct def_family **by_name = xrealloc_array(NULL, d->nfam, sizeof(*by_name));

    memcpy(by_name, d->fam_by_id, d->nfam * sizeof(*by_name));
    qsort(by_name, d->nfam, sizeof(*by_name), name_cmp);
    for (size_t i = 1; i < d->nfam; i++)
        if (strcmp(by_name[i]->name, by_name[i - 1]->name) == 0)
            problem(r, SEV_ERROR, "family name %s defined twice (ids %u and %u)", by_name[i]->name,
                    by_name[i - 1]->id, by_name[i]->id);
    free(by_name);
}

static void check_label_names(const struct def_family *f, struct report *r)
{
    for (uint16_t i = 1; i < f->nlabels; i++)
        for (uint16_t k = 0; k < i; k++)
            if (strcmp(f->labels[i], f->labels[k]) == 0) {
                problem(r, SEV_ERROR, "family %u (%s): label %s appears twice", f->id, f->name,
                        f->labels[i]);
                return;
            }
}

static void check_series_family(const struct defs *d, const struct def_series *s, struct report *r)
{
    const struct def_family *f = defs_family(d, s->family);

    if (f == NULL)
        problem(r, SEV_ERROR, "series %u (offset %llu) references family %u, which is not defined",
                s->id, (unsigned long long)s->off, s->family);
    else if (f->off > s->off)
        problem(r, SEV_ERROR,
                "series %u (offset %llu) references family %u, which is defined only after it "
                "(offset %llu)",
                s->id, (unsigned long long)s->off, s->family, (unsigned long long)f->off);
    else if (f->nlabels != s->nvalues)
        problem(r, SEV_ERROR, "series %u has %u label values, but family %u (%s) has %u labels",
                s->id, s->nvalues, f->id, f->name, f->nlabels);
}

/* Bytes of the __overflow__ series entry of f. */
static uint64_t overflow_entry_size(const struct def_family *f)
{
    uint64_t n = sizeof(struct shmet_abi_def) +
                 (uint64_t)f->nlabels * (STR_PREFIX + strlen(SHMET_OVERFLOW_VALUE));

    return (n + 7) & ~(uint64_t)7;
}

/*
 * The producer writes a family's __overflow__ series right after the
 * family. It may be missing only because the arena had no room for it
 * then; arena_used only grows, so if there is room now, there was room
 * then, and a missing one is corruption.
 */
static void check_overflow(const struct shmet__seg *s, const struct defs *d,
                           const struct def_family *f, struct report *r)
{
    const struct def_series *o = defs_series(d, f->overflow);

    if (o != NULL && o->family != f->id)
        problem(r, SEV_ERROR, "family %u (%s): its __overflow__ series %u belongs to family %u",
                f->id, f->name, f->overflow, o->family);
    else if (o == NULL && !d->stopped && d->nbad == 0 && d->used <= s->arena_bytes &&
             overflow_entry_size(f) <= s->arena_bytes - d->used)
        problem(r, SEV_ERROR, "family %u (%s): its __overflow__ series %u is not defined", f->id,
                f->name, f->overflow);
}

void check_defs(const struct shmet__seg *s, const struct defs *d, struct report *r)
{
    check_bad(d, r);
    check_dup_ids(d, r);
    check_dup_names(d, r);
    for (size_t i = 0; i < d->nfam; i++) {
        check_label_names(&d->fam[i], r);
        check_overflow(s, d, &d->fam[i], r);
    }
    for (size_t i = 0; i < d->nser; i++)
        check_series_family(d, &d->ser[i], r);
}
