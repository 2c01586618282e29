/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fz_seg.h - a segment of real geometry in ordinary memory, for
 * the fuzz targets and the seed generator: the header is written by the
 * creator's own shmet__header_init() and validated by shmet__header_check(),
 * so the geometry the code under test sees is exactly that of a mapped
 * segment.
 */
#ifndef SHMETRICS_TESTS_FZ_SEG_H
#define SHMETRICS_TESTS_FZ_SEG_H

#include <string.h>

#include "shm.h"

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

#endif /* SHMETRICS_TESTS_FZ_SEG_H */
