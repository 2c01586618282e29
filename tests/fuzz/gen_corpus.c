/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/gen_corpus.c - writes the seed corpora of the fuzz targets
 * (tests/fuzz/corpus/<target>/): valid inputs made with libshm's own
 * writers, plus a few with one thing broken. The seeds are committed; run
 * this again after a format change:  fuzz_gen_corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fz_seg.h"
#include "shm.h"

static const char *g_root;

static void put(const char *target, const char *name, const void *a, size_t alen, const void *b,
                size_t blen)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", g_root, target);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", g_root, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
        fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- header: i64 size delta, then the header --------------------------- */

static void header_seed(const char *name, const struct shmet__geometry *g, int64_t delta,
                        void (*edit)(struct shmet_abi_header *), size_t hdrlen)
{
    uint8_t *mem = aligned_alloc(64, fz_seg_size(g));
    struct shmet__seg s;

    if (mem == NULL || fz_seg_init(&s, mem, g) != 0)
        exit(1);
    if (edit != NULL)
        edit(s.hdr);
    put("header", name, &delta, sizeof(delta), mem, hdrlen);
    free(mem);
}

static void bad_magic(struct shmet_abi_header *h)
{
    h->magic ^= 0xff;
}

static void abi_major_2(struct shmet_abi_header *h)
{
    h->abi_major = 2;
}

static void minor_9(struct shmet_abi_header *h)
{
    h->abi_minor = 9;
}

static void ring_100(struct shmet_abi_header *h)
{
    h->ring_records = 100;
}

static void listen_v6(struct shmet_abi_header *h)
{
    struct shmet__endpoint e = {.family = SHMET_LISTEN_IPV6, .port = 9477};

    e.addr[15] = 1;
    shmet__endpoint_publish(h, &e);
}

static void gen_header(void)
{
    struct shmet__geometry small = {1, 64, 4096}, def = {64, 16384, 262144};
    const size_t full = sizeof(struct shmet_abi_header);

    header_seed("valid_small", &small, 0, NULL, full);
    header_seed("valid_default", &def, 0, NULL, full);
    header_seed("truncated", &small, -1, NULL, full);
    header_seed("oversized", &small, 4096, NULL, full);
    header_seed("bad_magic", &small, 0, bad_magic, full);
    header_seed("abi_major_2", &small, 0, abi_major_2, full);
    header_seed("abi_minor_9", &small, 0, minor_9, full);
    header_seed("ring_not_pow2", &small, 0, ring_100, full);
    header_seed("short_header", &small, 0, NULL, 100);
    header_seed("listen_v6", &small, 0, listen_v6, full);
}

/* ---- arena: u32 offset, u32 buffer size, then the arena ------------------ */

struct scratch {
    uint8_t *mem;
    struct shmet__seg s;
};

static void scratch_open(struct scratch *sc)
{
    struct shmet__geometry g = {1, 64, 4096};

    sc->mem = aligned_alloc(64, fz_seg_size(&g));
    if (sc->mem == NULL || fz_seg_init(&sc->s, sc->mem, &g) != 0)
        exit(1);
}

static uint64_t scratch_used(struct scratch *sc)
{
    return atomic_load_explicit(&shmet__slot(&sc->s, 0)->arena_used, memory_order_relaxed);
}

static void must(int rc)
{
    if (rc != 0) {
        fprintf(stderr, "gen_corpus: writer failed: %d\n", rc);
        exit(1);
    }
}

/* A counter with two labels, a histogram with bounds, and series. */
static uint64_t fill_arena(struct scratch *sc, uint64_t *second)
{
    static const char *const labels[] = {"method", "status"};
    static const char *const route[] = {"route"};
    static const double bounds[] = {0.005, 0.1, 1.0, 10.0};
    static const char *const v1[] = {"GET", "200"};
    static const char *const v2[] = {"quote \" back\\ nl\n", "\xe2\x82\xac\xf0\x9f\x98\x80"};
    static const char *const v3[] = {"/users/{id}"};
    struct shmet__family_def c = {.id = 1,
                                  .type = SHMET_TYPE_COUNTER,
                                  .overflow_series = 2,
                                  .name = "http_requests_total",
                                  .help = "Requests.",
                                  .labels = labels,
                                  .nlabels = 2};
    struct shmet__family_def h = {.id = 2,
                                  .type = SHMET_TYPE_HISTOGRAM,
                                  .overflow_series = 5,
                                  .name = "latency_seconds",
                                  .help = "Latency.",
                                  .labels = route,
                                  .nlabels = 1,
                                  .bounds = bounds,
                                  .nbounds = 4};
    struct shmet__family_def gauge = {.id = 3,
                                      .type = SHMET_TYPE_GAUGE,
                                      .gauge_mode = SHMET_GAUGE_MAX,
                                      .name = "in_progress",
                                      .help = ""};
    uint64_t off;

    must(shmet__arena_put_family(&sc->s, 0, &c, &off));
    must(shmet__arena_put_series(&sc->s, 0, 3, 1, v1, 2, second));
    must(shmet__arena_put_series(&sc->s, 0, 4, 1, v2, 2, &off));
    must(shmet__arena_put_family(&sc->s, 0, &h, &off));
    must(shmet__arena_put_series(&sc->s, 0, 6, 2, v3, 1, &off));
    must(shmet__arena_put_family(&sc->s, 0, &gauge, &off));
    must(shmet__arena_put_series(&sc->s, 0, 7, 3, NULL, 0, &off));
    return scratch_used(sc);
}

