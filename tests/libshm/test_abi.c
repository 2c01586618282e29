/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_abi.c - the shared-memory layout of include/shmetrics/abi.h
 * checked again at run time: the _Static_asserts pin it for the compiler
 * that builds libshm, these tests pin it for whatever compiler and flags
 * built this binary, and check what a static assert cannot see (lock-free
 * atomics on real objects in a real segment, cache-line placement of the
 * producer's and the consumer's fields, the geometry arithmetic).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"
#include "t_util.h"

#define LINE 64u

static void test_abi_header_layout(void)
{
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, magic), 0);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, abi_major), 8);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, abi_minor), 10);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, header_size), 12);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, segment_size), 16);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, slots), 24);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, ring_records), 28);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, arena_bytes), 32);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, slot_size), 36);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, data_offset), 40);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, slot_stride), 48);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, created_ns), 56);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, aggregator_pid), 64);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, reserved0), 68);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, heartbeat_ns), 72);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, noslot_dropped), 80);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, noslot_events), 88);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, listen_seq), 96);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, listen_meta), 100);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, listen_addr), 104);
    CU_ASSERT_EQUAL(sizeof(((struct shmet_abi_header *)0)->listen_addr), 16);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_header, reserved), 120);
    CU_ASSERT_EQUAL(sizeof(((struct shmet_abi_header *)0)->reserved), 136);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_header), 256);
}

static void test_abi_header_magic_bytes(void)
{
    uint64_t magic = SHMET_ABI_MAGIC;

    /* Native byte order; on the little-endian hosts we support the magic
     * reads "SHMETRIC" in a hex dump of the segment. */
    if (*(const uint8_t *)&(uint16_t){1} == 1)
        CU_ASSERT_EQUAL(memcmp(&magic, "SHMETRIC", 8), 0);
    CU_ASSERT_EQUAL(SHMET_ABI_MAJOR, 1);
}

static void test_abi_slot_layout(void)
{
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, state), 0);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, generation), 4);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, pid), 8);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, tid), 12);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, start_time), 16);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, claimed_ns), 24);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, flags), 32);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, claimer), 36);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, lock_gen), 40);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, lock_claimer), 44);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, pid_ns), 48);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, reserved1), 56);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, head), 64);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, dropped), 72);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, arena_used), 80);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, defines), 88);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, arena_dropped), 96);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, reserved2), 104);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, tail), 128);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, reserved3), 136);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_slot, reserved4), 192);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_slot), 256);
}

/* The producer's fields (head..arena_dropped), the consumer's (tail) and
 * the ownership fields each live on their own 64-byte line. */
static void test_abi_slot_cache_lines(void)
{
    size_t own_first = offsetof(struct shmet_abi_slot, state) / LINE;
    size_t own_last = (offsetof(struct shmet_abi_slot, flags) + 3) / LINE;
    size_t prod_first = offsetof(struct shmet_abi_slot, head) / LINE;
    size_t prod_last = (offsetof(struct shmet_abi_slot, arena_dropped) + 7) / LINE;
    size_t cons = offsetof(struct shmet_abi_slot, tail) / LINE;

    CU_ASSERT_EQUAL(own_first, 0);
    CU_ASSERT_EQUAL(own_last, 0);
    CU_ASSERT_EQUAL(prod_first, 1);
    CU_ASSERT_EQUAL(prod_last, 1);
    CU_ASSERT_EQUAL(cons, 2);
    CU_ASSERT_EQUAL((offsetof(struct shmet_abi_slot, tail) + 7) / LINE, 2);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_slot) % LINE, 0);
    CU_ASSERT_EQUAL(_Alignof(struct shmet_abi_slot) <= LINE, 1);
}

static void test_abi_record_layout(void)
{
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_record, series), 0);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_record, op), 4);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_record, aux), 6);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_record, value), 8);
    CU_ASSERT_EQUAL(sizeof(((struct shmet_abi_record *)0)->value), 8);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_record), 16);
    /* Four records per cache line, none straddling two. */
    CU_ASSERT_EQUAL(LINE % sizeof(struct shmet_abi_record), 0);
}

