/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/gen_corpus.c - writes the seed corpora of the fuzz targets
 * (tests/fuzz/corpus/<target>/): valid inputs made with libshm's own
 * writers, plus a few with one thing broken; the drain's also from the
 * client library itself, run into a segment of the targets' geometry. The
 * seeds are committed; run this again after a format change:
 *   fuzz_gen_corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shmetrics.h>

#include "fz_drain.h"
#include "fz_seg.h"
#include "shm.h"
#include "store/store.h" /* STORE_DEFS_MAX */

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

/* ---- drain: flags, cap, commands, then one slot -------------------------- */

/* A slot as fz_seg_lay_slot() takes it; the arena up to what is used. */
struct slot_image {
    struct shmet_abi_slot slot;
    struct shmet_abi_record ring[FZ_RING];
    uint8_t arena[FZ_ARENA];
    uint64_t used;
};

static void image_of(const struct shmet__seg *s, uint32_t k, struct slot_image *img)
{
    memcpy(&img->slot, shmet__slot(s, k), sizeof(img->slot));
    memcpy(img->ring, shmet__slot_ring(s, k), sizeof(img->ring));
    memcpy(img->arena, shmet__slot_arena(s, k), sizeof(img->arena));
    /* RELAXED: a local copy, read by this thread only. */
    img->used = atomic_load_explicit(&img->slot.arena_used, memory_order_relaxed);
    if (img->used > FZ_ARENA)
        img->used = FZ_ARENA;
}

static void drain_seed(const char *name, uint8_t flags, uint8_t cap, const struct fz_cmd *cmds,
                       size_t ncmds, const struct slot_image *img)
{
    uint8_t in[2 + FZ_CMDS * sizeof(struct fz_cmd) + sizeof(img->slot) + sizeof(img->ring)];
    uint8_t *p = in + 2;

    if (ncmds > FZ_CMDS)
        exit(1);
    memset(in, 0, sizeof(in));
    in[0] = flags;
    in[1] = cap;
    if (ncmds > 0) /* cmds may be NULL then */
        memcpy(p, cmds, ncmds * sizeof(*cmds));
    p += FZ_CMDS * sizeof(*cmds);
    memcpy(p, &img->slot, sizeof(img->slot));
    memcpy(p + sizeof(img->slot), img->ring, sizeof(img->ring));
    put("drain", name, in, sizeof(in), img->arena, (size_t)img->used);
}

/* The bits of v, as a record's value field holds them. */
static uint64_t f64(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return u;
}

/* From the client library: a recording run's slot, and the series ids the
 * run used (the commands name them). */
typedef void (*record_fn)(struct shmet_client *c, uint32_t *ids);

/* Run record with a client on a fresh segment of the targets' geometry
 * and copy the slot this thread claimed. The owner's identity (pid,
 * start time, claim time) is made constant, so that the seeds come out
 * the same run to run; the drain reads none of it. */
static void client_image(record_fn record, struct slot_image *img, uint32_t *ids)
{
    struct shmet_options o = {.slots = FZ_SLOTS, .ring_records = FZ_RING, .arena_bytes = FZ_ARENA};
    struct shmet_client *c;
    struct shmet__seg seg;
    char ns[64];
    uint32_t k = 0;

    snprintf(ns, sizeof(ns), "fuzz_gen_%d", (int)getpid());
    o.ns = ns;
    (void)shmet__seg_unlink(ns);
    must(shmet_open(&o, &c));
    record(c, ids);
    must(shmet__seg_open(ns, NULL, 0, 0, &seg));
    while (k < seg.slots && atomic_load(&shmet__slot(&seg, k)->pid) != getpid())
        k++;
    if (k == seg.slots)
        exit(1);
    image_of(&seg, k, img);
    /* RELAXED: a local copy, written by this thread only. */
    atomic_store_explicit(&img->slot.pid, 1000, memory_order_relaxed);
    atomic_store_explicit(&img->slot.tid, 1000, memory_order_relaxed);
    atomic_store_explicit(&img->slot.start_time, 1, memory_order_relaxed);
    atomic_store_explicit(&img->slot.claimed_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&img->slot.pid_ns, 0, memory_order_relaxed);
    shmet__seg_close(&seg);
    shmet_close(c);
    (void)shmet__seg_unlink(ns);
}

