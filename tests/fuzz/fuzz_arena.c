/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_arena.c - libFuzzer target for the definition reader
 * (libshm/arena.c): the input is an arena, walked from the start with
 * shmet__arena_next() and read at a fuzzer-chosen offset with
 * shmet__def_read() into a buffer of fuzzer-chosen size. The arena and
 * the buffer are heap blocks of exactly their size, so a read or write
 * past either is an AddressSanitizer report. Every accepted definition is
 * checked: its strings and bounds lie inside the copy, and its names,
 * values and bounds pass the same rules the writer applies.
 *
 * Input: u32 offset, u32 buffer size, then the arena bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *buf, uint32_t size, const void *p, uint64_t len)
{
    const uint8_t *q = p;

    return q >= buf && len <= size && (uint64_t)(q - buf) <= size - len;
}

static void check_family(const struct shmet__def_view *v, const uint8_t *buf)
{
    if (v->type < SHMET_TYPE_COUNTER || v->type > SHMET_TYPE_HISTOGRAM ||
        v->gauge_mode > SHMET_GAUGE_LAST || v->nlabels > SHMET_LABELS_MAX ||
        v->nbounds > SHMET_BOUNDS_MAX || (v->type != SHMET_TYPE_HISTOGRAM && v->nbounds != 0))
        abort();
    if (v->nbounds > 0 &&
        (!inside(buf, v->size, v->bounds, (uint64_t)v->nbounds * 8) ||
         (uintptr_t)v->bounds % 8 != 0 || shmet__bounds_check(v->bounds, v->nbounds) != 0))
        abort();
    if (!inside(buf, v->size, v->name.ptr, v->name.len) ||
        !shmet__metric_name_ok(v->name.ptr, v->name.len))
        abort();
    if (!inside(buf, v->size, v->help.ptr, v->help.len) ||
        !shmet__help_ok(v->help.ptr, v->help.len))
        abort();
    for (uint16_t i = 0; i < v->nlabels; i++)
        if (!inside(buf, v->size, v->labels[i].ptr, v->labels[i].len) ||
            !shmet__label_name_ok(v->labels[i].ptr, v->labels[i].len))
            abort();
}

static void check_series(const struct shmet__def_view *v, const uint8_t *buf)
{
    if (v->nlabels > SHMET_LABELS_MAX)
        abort();
    for (uint16_t i = 0; i < v->nlabels; i++)
        if (!inside(buf, v->size, v->labels[i].ptr, v->labels[i].len) ||
            v->labels[i].len > SHMET_LABEL_VALUE_MAX ||
            !shmet__utf8_ok(v->labels[i].ptr, v->labels[i].len))
            abort();
}

/* A definition the reader accepted, from an entry of at most room bytes. */
static void check_view(const struct shmet__def_view *v, const uint8_t *buf, uint64_t room)
{
    if (v->size < sizeof(struct shmet_abi_def) || v->size % 8 != 0 || v->size > room ||
        v->size > SHMET_DEF_MAX)
        abort();
    if (v->kind == SHMET_DEF_FAMILY)
        check_family(v, buf);
    else if (v->kind == SHMET_DEF_SERIES)
        check_series(v, buf);
    else
        abort();
}

static void walk(const uint8_t *arena, uint32_t n, uint8_t *buf)
{
    struct shmet__seg s;
    struct shmet__def_view v;
    uint64_t pos = 0, before;
    int rc;

    memset(&s, 0, sizeof(s));
    s.base = (uint8_t *)arena; /* arena of slot 0: data_offset 0, no ring */
    s.arena_bytes = n;
    for (;;) {
        before = pos;
        rc = shmet__arena_next(&s, 0, n, &pos, buf, SHMET_DEF_MAX, &v);
        if (rc == 0)
            break;
        if (rc == 1)
            check_view(&v, buf, n - before);
        if (pos == before) {
            if (rc != -EFAULT && rc != -EMSGSIZE)
                abort(); /* only an insane entry stops the walk */
            break;
        }
        if (pos <= before || pos > n || pos % 8 != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shmet__def_view v;
    uint32_t off, cap, n;
    uint8_t *arena, *buf, *one;
    int rc;

    if (size < 8 || size - 8 > UINT32_MAX)
        return 0;
    memcpy(&off, data, 4);
    memcpy(&cap, data + 4, 4);
    n = (uint32_t)(size - 8);
    arena = malloc(n ? n : 1);
    buf = malloc(SHMET_DEF_MAX);
    cap %= SHMET_DEF_MAX + 1;
    one = malloc(cap ? cap : 1);
    if (arena == NULL || buf == NULL || one == NULL)
        abort();
    memcpy(arena, data + 8, n);

    walk(arena, n, buf);

    /* One read anywhere, offsets past the end included. */
    rc = shmet__def_read(arena, n, off % (n + 64u), one, cap, &v);
    if (rc == 0)
        check_view(&v, one, n - off % (n + 64u));
    else if (rc != -EFAULT && rc != -EMSGSIZE && rc != -EBADMSG && rc != -EINVAL && rc != -EDOM)
        abort();

    free(one);
    free(buf);
    free(arena);
    return 0;
}