static void test_abi_def_layout(void)
{
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def, size), 0);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def, kind), 4);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def, nstrings), 6);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def, id), 8);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def, family), 12);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_def), 16);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, type), 0);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, gauge_mode), 1);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, nlabels), 2);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, nbounds), 4);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, overflow_series), 8);
    CU_ASSERT_EQUAL(offsetof(struct shmet_abi_def_family, reserved), 12);
    CU_ASSERT_EQUAL(sizeof(struct shmet_abi_def_family), 16);
}

/* The enum values are part of the format: they are stored in the segment. */
static void test_abi_constants(void)
{
    CU_ASSERT_EQUAL(SHMET_SLOT_FREE, 0);
    CU_ASSERT_EQUAL(SHMET_SLOT_CLAIMING, 1);
    CU_ASSERT_EQUAL(SHMET_SLOT_ACTIVE, 2);
    CU_ASSERT_EQUAL(SHMET_SLOT_DEAD, 3);
    CU_ASSERT_EQUAL(SHMET_OP_DEFINE, 1);
    CU_ASSERT_EQUAL(SHMET_OP_COUNTER_ADD, 2);
    CU_ASSERT_EQUAL(SHMET_OP_GAUGE_SET, 3);
    CU_ASSERT_EQUAL(SHMET_OP_GAUGE_ADD, 4);
    CU_ASSERT_EQUAL(SHMET_OP_OBSERVE, 5);
    CU_ASSERT_EQUAL(SHMET_DEF_FAMILY, 1);
    CU_ASSERT_EQUAL(SHMET_DEF_SERIES, 2);
    CU_ASSERT_EQUAL(SHMET_TYPE_COUNTER, 1);
    CU_ASSERT_EQUAL(SHMET_TYPE_GAUGE, 2);
    CU_ASSERT_EQUAL(SHMET_TYPE_HISTOGRAM, 3);
    CU_ASSERT_EQUAL(SHMET_GAUGE_SUM, 0);
    CU_ASSERT_EQUAL(SHMET_GAUGE_MAX, 1);
    CU_ASSERT_EQUAL(SHMET_GAUGE_MIN, 2);
    CU_ASSERT_EQUAL(SHMET_GAUGE_LAST, 3);
}

static void test_abi_atomics_lock_free_types(void)
{
    CU_ASSERT_EQUAL(ATOMIC_LLONG_LOCK_FREE, 2);
    CU_ASSERT_EQUAL(ATOMIC_INT_LOCK_FREE, 2);
    CU_ASSERT_EQUAL(sizeof(_Atomic uint64_t), 8);
    CU_ASSERT_EQUAL(sizeof(_Atomic uint32_t), 4);
    CU_ASSERT_EQUAL(sizeof(_Atomic int32_t), 4);
}

/* Lock-freedom of the actual objects, in a real mapped segment (an object
 * that is not lock-free would use a process-local lock: unsafe across
 * processes). */
static void test_abi_atomics_lock_free_in_segment(void)
{
    struct shmet__geometry g = {2, 64, 4096};
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
    char ns[64];

    t_ns(ns, sizeof(ns), "abi");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &seg), 0);
    CU_ASSERT_TRUE(atomic_is_lock_free(&seg.hdr->aggregator_pid));
    CU_ASSERT_TRUE(atomic_is_lock_free(&seg.hdr->heartbeat_ns));
    CU_ASSERT_TRUE(atomic_is_lock_free(&seg.hdr->noslot_dropped));
    CU_ASSERT_TRUE(atomic_is_lock_free(&seg.hdr->noslot_events));
    for (uint32_t i = 0; i < seg.slots; i++) {
        sl = shmet__slot(&seg, i);
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->state));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->generation));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->pid));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->start_time));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->head));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->dropped));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->arena_used));
        CU_ASSERT_TRUE(atomic_is_lock_free(&sl->tail));
    }
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