static void rec_counter(struct shmet_client *c, uint32_t *ids)
{
    static const char *const labels[] = {"method", "code", NULL};
    struct shmet_family *f;
    struct shmet_series a, b;

    must(shmet_counter(c, "http_requests_total", "Requests served.", labels, &f));
    must(shmet_series_get(f, (const char *[]){"GET", "200"}, &a));
    must(shmet_series_get(f, (const char *[]){"POST", "500"}, &b));
    shmet_inc(a);
    shmet_add(b, 2.5);
    shmet_inc(a);
    ids[0] = a.id;
    ids[1] = b.id;
}

static void rec_histogram(struct shmet_client *c, uint32_t *ids)
{
    static const char *const labels[] = {"route", NULL};
    static const double bounds[] = {0.005, 0.1, 1, 10};
    struct shmet_family *f;
    struct shmet_series a, b;

    must(shmet_histogram(c, "request_seconds", "Latency \\ of \"requests\".", labels, bounds, 4,
                         &f));
    must(shmet_series_get(f, (const char *[]){"/users/{id}"}, &a));
    must(shmet_series_get(f, (const char *[]){"/"}, &b));
    shmet_observe(a, 0.003);
    shmet_observe(a, 0.1);
    shmet_observe(a, 0.7);
    shmet_observe(a, 42);
    shmet_observe(b, -1);
    ids[0] = a.id;
    ids[1] = b.id;
}

static void rec_gauges(struct shmet_client *c, uint32_t *ids)
{
    static const char *const pool[] = {"pool", NULL};
    struct shmet_family *sum, *max, *last;
    struct shmet_series a, b, t;

    must(shmet_gauge(c, "in_flight", "Requests in flight.", NULL, SHMET_GAUGE_SUM, &sum));
    must(shmet_gauge(c, "pool_busy", "Busy connections.", pool, SHMET_GAUGE_MAX, &max));
    must(shmet_gauge(c, "temperature", "", NULL, SHMET_GAUGE_LAST, &last));
    must(shmet_series_get(sum, NULL, &a));
    must(shmet_series_get(max, (const char *[]){"db"}, &b));
    must(shmet_series_get(last, NULL, &t));
    shmet_set(a, 3);
    shmet_dec(a);
    shmet_set(b, 7);
    shmet_set(t, 21.5);
    ids[0] = a.id;
    ids[1] = b.id;
    ids[2] = t.id;
}

/* Four users: beyond a cap of one, three fold into __overflow__. */
static void rec_users(struct shmet_client *c, uint32_t *ids)
{
    static const char *const labels[] = {"user", NULL};
    static const char *const users[] = {"ann", "bob", "cy", "dee"};
    struct shmet_family *f;
    struct shmet_series s;

    must(shmet_counter(c, "logins_total", "Logins.", labels, &f));
    for (int i = 0; i < 4; i++) {
        must(shmet_series_get(f, &users[i], &s));
        shmet_inc(s);
        ids[i] = s.id;
    }
}

static void rec_jobs(struct shmet_client *c, uint32_t *ids)
{
    static const char *const labels[] = {"queue", NULL};
    struct shmet_family *f;
    struct shmet_series s;

    must(shmet_counter(c, "jobs_total", "Jobs run.", labels, &f));
    must(shmet_series_get(f, (const char *[]){"mail"}, &s));
    shmet_inc(s);
    shmet_inc(s);
    ids[0] = s.id;
}

/* The 8-aligned word of the arena holding byte at, with that byte set to
 * b: a POKE that changes one byte. */
