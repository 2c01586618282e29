/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_ring.c - libFuzzer target for what a reader does with a
 * slot it does not trust: a two-slot segment of real geometry is built in
 * a heap block of exactly its size, the input is copied over one slot's
 * control block, ring and arena, and then the ring consumer
 * (libshm/ring.c), the arena walk (libshm/arena.c), the inline producer
 * and the slot transitions (libshm/slot.c) run on it. Any access outside
 * the block is an AddressSanitizer report; the records the consumer hands
 * out must be exactly the ring's records at tail, tail + 1, ...
 *
 * Input: u8 flags (bit 0: which slot; bits 1-7: records to push), u8 batch
 * size, 256 bytes of slot control block, 1024 bytes of ring (64 records),
 * then up to 4096 bytes of arena. Missing bytes are zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz_seg.h"
#include "shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void consume(struct shmet__seg *s, uint32_t k, size_t max)
{
    const struct shmet_abi_record *ring = shmet__slot_ring(s, k);
    struct shmet_abi_slot *sl = shmet__slot(s, k);
    struct shmet_abi_record *out = malloc(max ? max * sizeof(*out) : 1);
    struct shmet__ring_consumer c;

    if (out == NULL)
        abort();
    if (shmet__ring_used(s, k) > FZ_RING)
        abort();
    shmet__ring_consumer_init(&c, s, k);
    for (int round = 0; round < 4; round++) {
        uint64_t tail = c.tail;
        int n = shmet__ring_consume(&c, out, max);

        if (n == -EBADMSG) {
            if (atomic_load_explicit(&sl->head, memory_order_relaxed) - tail <= FZ_RING)
                abort();
            break;
        }
        if (n < 0 || (size_t)n > max || n > (int)FZ_RING)
            abort();
        if (n == 0)
            break;
        if (c.tail != tail + (uint64_t)n ||
            atomic_load_explicit(&sl->tail, memory_order_relaxed) != c.tail)
            abort();
        for (int j = 0; j < n; j++)
            if (memcmp(&out[j], &ring[(tail + (uint64_t)j) & (FZ_RING - 1)], sizeof(*out)) != 0)
                abort();
    }
    free(out);
}

static void walk_arena(struct shmet__seg *s, uint32_t k)
{
    struct shmet_abi_slot *sl = shmet__slot(s, k);
    uint64_t used = atomic_load_explicit(&sl->arena_used, memory_order_relaxed);
    uint8_t *buf = malloc(SHMET_DEF_MAX);
    struct shmet__def_view v;
    uint64_t pos = 0, before;
    int rc;

    if (buf == NULL)
        abort();
    do {
        before = pos;
        rc = shmet__arena_next(s, k, used, &pos, buf, SHMET_DEF_MAX, &v);
        if (pos > FZ_ARENA || pos < before)
            abort();
    } while (rc != 0 && pos != before);
    free(buf);
}

static void produce(struct shmet__seg *s, uint32_t k, unsigned count)
{
    struct shmet_abi_slot *sl = shmet__slot(s, k);
    uint64_t dropped = atomic_load_explicit(&sl->dropped, memory_order_relaxed), failed = 0;
    struct shmet__ring_producer p;

    shmet__ring_producer_init(&p, s, k);
    for (unsigned i = 0; i < count; i++) {
        uint64_t head = p.head;
        int rc = shmet__ring_push(&p, i, SHMET_OP_COUNTER_ADD, 0, 1.0);

        if (rc == 0 && (p.head != head + 1 || p.head - p.tail_cache > FZ_RING))
            abort();
        failed += rc != 0;
    }
    if (atomic_load_explicit(&sl->dropped, memory_order_relaxed) != dropped + failed)
        abort();
}

static void transitions(struct shmet__seg *s, uint32_t k)
{
    struct shmet_abi_slot *sl = shmet__slot(s, k);
    uint32_t state = atomic_load_explicit(&sl->state, memory_order_relaxed);
    uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed), idx, g;
    struct shmet__owner o = {.pid = 1, .tid = 1, .start_time = 1};
    int rc;

    if (shmet__slot_retire(s, FZ_SLOTS, gen) != -EINVAL ||
        shmet__slot_free(s, UINT32_MAX, gen) != -EINVAL)
        abort();
    rc = shmet__slot_retire(s, k, gen);
    if (rc != (state == SHMET_SLOT_ACTIVE ? 0 : -ESTALE))
        abort();
    rc = shmet__slot_free(s, k, gen);
    if (rc != 0 && rc != -ESTALE && rc != -EBUSY)
        abort();
    rc = shmet__slot_claim(s, &o, k, &idx, &g);
    if (rc == 0) {
        sl = shmet__slot(s, idx);
        if (idx >= FZ_SLOTS || g == 0 ||
            atomic_load_explicit(&sl->state, memory_order_relaxed) != SHMET_SLOT_ACTIVE ||
            atomic_load_explicit(&sl->head, memory_order_relaxed) != 0 ||
            atomic_load_explicit(&sl->tail, memory_order_relaxed) != 0)
            abort();
    } else if (rc != -EAGAIN) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shmet__geometry g = {FZ_SLOTS, FZ_RING, FZ_ARENA};
    uint64_t bytes = fz_seg_size(&g);
    uint8_t *mem = aligned_alloc(64, bytes);
    struct shmet__seg s;
    size_t pos = 2;
    uint32_t k;

    if (mem == NULL || fz_seg_init(&s, mem, &g) != 0 || s.size != bytes)
        abort();
    if (size < 2) {
        free(mem);
        return 0;
    }
    k = data[0] & 1u;
    fz_seg_lay_slot(&s, k, data, size, &pos);

    consume(&s, k, data[1] % (FZ_RING + 16u));
    walk_arena(&s, k);
    produce(&s, k, data[0] >> 1);
    consume(&s, k, FZ_RING);
    transitions(&s, k);
    free(mem);
    return 0;
}
