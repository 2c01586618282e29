/* SPDX-License-Identifier: MIT */
/*
 * libshm/arena.c - the per-slot definition arena: the producer appends
 * family and series definitions (format in shmetrics/abi.h); readers copy
 * an entry out of the segment before validating it, so that a writer
 * scribbling on the arena cannot change what was checked.
 */
#include <errno.h>
#include <string.h>

#include "shm.h"

#define STR_PREFIX 4u /* u32 length before each string */

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

/* Append one entry: header, fixed part, bounds, strings. Producer only. */
static int arena_put(struct shmet__seg *s, uint32_t idx, struct shmet_abi_def *h,
                     const void *fixed, size_t fixedlen, const double *bounds, uint32_t nbounds,
                     const char *const *strs, uint16_t nstrs, uint64_t *off)
{
    struct shmet_abi_slot *sl = shmet__slot(s, idx);
    uint8_t *arena = shmet__slot_arena(s, idx), *p;
    uint64_t size = sizeof(*h) + fixedlen + (uint64_t)nbounds * sizeof(double), used;

    for (uint16_t i = 0; i < nstrs; i++)
        size += STR_PREFIX + strlen(strs[i]);
    size = pad8(size);
    if (size > SHMET_DEF_MAX)
        return -E2BIG;
    /* RELAXED: the producer is the only writer of arena_used. */
    used = atomic_load_explicit(&sl->arena_used, memory_order_relaxed);
    if (used > s->arena_bytes || size > s->arena_bytes - used)
        return -ENOSPC;
    p = arena + used;
    h->size = (uint32_t)size;
    h->nstrings = nstrs;
    memcpy(p, h, sizeof(*h));
    p += sizeof(*h);
    /* fixed and bounds may be NULL when empty: memcpy(p, NULL, 0) is
     * undefined behaviour, so skip empty parts. */
    if (fixedlen > 0)
        memcpy(p, fixed, fixedlen);
    p += fixedlen;
    if (nbounds > 0)
        memcpy(p, bounds, (size_t)nbounds * sizeof(double));
    p += (size_t)nbounds * sizeof(double);
    for (uint16_t i = 0; i < nstrs; i++) {
        uint32_t len = (uint32_t)strlen(strs[i]);
        memcpy(p, &len, STR_PREFIX);
        memcpy(p + STR_PREFIX, strs[i], len);
        p += STR_PREFIX + len;
    }
    memset(p, 0, (size_t)(arena + used + size - p));
    /* RELEASE: publishes the entry written above; pairs with the ACQUIRE
     * load of arena_used by readers before shmet__def_read(). */
    atomic_store_explicit(&sl->arena_used, used + size, memory_order_release);
    *off = used;
    return 0;
}

int shmet__arena_put_family(struct shmet__seg *s, uint32_t idx, const struct shmet__family_def *f,
                            uint64_t *off)
{
    const char *strs[2 + SHMET_LABELS_MAX];
    struct shmet_abi_def h = {.kind = SHMET_DEF_FAMILY, .id = f->id};
    struct shmet_abi_def_family fx = {.type = f->type,
                                      .gauge_mode = f->gauge_mode,
                                      .nlabels = f->nlabels,
                                      .nbounds = f->nbounds,
                                      .overflow_series = f->overflow_series};

    if (f->nlabels > SHMET_LABELS_MAX)
        return -EINVAL;
    strs[0] = f->name;
    strs[1] = f->help;
    for (uint16_t i = 0; i < f->nlabels; i++)
        strs[2 + i] = f->labels[i];
    return arena_put(s, idx, &h, &fx, sizeof(fx), f->bounds, f->nbounds, strs,
                     (uint16_t)(2 + f->nlabels), off);
}

int shmet__arena_put_series(struct shmet__seg *s, uint32_t idx, uint32_t id, uint32_t family,
                            const char *const *values, uint16_t nvalues, uint64_t *off)
{
    struct shmet_abi_def h = {.kind = SHMET_DEF_SERIES, .id = id, .family = family};

    if (nvalues > SHMET_LABELS_MAX)
        return -EINVAL;
    return arena_put(s, idx, &h, NULL, 0, NULL, 0, values, nvalues, off);
}

/* ---- reading (untrusted) -------------------------------------------- */

const char *shmet__def_error(int err)
{
    switch (err) {
    case -EFAULT:
        return "offset outside the arena";
    case -EMSGSIZE:
        return "entry size invalid";
    case -EBADMSG:
        return "malformed entry";
    case -EINVAL:
        return "invalid name or label";
    case -EDOM:
        return "invalid bucket bounds";
    default:
        return "invalid definition";
    }
}

/* Take string i at *pos of buf[0..size); -EBADMSG if it does not fit. */
static int take_str(const uint8_t *buf, uint32_t size, uint32_t *pos, struct shmet__str *out)
{
    uint32_t len;

    if (size - *pos < STR_PREFIX)
        return -EBADMSG;
    memcpy(&len, buf + *pos, STR_PREFIX);
    *pos += STR_PREFIX;
    if (len > size - *pos)
        return -EBADMSG;
    out->ptr = (const char *)buf + *pos;
    out->len = len;
    *pos += len;
    return 0;
}