static struct fz_cmd poke_byte(const struct slot_image *img, uint32_t k, size_t at, uint8_t b)
{
    struct fz_cmd c = {.what = FZ_POKE | (k ? FZ_SLOT1 : 0), .id = (uint32_t)(at & ~(size_t)7)};
    uint8_t word[8];

    memcpy(word, img->arena + c.id, sizeof(word));
    word[at - c.id] = b;
    memcpy(&c.value, word, sizeof(word));
    return c;
}

static void gen_drain_counters(void)
{
    struct slot_image img;
    uint32_t ids[4];

    client_image(rec_counter, &img, ids);
    const struct fz_cmd more[] = {
        {.what = FZ_DRAIN},
        {.what = FZ_PUSH, .op = SHMET_OP_COUNTER_ADD, .id = ids[0], .value = f64(1)},
        {.what = FZ_DRAIN}};
    drain_seed("client_counter", FZ_F_SANE, 7, more, 3, &img);
    drain_seed("client_counter_consts", FZ_F_SANE | FZ_F_CONSTS, 7, more, 3, &img);
    const struct fz_cmd restart[] = {
        {.what = FZ_DRAIN},
        {.what = FZ_GONE},
        {.what = FZ_CLAIM},
        {.what = FZ_PUBLISH, .value = img.used},
        {.what = FZ_DEFINE, .id = 0},
        {.what = FZ_DEFINE, .id = 1},
        {.what = FZ_DEFINE, .id = 2},
        {.what = FZ_PUSH, .op = SHMET_OP_COUNTER_ADD, .id = ids[1], .value = f64(4)},
        {.what = FZ_DRAIN}};
    drain_seed("client_worker_restart", FZ_F_SANE, 7, restart, 9, &img);
    const struct fz_cmd dead[] = {{.what = FZ_STATE, .op = SHMET_SLOT_DEAD, .id = 1}};
    drain_seed("client_dead_pending", 0, 7, dead, 1, &img);
    atomic_store(&img.slot.head, atomic_load(&img.slot.tail) + 3 * FZ_RING);
    drain_seed("client_head_too_far", 0, 7, NULL, 0, &img);
    client_image(rec_users, &img, ids);
    const struct fz_cmd fold[] = {
        {.what = FZ_DRAIN},
        {.what = FZ_PUSH, .op = SHMET_OP_COUNTER_ADD, .id = ids[3], .value = f64(1)}};
    drain_seed("client_cap_fold", FZ_F_SANE, 0, fold, 2, &img);
}

static void gen_drain_client(void)
{
    struct slot_image img;
    uint32_t ids[4];
    uint8_t *q;

    gen_drain_counters();
    client_image(rec_histogram, &img, ids);
    const struct fz_cmd obs[] = {
        {.what = FZ_DRAIN},
        {.what = FZ_PUSH, .op = SHMET_OP_OBSERVE, .id = ids[1], .value = f64(NAN)},
        {.what = FZ_PUSH, .op = SHMET_OP_OBSERVE, .id = ids[0], .value = f64(5)},
        {.what = FZ_FORGET}, /* then read again from the arena's start */
        {.what = FZ_PUSH, .op = SHMET_OP_OBSERVE, .id = ids[1], .value = f64(0.05)}};
    drain_seed("client_histogram", FZ_F_SANE | FZ_F_CONSTS, 7, obs, 5, &img);
    client_image(rec_gauges, &img, ids);
    const struct fz_cmd two[] = {
        {.what = FZ_DRAIN},
        {.what = FZ_PUSH | FZ_SLOT1, .op = SHMET_OP_GAUGE_SET, .id = ids[0], .value = f64(10)},
        {.what = FZ_DRAIN},
        {.what = FZ_GONE | FZ_SLOT1},
        {.what = FZ_RESTORE, .id = ids[1], .value = f64(4)}};
    drain_seed("client_gauges_two_workers", FZ_F_SANE | FZ_F_MIRROR, 7, two, 5, &img);
    /* A rolling deploy: the other worker names the label "queux". */
    client_image(rec_jobs, &img, ids);
    q = memmem(img.arena, (size_t)img.used, "queue", 5);
    if (q == NULL)
        exit(1);
    const struct fz_cmd roll[] = {
        poke_byte(&img, 1, (size_t)(q - img.arena) + 4, 'x'),
        {.what = FZ_PUSH | FZ_SLOT1, .op = SHMET_OP_COUNTER_ADD, .id = ids[0], .value = f64(1)}};
    drain_seed("client_rolling_deploy", FZ_F_SANE | FZ_F_MIRROR, 7, roll, 2, &img);
}

