/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_header.c - libFuzzer target for the segment header
 * validator, shmet__header_check() (libshm/segment.c): whatever the header
 * bytes and the object size, it returns 0 or one of the four segment
 * errors, and a header it accepts describes a geometry within the limits
 * that fits the object exactly.
 *
 * Input: i64 size delta, then up to 256 header bytes (zero-filled). The
 * object size given to the check is header.segment_size + delta, so that
 * delta 0 reaches the deep checks without guessing a 64-bit size.
 *
 * The same bytes also feed the published-endpoint reader (libshm/
 * endpoint.c): it returns 0 only for a well-formed address, which then
 * formats into a bounded "HOST:PORT", or one of its three errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct shmet__seg *s, uint64_t objsize)
{
    struct shmet__geometry g = {s->slots, s->ring_records, s->arena_bytes};
    uint64_t data_offset;

    if (shmet__geometry_check(&g) != 0)
        abort();
    if (shmet__geometry_size(&g, &data_offset) != s->size || data_offset != s->data_offset)
        abort();
    if (s->size != objsize || s->size > SHMET_SEGMENT_MAX)
        abort();
    if (s->data_offset % 4096 != 0 ||
        s->data_offset <
            sizeof(struct shmet_abi_header) + (uint64_t)s->slots * sizeof(struct shmet_abi_slot))
        abort();
    if (s->slot_stride !=
            (uint64_t)s->ring_records * sizeof(struct shmet_abi_record) + s->arena_bytes ||
        s->slot_stride % 64 != 0)
        abort();
    /* The last slot's arena ends inside the object. */
    if (s->data_offset + (uint64_t)s->slots * s->slot_stride > objsize)
        abort();
}

static void check_endpoint(const struct shmet_abi_header *h)
{
    struct shmet__endpoint e;
    char buf[64];
    int rc = shmet__endpoint_read(h, &e), n;

    if (rc == -ENOENT || rc == -EBADMSG || rc == -EAGAIN)
        return;
    if (rc != 0 || (e.family != SHMET_LISTEN_IPV4 && e.family != SHMET_LISTEN_IPV6) || e.port == 0)
        abort();
    n = shmet__endpoint_format(&e, buf, sizeof(buf));
    if (n <= 0 || (size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n)
        abort();
    (void)shmet__aggregator_live(h, (uint64_t)e.port << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shmet_abi_header h;
    struct shmet__seg seg;
    uint64_t delta, objsize;
    int rc;

    if (size < sizeof(delta))
        return 0;
    memcpy(&delta, data, sizeof(delta));
    memset(&h, 0, sizeof(h));
    size -= sizeof(delta);
    memcpy(&h, data + sizeof(delta), size < sizeof(h) ? size : sizeof(h));
    objsize = h.segment_size + delta;
    memset(&seg, 0, sizeof(seg));
    check_endpoint(&h);
    rc = shmet__header_check(&h, objsize, &seg);
    if (rc == 0)
        check_accepted(&seg, objsize);
    else if (rc != SHMET_E_TRUNCATED && rc != SHMET_E_NOTSEG && rc != SHMET_E_ABI &&
             rc != SHMET_E_GEOMETRY)
        abort();
    /* Sizes below a header are refused whatever the header says. */
    if (shmet__header_check(&h, objsize % sizeof(h), &seg) != SHMET_E_TRUNCATED)
        abort();
    return 0;
}