static int parse_family(const uint8_t *buf, uint32_t size, uint16_t nstrings,
                        struct shmet__def_view *v)
{
    struct shmet_abi_def_family fx;
    uint32_t pos = sizeof(struct shmet_abi_def);

    if (size - pos < sizeof(fx))
        return -EBADMSG;
    memcpy(&fx, buf + pos, sizeof(fx));
    pos += sizeof(fx);
    if (fx.type < SHMET_TYPE_COUNTER || fx.type > SHMET_TYPE_HISTOGRAM ||
        fx.gauge_mode > SHMET_GAUGE_LAST || fx.nlabels > SHMET_LABELS_MAX ||
        nstrings != 2u + fx.nlabels)
        return -EBADMSG;
    if (fx.nbounds > SHMET_BOUNDS_MAX || (fx.type != SHMET_TYPE_HISTOGRAM && fx.nbounds != 0) ||
        (size - pos) / sizeof(double) < fx.nbounds)
        return -EBADMSG;
    v->bounds = (const double *)(const void *)(buf + pos);
    v->nbounds = fx.nbounds;
    pos += fx.nbounds * (uint32_t)sizeof(double);
    if (shmet__bounds_check(v->bounds, v->nbounds) < 0)
        return -EDOM;
    v->type = fx.type;
    v->gauge_mode = fx.gauge_mode;
    v->overflow_series = fx.overflow_series;
    v->nlabels = fx.nlabels;
    if (take_str(buf, size, &pos, &v->name) < 0 || take_str(buf, size, &pos, &v->help) < 0)
        return -EBADMSG;
    if (!shmet__metric_name_ok(v->name.ptr, v->name.len) ||
        !shmet__help_ok(v->help.ptr, v->help.len))
        return -EINVAL;
    for (uint16_t i = 0; i < v->nlabels; i++) {
        if (take_str(buf, size, &pos, &v->labels[i]) < 0)
            return -EBADMSG;
        if (!shmet__label_name_ok(v->labels[i].ptr, v->labels[i].len))
            return -EINVAL;
    }
    return 0;
}

static int parse_series(const uint8_t *buf, uint32_t size, uint16_t nstrings,
                        struct shmet__def_view *v)
{
    uint32_t pos = sizeof(struct shmet_abi_def);

    if (nstrings > SHMET_LABELS_MAX)
        return -EBADMSG;
    v->nlabels = nstrings;
    for (uint16_t i = 0; i < nstrings; i++) {
        if (take_str(buf, size, &pos, &v->labels[i]) < 0)
            return -EBADMSG;
        if (v->labels[i].len > SHMET_LABEL_VALUE_MAX ||
            !shmet__utf8_ok(v->labels[i].ptr, v->labels[i].len))
            return -EINVAL;
    }
    return 0;
}

/*
 * shmet__def_read - copy the entry at off of an arena whose first used
 * bytes are published, into buf (8-aligned, cap bytes), and validate it.
 * On success v describes the copy. Never reads outside arena[0..used).
 */
int shmet__def_read(const uint8_t *arena, uint64_t used, uint64_t off, uint8_t *buf, size_t cap,
                    struct shmet__def_view *v)
{
    struct shmet_abi_def h;
    uint32_t size;

    if (off % 8 != 0 || off > used || used - off < sizeof(h))
        return -EFAULT;
    memcpy(&h, arena + off, sizeof(h));
    size = h.size;
    if (size < sizeof(h) || size % 8 != 0 || size > used - off || size > cap ||
        size > SHMET_DEF_MAX)
        return -EMSGSIZE;
    memcpy(buf, arena + off, size);
    memcpy(&h, buf, sizeof(h)); /* from here on only the private copy */
    if (h.size != size)
        return -EMSGSIZE;
    memset(v, 0, sizeof(*v));
    v->kind = h.kind;
    v->id = h.id;
    v->family = h.family;
    v->size = size;
    if (h.kind == SHMET_DEF_FAMILY)
        return parse_family(buf, size, h.nstrings, v);
    if (h.kind == SHMET_DEF_SERIES)
        return parse_series(buf, size, h.nstrings, v);
    return -EBADMSG;
}

/*
 * shmet__arena_next - the definition at *off of slot idx, then advance
 * *off past it. used is the caller's ACQUIRE snapshot of arena_used.
 * Returns 1 with *v filled, 0 at the end, or a negative error (the entry
 * is invalid; *off is advanced past it when its size is sane, so the
 * caller may go on, else left in place: stop there).
 */
int shmet__arena_next(const struct shmet__seg *s, uint32_t idx, uint64_t used, uint64_t *off,
                      uint8_t *buf, size_t cap, struct shmet__def_view *v)
{
    int rc;

    if (used > s->arena_bytes)
        used = s->arena_bytes;
    if (*off >= used)
        return 0;
    rc = shmet__def_read(shmet__slot_arena(s, idx), used, *off, buf, cap, v);
    /* def_read sets v->size once the size itself was found sane. */
    if (rc == 0 || rc == -EBADMSG || rc == -EINVAL || rc == -EDOM)
        *off += v->size;
    return rc < 0 ? rc : 1;
}