/* ---- drain seeds from libshm's writers, with records pushed by hand ------ */

static void scratch_push(struct scratch *sc, uint32_t id, uint16_t op, uint16_t aux, uint64_t v)
{
    struct shmet__ring_producer p;
    double f;

    memcpy(&f, &v, sizeof(f));
    shmet__ring_producer_init(&p, &sc->s, 0);
    if (shmet__ring_push(&p, id, op, aux, f) != 0)
        exit(1);
}

/* Samples, as a producer records them. */
struct sample {
    uint32_t id;
    uint16_t op;
    double v;
};

static void scratch_samples(struct scratch *sc, const struct sample *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        scratch_push(sc, r[i].id, r[i].op, 0, f64(r[i].v));
}

static void scratch_family(struct scratch *sc, const struct shmet__family_def *f)
{
    uint64_t off;

    must(shmet__arena_put_family(&sc->s, 0, f, &off));
    scratch_push(sc, f->id, SHMET_OP_DEFINE, SHMET_DEF_FAMILY, off);
}

static void scratch_series(struct scratch *sc, uint32_t id, uint32_t fam, const char *const *v,
                           uint16_t n)
{
    uint64_t off;

    must(shmet__arena_put_series(&sc->s, 0, id, fam, v, n, &off));
    scratch_push(sc, id, SHMET_OP_DEFINE, SHMET_DEF_SERIES, off);
}

/* A family definition without help, overflow series, bounds or mode. */
static struct shmet__family_def family_def(uint32_t id, uint8_t type, const char *name,
                                           const char *const *labels, uint16_t nlabels)
{
    return (struct shmet__family_def){
        .id = id, .type = type, .name = name, .help = "", .labels = labels, .nlabels = nlabels};
}

/* Slot 0 of a scratch segment as a producer holds it, as a seed. */
static void scratch_seed(struct scratch *sc, const char *name, uint8_t cap)
{
    struct slot_image img;
    struct shmet_abi_slot *sl = shmet__slot(&sc->s, 0);

    atomic_store(&sl->state, SHMET_SLOT_ACTIVE);
    atomic_store(&sl->generation, 1);
    image_of(&sc->s, 0, &img);
    drain_seed(name, FZ_F_SANE, cap, NULL, 0, &img);
    free(sc->mem);
}

/* Two definitions of one family in one slot (other labels, other help),
 * a series of each with one label set between them, and a third of
 * another type, refused with its records. */
static void gen_drain_two_defs(void)
{
    static const char *const m[] = {"method"}, *const mc[] = {"method", "code"};
    struct shmet__family_def a = family_def(1, SHMET_TYPE_COUNTER, "req_total", m, 1);
    struct shmet__family_def b = family_def(2, SHMET_TYPE_COUNTER, "req_total", mc, 2);
    struct shmet__family_def g = family_def(3, SHMET_TYPE_GAUGE, "req_total", NULL, 0);
    static const struct sample samples[] = {{11, SHMET_OP_COUNTER_ADD, 1},
                                            {21, SHMET_OP_COUNTER_ADD, 2},
                                            {22, SHMET_OP_COUNTER_ADD, 3},
                                            {31, SHMET_OP_GAUGE_SET, 5}};
    struct scratch sc;

    a.help = "Old.";
    a.overflow_series = 10;
    b.help = "New.";
    b.overflow_series = 20;
    scratch_open(&sc);
    scratch_family(&sc, &a);
    scratch_series(&sc, 11, 1, (const char *[]){"GET"}, 1);
    scratch_family(&sc, &b);
    scratch_series(&sc, 21, 2, (const char *[]){"GET", "200"}, 2);
    scratch_series(&sc, 22, 2, (const char *[]){"GET", ""}, 2); /* the label set of 11 */
    scratch_family(&sc, &g);
    scratch_series(&sc, 31, 3, NULL, 0);
    scratch_samples(&sc, samples, sizeof(samples) / sizeof(samples[0]));
    scratch_seed(&sc, "two_defs_and_a_conflict", 7);
}