/* Where things are in a real segment: slot table right after the header,
 * every slot on its own lines, rings page-aligned, arenas right after the
 * ring, strides a multiple of 64. */
static void test_abi_segment_placement(void)
{
    struct shmet__geometry g = {3, 128, 8192};
    struct shmet__seg seg;
    uintptr_t base;
    char ns[64];

    t_ns(ns, sizeof(ns), "abi");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &seg), 0);
    base = (uintptr_t)seg.base;
    CU_ASSERT_EQUAL(base % 4096, 0);
    CU_ASSERT_EQUAL(seg.data_offset, 4096);
    CU_ASSERT_EQUAL(seg.slot_stride, 128 * 16 + 8192);
    CU_ASSERT_EQUAL(seg.slot_stride % LINE, 0);
    CU_ASSERT_EQUAL(seg.size, 4096 + 3 * (128 * 16 + 8192));
    CU_ASSERT_EQUAL(seg.hdr->header_size, sizeof(struct shmet_abi_header));
    CU_ASSERT_EQUAL(seg.hdr->slot_size, sizeof(struct shmet_abi_slot));
    for (uint32_t i = 0; i < 3; i++) {
        uintptr_t sl = (uintptr_t)shmet__slot(&seg, i);
        uintptr_t ring = (uintptr_t)shmet__slot_ring(&seg, i);
        uintptr_t arena = (uintptr_t)shmet__slot_arena(&seg, i);

        CU_ASSERT_EQUAL(sl - base, 256 + 256 * i);
        CU_ASSERT_EQUAL(sl % LINE, 0);
        CU_ASSERT_EQUAL(ring - base, 4096 + i * seg.slot_stride);
        CU_ASSERT_EQUAL(ring % LINE, 0);
        CU_ASSERT_EQUAL(arena - ring, 128 * 16);
        CU_ASSERT_EQUAL(arena % 8, 0);
        CU_ASSERT_TRUE(arena + seg.arena_bytes <= base + seg.size);
    }
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

/* Defaults from docs/ARCHITECTURE.md ("The ABI"): 64 slots, 16384 records,
 * 256 KiB arena; the size is data_offset + slots * stride with the table
 * rounded to a page. */
static void test_abi_default_geometry_size(void)
{
    struct shmet__geometry g = {SHMET_DEFAULT_SLOTS, SHMET_DEFAULT_RING_RECORDS,
                                SHMET_DEFAULT_ARENA_BYTES};
    uint64_t data_offset = 0;

    CU_ASSERT_EQUAL(SHMET_DEFAULT_SLOTS, 64);
    CU_ASSERT_EQUAL(SHMET_DEFAULT_RING_RECORDS, 16384);
    CU_ASSERT_EQUAL(SHMET_DEFAULT_ARENA_BYTES, 262144);
    CU_ASSERT_EQUAL(shmet__geometry_check(&g), 0);
    CU_ASSERT_EQUAL(shmet__geometry_size(&g, &data_offset), 20480 + 64 * 524288);
    CU_ASSERT_EQUAL(data_offset, 20480); /* 256 + 64 * 256 = 16640, rounded up */
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_abi_header_layout", test_abi_header_layout},
        {"test_abi_header_magic_bytes", test_abi_header_magic_bytes},
        {"test_abi_slot_layout", test_abi_slot_layout},
        {"test_abi_slot_cache_lines", test_abi_slot_cache_lines},
        {"test_abi_record_layout", test_abi_record_layout},
        {"test_abi_def_layout", test_abi_def_layout},
        {"test_abi_constants", test_abi_constants},
        {"test_abi_atomics_lock_free_types", test_abi_atomics_lock_free_types},
        {"test_abi_atomics_lock_free_in_segment", test_abi_atomics_lock_free_in_segment},
        {"test_abi_segment_placement", test_abi_segment_placement},
        {"test_abi_default_geometry_size", test_abi_default_geometry_size},
    };

    return T_RUN("abi", tests);
}
