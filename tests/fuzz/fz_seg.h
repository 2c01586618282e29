/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fz_seg.h - a segment of real geometry in ordinary memory, for
 * the fuzz targets and the seed generator: the header is written by the
 * creator's own shmet__header_init() and validated by shmet__header_check(),
 * so the geometry the code under test sees is exactly that of a mapped
 * segment. Also the one way the targets lay their input over a slot.
 */
#ifndef SHMETRICS_TESTS_FZ_SEG_H
#define SHMETRICS_TESTS_FZ_SEG_H

#include <string.h>

#include "shm.h"

/* The geometry of the targets that fuzz a slot (fuzz_ring, fuzz_drain) and
 * of their seeds: two slots, and the smallest ring (64 records) and arena
 * (4 KiB) the ABI allows. */
#define FZ_SLOTS 2u
#define FZ_RING 64u
#define FZ_ARENA 4096u

/* Bytes needed for geometry g (already valid). */
static inline uint64_t fz_seg_size(const struct shmet__geometry *g)
{
    uint64_t data_offset;

    return shmet__geometry_size(g, &data_offset);
}

/* Zero mem (fz_seg_size(g) bytes, 64-aligned), write a valid header and
 * fill *s. Returns 0 or the header_check error. */
static inline int fz_seg_init(struct shmet__seg *s, uint8_t *mem, const struct shmet__geometry *g)
{
    struct shmet_abi_header *h = (struct shmet_abi_header *)mem;
    uint64_t size = fz_seg_size(g);
    int rc;

    memset(mem, 0, size);
    shmet__header_init(h, g, 0); /* 0: the seeds stay the same run to run */
    memset(s, 0, sizeof(*s));
    rc = shmet__header_check(h, size, s);
    if (rc < 0)
        return rc;
    s->base = mem;
    s->hdr = h;
    return 0;
}

/* Copy up to len bytes of the input at *pos to dst, advancing *pos; the
 * rest of dst keeps what it held (zero, in a fresh segment). */
static inline void fz_take(const uint8_t *data, size_t size, size_t *pos, void *dst, size_t len)
{
    size_t n = *pos < size ? size - *pos : 0;

    if (n > len)
        n = len;
    if (n > 0) /* data may be NULL when size is 0 */
        memcpy(dst, data + *pos, n);
    *pos += n;
}

/* Lay the input at *pos over slot k as it is in a segment: its control
 * block, then its ring, then its arena, as far as the input goes. */
static inline void fz_seg_lay_slot(struct shmet__seg *s, uint32_t k, const uint8_t *data,
                                   size_t size, size_t *pos)
{
    fz_take(data, size, pos, shmet__slot(s, k), sizeof(struct shmet_abi_slot));
    fz_take(data, size, pos, shmet__slot_ring(s, k),
            (size_t)s->ring_records * sizeof(struct shmet_abi_record));
    fz_take(data, size, pos, shmet__slot_arena(s, k), s->arena_bytes);
}

#endif /* SHMETRICS_TESTS_FZ_SEG_H */