/* Hostile DEFINEs ahead of the reader: naming the middle of an entry, an
 * entry of the other kind, the end, no kind. Then the declared __overflow__
 * id (a placeholder whatever its values), a user value "__overflow__"
 * (refused), and records: an unknown op, values a counter refuses, an
 * unknown id, an op of another type. */
static void gen_drain_hostile(void)
{
    static const char *const k[] = {"k"};
    struct shmet__family_def f = family_def(1, SHMET_TYPE_COUNTER, "c_total", k, 1);
    const struct sample samples[] = {{3, 9, 1},
                                     {3, SHMET_OP_COUNTER_ADD, -1},
                                     {3, SHMET_OP_COUNTER_ADD, NAN},
                                     {999, SHMET_OP_COUNTER_ADD, 1},
                                     {3, SHMET_OP_OBSERVE, 1},
                                     {2, SHMET_OP_COUNTER_ADD, 1},
                                     {9, SHMET_OP_COUNTER_ADD, 1},
                                     {3, SHMET_OP_COUNTER_ADD, 1}};
    uint64_t fam, ovf, off;
    struct scratch sc;

    f.overflow_series = 9;
    scratch_open(&sc);
    must(shmet__arena_put_family(&sc.s, 0, &f, &fam));
    must(shmet__arena_put_series(&sc.s, 0, 9, 1, (const char *[]){"x"}, 1, &ovf));
    must(shmet__arena_put_series(&sc.s, 0, 2, 1, (const char *[]){SHMET_OVERFLOW_VALUE}, 1, &off));
    scratch_push(&sc, 0, SHMET_OP_DEFINE, SHMET_DEF_SERIES, fam + 4);
    scratch_push(&sc, 0, SHMET_OP_DEFINE, SHMET_DEF_FAMILY, ovf);
    scratch_push(&sc, 0, SHMET_OP_DEFINE, SHMET_DEF_SERIES, off);
    scratch_push(&sc, 0, SHMET_OP_DEFINE, SHMET_DEF_FAMILY, scratch_used(&sc));
    scratch_push(&sc, 0, SHMET_OP_DEFINE, 0, 0);
    scratch_series(&sc, 3, 1, (const char *[]){"a"}, 1);
    scratch_samples(&sc, samples, sizeof(samples) / sizeof(samples[0]));
    scratch_seed(&sc, "overflow_and_hostile_records", 7);
}

/* Definitions of other layouts sharing label sets: a histogram's bounds, a
 * gauge's mode (samples that reach a series of another layout); and
 * one that names a label twice (refused). */