static void arena_seed(const char *name, uint32_t off, uint32_t cap, const uint8_t *arena,
                       uint64_t used)
{
    uint32_t pre[2] = {off, cap};

    put("arena", name, pre, sizeof(pre), arena, (size_t)used);
}

static void gen_arena(void)
{
    static const char *const bad[] = {"\xff\xfe"};
    struct scratch sc;
    uint8_t *arena;
    uint64_t used, second;
    uint16_t kind = 9;
    uint32_t size = 12;

    scratch_open(&sc);
    arena = shmet__slot_arena(&sc.s, 0);
    used = fill_arena(&sc, &second);
    arena_seed("definitions", (uint32_t)second, SHMET_DEF_MAX, arena, used);
    arena_seed("small_buffer", 0, 64, arena, used);
    arena_seed("offset_past_end", (uint32_t)used + 8, SHMET_DEF_MAX, arena, used);
    arena_seed("cut_short", 0, SHMET_DEF_MAX, arena, used - 5);
    /* A bad-but-sized entry and then an insane size. */
    must(shmet__arena_put_series(&sc.s, 0, 8, 1, bad, 1, &second));
    used = scratch_used(&sc);
    must(shmet__arena_put_series(&sc.s, 0, 9, 1, NULL, 0, &second));
    memcpy(arena + second + 4, &kind, sizeof(kind));
    must(shmet__arena_put_series(&sc.s, 0, 10, 1, NULL, 0, &second));
    memcpy(arena + second, &size, sizeof(size));
    arena_seed("hostile_tail", 0, SHMET_DEF_MAX, arena, scratch_used(&sc));
    free(sc.mem);
}

/* ---- ring: flags, batch, slot, ring, arena ------------------------------- */

static void ring_seed(const char *name, uint8_t flags, uint8_t batch, uint32_t state, uint64_t head,
                      uint64_t tail, int with_arena)
{
    uint8_t in[2 + sizeof(struct shmet_abi_slot) + 64 * sizeof(struct shmet_abi_record)];
    struct shmet_abi_record ring[64];
    struct shmet_abi_slot slot;
    struct scratch sc;
    uint64_t used = 0, second;

    memset(&slot, 0, sizeof(slot));
    /* RELAXED: a local copy, written by this thread only. */
    atomic_store_explicit(&slot.state, state, memory_order_relaxed);
    atomic_store_explicit(&slot.generation, 3, memory_order_relaxed);
    atomic_store_explicit(&slot.pid, 1, memory_order_relaxed);
    atomic_store_explicit(&slot.tid, 1, memory_order_relaxed);
    atomic_store_explicit(&slot.head, head, memory_order_relaxed);
    atomic_store_explicit(&slot.tail, tail, memory_order_relaxed);
    for (uint32_t i = 0; i < 64; i++)
        ring[i] = (struct shmet_abi_record){
            .series = i, .op = SHMET_OP_COUNTER_ADD, .value.f = (double)i};
    scratch_open(&sc);
    if (with_arena) {
        used = fill_arena(&sc, &second);
        atomic_store_explicit(&slot.arena_used, used, memory_order_relaxed);
        ring[0] = (struct shmet_abi_record){.op = SHMET_OP_DEFINE, .aux = SHMET_DEF_FAMILY};
    }
    in[0] = flags;
    in[1] = batch;
    memcpy(in + 2, &slot, sizeof(slot));
    memcpy(in + 2 + sizeof(slot), ring, sizeof(ring));
    put("ring", name, in, sizeof(in), shmet__slot_arena(&sc.s, 0), (size_t)used);
    free(sc.mem);
}

static void gen_ring(void)
{
    const uint64_t top = UINT64_MAX - 3;

    ring_seed("active_with_defs", 0 | (10 << 1), 16, SHMET_SLOT_ACTIVE, 5, 0, 1);
    ring_seed("empty_free_slot1", 1, 8, SHMET_SLOT_FREE, 0, 0, 0);
    ring_seed("dead_empty", 0, 64, SHMET_SLOT_DEAD, 40, 40, 0);
    ring_seed("dead_pending", 0, 7, SHMET_SLOT_DEAD, 40, 30, 0);
    ring_seed("full_then_push", 3 << 1, 64, SHMET_SLOT_ACTIVE, 64 + 100, 100, 0);
    ring_seed("wrap_u64", 70 << 1, 5, SHMET_SLOT_ACTIVE, top + 10, top, 0);
    ring_seed("head_behind_tail", 2 << 1, 64, SHMET_SLOT_ACTIVE, 99, 100, 0);
    ring_seed("head_too_far", 2 << 1, 64, SHMET_SLOT_ACTIVE, 165, 100, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    if (mkdir(g_root, 0755) < 0 && errno != EEXIST) {
        perror(g_root);
        return 1;
    }
    gen_header();
    gen_arena();
    gen_ring();
    return 0;
}