static void gen_drain_layouts(void)
{
    static const char *const r[] = {"r"}, *const aa[] = {"a", "a"};
    static const double b1[] = {1, 2}, b2[] = {1, 5};
    struct shmet__family_def h = family_def(1, SHMET_TYPE_HISTOGRAM, "h_seconds", r, 1);
    struct shmet__family_def g = family_def(3, SHMET_TYPE_GAUGE, "g", r, 1);
    struct shmet__family_def twice = family_def(5, SHMET_TYPE_COUNTER, "t_total", aa, 2);
    struct scratch sc;

    h.nbounds = 2;
    scratch_open(&sc);
    for (uint32_t i = 0; i < 2; i++) {
        h.id = 1 + i;
        h.bounds = i ? b2 : b1;
        scratch_family(&sc, &h);
        scratch_series(&sc, 11 + i, h.id, (const char *[]){"x"}, 1);
        scratch_push(&sc, 11 + i, SHMET_OP_OBSERVE, 0, f64(3));
        g.id = 3 + i;
        g.gauge_mode = i ? SHMET_GAUGE_MIN : SHMET_GAUGE_MAX;
        scratch_family(&sc, &g);
        scratch_series(&sc, 13 + i, g.id, (const char *[]){"x"}, 1);
        scratch_push(&sc, 13 + i, SHMET_OP_GAUGE_SET, 0, f64(2 + i));
    }
    scratch_family(&sc, &twice);
    scratch_series(&sc, 15, 5, (const char *[]){"x", "y"}, 2);
    scratch_push(&sc, 15, SHMET_OP_COUNTER_ADD, 0, f64(1));
    scratch_seed(&sc, "layouts_and_twice_named_label", 7);
}

/* One family defined once more than the store keeps (other help each),
 * a series of the first definition and one of the refused. */
static void gen_drain_def_limit(void)
{
    struct shmet__family_def f = family_def(0, SHMET_TYPE_COUNTER, "many", NULL, 0);
    struct scratch sc;
    char help[8];

    scratch_open(&sc);
    f.help = help;
    for (uint32_t i = 0; i <= STORE_DEFS_MAX; i++) {
        snprintf(help, sizeof(help), "%u", i);
        f.id = i;
        must(shmet__arena_put_family(&sc.s, 0, &f, &(uint64_t){0}));
    }
    must(shmet__arena_put_series(&sc.s, 0, 100, 0, NULL, 0, &(uint64_t){0}));
    must(shmet__arena_put_series(&sc.s, 0, 101, STORE_DEFS_MAX, NULL, 0, &(uint64_t){0}));
    scratch_push(&sc, 100, SHMET_OP_COUNTER_ADD, 0, f64(1));
    scratch_push(&sc, 101, SHMET_OP_COUNTER_ADD, 0, f64(1));
    scratch_seed(&sc, "definition_limit", 7);
}

/* Enough families and series to grow the store's tables: 36 families of
 * one series, and one of 36 label sets under a cap of 64. */
static void gen_drain_many(void)
{
    static const char *const k[] = {"k"};
    struct shmet__family_def f = family_def(0, SHMET_TYPE_COUNTER, NULL, NULL, 0);
    struct shmet__family_def wide = family_def(99, SHMET_TYPE_COUNTER, "wide_total", k, 1);
    struct scratch sc;
    char name[16], v[8];
    const char *vals[] = {v};

    scratch_open(&sc);
    f.name = name;
    for (uint32_t i = 0; i < 36; i++) {
        snprintf(name, sizeof(name), "f%02u_total", i);
        f.id = i;
        must(shmet__arena_put_family(&sc.s, 0, &f, &(uint64_t){0}));
        must(shmet__arena_put_series(&sc.s, 0, 100 + i, i, NULL, 0, &(uint64_t){0}));
        scratch_push(&sc, 100 + i, SHMET_OP_COUNTER_ADD, 0, f64(i));
    }
    must(shmet__arena_put_family(&sc.s, 0, &wide, &(uint64_t){0}));
    for (uint32_t i = 0; i < 36; i++) {
        snprintf(v, sizeof(v), "v%02u", i);
        must(shmet__arena_put_series(&sc.s, 0, 200 + i, 99, vals, 1, &(uint64_t){0}));
        if (i % 2 == 0)
            scratch_push(&sc, 200 + i, SHMET_OP_COUNTER_ADD, 0, f64(1));
    }
    scratch_seed(&sc, "many_families_and_series", 63);
}

static void gen_drain_writers(void)
{
    gen_drain_two_defs();
    gen_drain_hostile();
    gen_drain_layouts();
    gen_drain_def_limit();
    gen_drain_many();
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
    gen_drain_client();
    gen_drain_writers();
    return 0;
}
