/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_scribble.c - the segment is untrusted input
 * to a running shmetricsd. One well-behaved producer A records known
 * amounts (counter, histogram, gauge) in its own slot; five producers B
 * hold slots with definitions of their own and record slowly; a scribbler
 * process maps the segment file read-write and, for a few seconds, writes
 * random bytes (seeded PRNG) over every slot but A's (rings, arenas,
 * control blocks: state, generation, pid, head, tail, arena_used, ...)
 * and over the header (geometry and live fields), while the test keeps
 * scraping /metrics, /healthz and /debug.
 *
 * Then every slot but A's is made inert (CLAIMING), and one forged writer
 * puts one of each kind of bad input into B slots, so that each
 * shmetrics_invalid_records_total{reason} must grow by exactly one.
 *
 * Asserted: shmetricsd stays up (still our child) and answers every
 * request; every reason counts what was forged exactly; A's counter,
 * histogram and gauge are exact at the end (geometry scribbled in the
 * header is not believed: the aggregator keeps the copy it validated at
 * attach); its peak RSS stays bounded; `shmtool check` exits 1 on the
 * scribbled segment and reports errors; shmetricsd stops cleanly.
 *
 * SHMETRICS_SCRIBBLE_SEED=N repeats a run; the seed is printed.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_e2e.h"
#include "t_util.h"

#define NSLOTS 8
#define RING 1024
#define ARENA 16384
#define NB 5                     /* producers B (the strings in await() calls) */
#define ROUNDS 20000             /* A's rounds: 4 records each; a multiple of 8 */
#define SCRIBBLE_MS 3000         /* the random phase */
#define RSS_MAX_KIB (512 * 1024) /* generous even under ASan */

static struct t_daemon g_d;
static uint64_t g_seed;

/* ---- a seeded PRNG (splitmix64) ----------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rnd_bytes(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(s);
}

/* ---- producers ------------------------------------------------------------ */

/* Block until fd reaches EOF (its writer closed it). */
static void hold(int fd)
{
    char b;

    while (read(fd, &b, 1) > 0)
        ;
}

/* The slot of this thread in seg, found by pid and tid; -1 if none. */
static int own_slot(const struct shmet__seg *seg)
{
    for (uint32_t i = 0; i < seg->slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(seg, i);
        /* RELAXED: our own slot, published by our own claim. */
        if (atomic_load_explicit(&sl->pid, memory_order_relaxed) == getpid() &&
            atomic_load_explicit(&sl->tid, memory_order_relaxed) == shmet__gettid())
            return (int)i;
    }
    return -1;
}

struct a_series {
    struct shmet_series ok, err, lat, inflight;
};

static void a_round(const struct a_series *s, int r)
{
    shmet_inc(s->ok);
    shmet_add(s->err, 3);
    shmet_observe(s->lat, (r % 8) * 0.25);
    shmet_set(s->inflight, r);
}

/* Producer A: define, record round 0 (claims the slot), report ready, wait
 * for go, record the other rounds never letting its ring pass half full
 * (so nothing is dropped however slow the aggregator is), report done,
 * then hold. */
static void a_main(int ready_fd, int go_fd, int hold_fd)
{
    static const char *const code[] = {"code", NULL}, *const v200[] = {"200"},
                             *const v500[] = {"500"};
    static const double bounds[] = {0.5, 1, 1.5};
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_family *fc, *fh, *fg;
    struct shmet_client *c;
    struct shmet__seg seg;
    struct a_series s;
    uint64_t end;
    int slot;

    if (shmet_open(&o, &c) != 0 ||
        shmet_counter(c, "sc_a_requests_total", "A's requests.", code, &fc) != 0 ||
        shmet_histogram(c, "sc_a_latency_seconds", "A's latency.", NULL, bounds, 3, &fh) != 0 ||
        shmet_gauge(c, "sc_a_inflight", "A's level.", NULL, SHMET_GAUGE_SUM, &fg) != 0 ||
        shmet_series_get(fc, v200, &s.ok) != 0 || shmet_series_get(fc, v500, &s.err) != 0 ||
        shmet_series_get(fh, NULL, &s.lat) != 0 || shmet_series_get(fg, NULL, &s.inflight) != 0)
        _exit(10);
    a_round(&s, 0);
    if (shmet__seg_open(g_d.ns, NULL, SHMET_SEG_RDONLY, 0, &seg) != 0 ||
        (slot = own_slot(&seg)) < 0)
        _exit(11);
    if (write(ready_fd, "a", 1) != 1)
        _exit(12);
    hold(go_fd);
    for (int r = 1; r < ROUNDS; r++) {
        end = t_now_ms() + 60000;
        while (shmet__ring_used(&seg, (uint32_t)slot) > RING / 2) {
            if (t_now_ms() > end)
                _exit(13); /* the aggregator stopped draining */
            usleep(200);
        }
        a_round(&s, r);
        if (r % 10 == 0)
            usleep(1000); /* spread A's records over the scribbling */
    }
    if (write(ready_fd, "d", 1) != 1)
        _exit(14);
    hold(hold_fd);
    shmet_close(c);
    _exit(0);
}

/* Producer B k: families of its own, a few records, ready; then one record
 * of each kind every 2 ms until quiet_fd closes; acknowledge, hold. */
static void b_main(int k, int ready_fd, int quiet_fd, int hold_fd)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_family *fc, *fh, *fg;
    struct shmet_series sc, sh, sg;
    struct shmet_client *c;
    char name[3][64];

    snprintf(name[0], sizeof(name[0]), "sc_b%d_jobs_total", k);
    snprintf(name[1], sizeof(name[1]), "sc_b%d_size", k);
    snprintf(name[2], sizeof(name[2]), "sc_b%d_level", k);
    if (shmet_open(&o, &c) != 0 || shmet_counter(c, name[0], "B jobs.", NULL, &fc) != 0 ||
        shmet_histogram(c, name[1], "B sizes.", NULL, NULL, 0, &fh) != 0 ||
        shmet_gauge(c, name[2], "B level.", NULL, SHMET_GAUGE_SUM, &fg) != 0 ||
        shmet_series_get(fc, NULL, &sc) != 0 || shmet_series_get(fh, NULL, &sh) != 0 ||
        shmet_series_get(fg, NULL, &sg) != 0)
        _exit(20);
    for (int i = 0;; i++) {
        struct pollfd p = {quiet_fd, POLLIN, 0};
        shmet_inc(sc);
        shmet_observe(sh, i * 0.01);
        shmet_set(sg, i);
        if (i == 0 && write(ready_fd, "b", 1) != 1)
            _exit(21);
        if (poll(&p, 1, 2) != 0)
            break; /* quiet_fd closed */
    }
    if (write(ready_fd, "q", 1) != 1)
        _exit(22);
    hold(hold_fd);
    _exit(0);
}

/* ---- the scribbler -------------------------------------------------------- */

enum { K_CTRL, K_RING, K_ARENA, K_HEADER, K_COUNT };
static const char *const kind_name[K_COUNT] = {"control", "ring", "arena", "header"};

struct tally {
    uint64_t bytes[K_COUNT];
    uint64_t writes[K_COUNT];
};

struct geo {
    uint8_t *base;
    uint64_t size, data_offset, stride;
    uint32_t slots, ring, arena;
};

/* Offsets of the control-block fields a scribble may hit, with sizes. */
static const struct {
    uint16_t off, len;
} ctrl_fields[] = {
    {0, 4},  {4, 4},  {8, 4},  {12, 4}, {16, 8}, {24, 8},  {32, 4},
    {64, 8}, {72, 8}, {80, 8}, {88, 8}, {96, 8}, {128, 8}, {0, 256},
};

/* A value for a control-block field: often plausible, sometimes wild. */
static void ctrl_value(uint64_t *s, uint8_t *v, size_t len, const uint8_t *cur)
{
    uint64_t x, old = 0;

    memcpy(&old, cur, len < 8 ? len : 8);
    switch (rnd(s) % 4) {
    case 0: /* a small value: a state, a generation, an index */
        x = rnd(s) % 6;
        break;
    case 1: /* near the current value: a head or tail a little off */
        x = old + rnd(s) % (2 * RING) - RING;
        break;
    default:
        rnd_bytes(s, v, len);
        return;
    }
    memcpy(v, &x, len < 8 ? len : 8);
}

static void scribble_one(uint64_t *s, const struct geo *g, uint32_t a_slot, struct tally *t)
{
    uint8_t buf[256];
    uint32_t k = (uint32_t)(rnd(s) % 16), slot;
    uint8_t *p;
    size_t len;

    do
        slot = (uint32_t)(rnd(s) % g->slots);
    while (slot == a_slot);
    if (k < 6) { /* a control-block field */
        size_t f = rnd(s) % (sizeof(ctrl_fields) / sizeof(ctrl_fields[0]));
        p = g->base + sizeof(struct shmet_abi_header) + (uint64_t)slot * 256 + ctrl_fields[f].off;
        len = ctrl_fields[f].len;
        if (len == 256)
            rnd_bytes(s, buf, len);
        else
            ctrl_value(s, buf, len, p);
        k = K_CTRL;
    } else if (k < 11) { /* ring: random bytes, or a plausible record */
        uint64_t off = rnd(s) % ((uint64_t)g->ring * 16);
        p = g->base + g->data_offset + (uint64_t)slot * g->stride + off;
        len = 1 + rnd(s) % 64;
        if (len > (uint64_t)g->ring * 16 - off)
            len = (size_t)((uint64_t)g->ring * 16 - off);
        rnd_bytes(s, buf, len);
        if (len >= 16 && rnd(s) % 2) {
            struct shmet_abi_record r = {.series = (uint32_t)(rnd(s) % 8),
                                         .op = (uint16_t)(rnd(s) % 7)};
            memcpy(buf, &r, 8);
        }
        k = K_RING;
    } else if (k < 15) { /* arena */
        uint64_t off = rnd(s) % g->arena;
        p = g->base + g->data_offset + (uint64_t)slot * g->stride + (uint64_t)g->ring * 16 + off;
        len = 1 + rnd(s) % 32;
        if (len > g->arena - off)
            len = (size_t)(g->arena - off);
        rnd_bytes(s, buf, len);
        k = K_ARENA;
    } else { /* header: geometry and live fields alike */
        uint64_t off = rnd(s) % sizeof(struct shmet_abi_header);
        p = g->base + off;
        len = 1 + rnd(s) % 8;
        if (len > sizeof(struct shmet_abi_header) - off)
            len = sizeof(struct shmet_abi_header) - off;
        rnd_bytes(s, buf, len);
        k = K_HEADER;
    }
    memcpy(p, buf, len); /* a hostile writer: no atomics, no ordering */
    t->bytes[k] += len;
    t->writes[k]++;
}

/* Map the segment file read-write, find A's slot by its pid, scribble for
 * SCRIBBLE_MS, send the tally on out_fd. */
static void scribbler_main(pid_t a_pid, int out_fd)
{
    struct shmet_abi_header h;
    struct tally t = {.bytes = {0}, .writes = {0}};
    struct geo g;
    char path[512];
    uint32_t a_slot = UINT32_MAX;
    uint64_t s = g_seed ^ UINT64_C(0x5c1b), end;
    struct stat st;
    int fd;

    if (shmet__seg_path(g_d.ns, path, sizeof(path)) < 0 || (fd = open(path, O_RDWR)) < 0 ||
        fstat(fd, &st) < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
        _exit(30);
    g = (struct geo){.size = (uint64_t)st.st_size,
                     .data_offset = h.data_offset,
                     .stride = h.slot_stride,
                     .slots = h.slots,
                     .ring = h.ring_records,
                     .arena = h.arena_bytes};
    if (g.slots != NSLOTS || g.ring != RING || g.arena != ARENA ||
        g.data_offset + g.slots * g.stride != g.size)
        _exit(31);
    g.base = mmap(NULL, g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (g.base == MAP_FAILED)
        _exit(32);
    for (uint32_t i = 0; i < g.slots; i++) {
        struct shmet_abi_slot *sl = (struct shmet_abi_slot *)(g.base + sizeof(h)) + i;
        /* RELAXED: A's slot is ACTIVE and A waits for us; nothing moves. */
        if (atomic_load_explicit(&sl->pid, memory_order_relaxed) == a_pid)
            a_slot = i;
    }
    if (a_slot == UINT32_MAX)
        _exit(33);
    end = t_now_ms() + SCRIBBLE_MS;
    for (uint64_t n = 0; t_now_ms() < end; n++) {
        scribble_one(&s, &g, a_slot, &t);
        if (n % 32 == 31)
            usleep(500); /* let drains see many intermediate states */
    }
    if (write(out_fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
        _exit(34);
    _exit(0);
}

/* ---- the forged writer ---------------------------------------------------- */

/* Make slot i inert to the aggregator: CLAIMING is never drained. */
static void make_inert(const struct shmet__seg *seg, uint32_t i)
{
    /* RELEASE: only for form; the aggregator reads CLAIMING and stops. */
    atomic_store_explicit(&shmet__slot(seg, i)->state, SHMET_SLOT_CLAIMING, memory_order_release);
}

/* Give inert slot i to owner o (a live B) afresh: a new generation, empty
 * ring and arena; publish with ACTIVE after the caller filled them. */
static void forge_reset(const struct shmet__seg *seg, uint32_t i, const struct shmet__owner *o,
                        uint32_t gen)
{
    struct shmet_abi_slot *sl = shmet__slot(seg, i);

    /* RELAXED: the slot is CLAIMING; the RELEASE store of ACTIVE in
     * forge_publish() publishes all of it. */
    atomic_store_explicit(&sl->generation, gen, memory_order_relaxed);
    atomic_store_explicit(&sl->pid, o->pid, memory_order_relaxed);
    atomic_store_explicit(&sl->tid, o->tid, memory_order_relaxed);
    atomic_store_explicit(&sl->start_time, o->start_time, memory_order_relaxed);
    atomic_store_explicit(&sl->flags, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->head, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->arena_used, 0, memory_order_relaxed);
}

static void forge_publish(const struct shmet__seg *seg, uint32_t i, uint64_t head)
{
    struct shmet_abi_slot *sl = shmet__slot(seg, i);

    /* RELEASE: the records and the reset above; pairs with the ACQUIRE
     * loads of state and head in drain_slot(). */
    atomic_store_explicit(&sl->head, head, memory_order_release);
    atomic_store_explicit(&sl->state, SHMET_SLOT_ACTIVE, memory_order_release);
}

static void put_record(const struct shmet__seg *seg, uint32_t i, uint32_t n, uint32_t series,
                       uint16_t op, double v)
{
    struct shmet_abi_record r = {.series = series, .op = op, .value.f = v};

    shmet__slot_ring(seg, i)[n] = r;
}

/* A raw arena entry of an unknown kind: well-sized, so the reader skips it. */
static void put_bad_entry(const struct shmet__seg *seg, uint32_t i)
{
    struct shmet_abi_slot *sl = shmet__slot(seg, i);
    struct shmet_abi_def d = {.size = sizeof(d), .kind = 9};
    /* RELAXED: our own writes, published by forge_publish(). */
    uint64_t used = atomic_load_explicit(&sl->arena_used, memory_order_relaxed);

    memcpy(shmet__slot_arena(seg, i) + used, &d, sizeof(d));
    atomic_store_explicit(&sl->arena_used, used + sizeof(d), memory_order_relaxed);
}

/* In slot i: a valid counter family and series, an entry of unknown kind,
 * a family clashing with A's; records: an unknown series (which makes the
 * aggregator read the arena), an unknown op, an observation on a counter,
 * a negative increment, and a valid increment of 5. */
static void forge_records(const struct shmet__seg *seg, uint32_t i)
{
    static const char *const code[] = {"code", NULL}, *const none[] = {NULL};
    struct shmet__family_def fam = {.id = 1,
                                    .type = SHMET_TYPE_COUNTER,
                                    .name = "sc_forged_total",
                                    .help = "Forged.",
                                    .labels = none};
    struct shmet__family_def clash = {.id = 3,
                                      .type = SHMET_TYPE_GAUGE,
                                      .name = "sc_a_requests_total",
                                      .help = "A's requests.",
                                      .labels = code,
                                      .nlabels = 1};
    uint64_t off;

    CU_ASSERT_EQUAL(shmet__arena_put_family((struct shmet__seg *)seg, i, &fam, &off), 0);
    CU_ASSERT_EQUAL(shmet__arena_put_series((struct shmet__seg *)seg, i, 2, 1, NULL, 0, &off), 0);
    put_bad_entry(seg, i);
    CU_ASSERT_EQUAL(shmet__arena_put_family((struct shmet__seg *)seg, i, &clash, &off), 0);
    put_record(seg, i, 0, 999999, SHMET_OP_COUNTER_ADD, 1);
    put_record(seg, i, 1, 2, 77, 1);
    put_record(seg, i, 2, 2, SHMET_OP_OBSERVE, 1);
    put_record(seg, i, 3, 2, SHMET_OP_COUNTER_ADD, -1);
    put_record(seg, i, 4, 2, SHMET_OP_COUNTER_ADD, 5);
}

/* ---- reading the daemon --------------------------------------------------- */

static const char *const reasons[] = {"bad_op",       "unknown_series", "type_mismatch",
                                      "bad_value",    "bad_definition", "family_conflict",
                                      "ring_corrupt", "bad_state"};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

static int invalid_counts(double *out)
{
    struct t_samples ss;
    char key[128];

    if (t_scrape(g_d.port, &ss) < 0)
        return -1;
    for (size_t r = 0; r < NREASONS; r++) {
        snprintf(key, sizeof(key), "shmetrics_invalid_records_total{reason=\"%s\"}", reasons[r]);
        out[r] = t_samples_get(&ss, key);
    }
    t_samples_free(&ss);
    return 0;
}

/* Still running and our child. */
static bool daemon_alive(void)
{
    return waitpid(g_d.pid, NULL, WNOHANG) == 0;
}

/* One round of requests: /metrics parsed, /healthz "ok", /debug JSON. */
static bool answers(void)
{
    struct t_samples ss;
    struct t_resp r;
    json_t *dbg;
    bool ok;

    if (t_scrape(g_d.port, &ss) < 0)
        return false;
    t_samples_free(&ss);
    if (t_roundtrip(g_d.port, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r,
                    false) < 0)
        return false;
    ok = r.status == 200 && strcmp(r.body, "ok\n") == 0;
    t_resp_free(&r);
    dbg = t_debug(g_d.port);
    ok = ok && json_is_object(json_object_get(dbg, "aggregator"));
    json_decref(dbg);
    return ok;
}

/* ---- the test ------------------------------------------------------------- */

struct family_pipes {
    int ready[2], go[2], quiet[2], hold[2];
};

static pid_t spawn_a(struct family_pipes *p)
{
    pid_t pid = fork();

    if (pid == 0) {
        close(p->go[1]);
        close(p->hold[1]);
        close(p->quiet[1]);
        a_main(p->ready[1], p->go[0], p->hold[0]);
    }
    return pid;
}

static pid_t spawn_b(struct family_pipes *p, int k)
{
    pid_t pid = fork();

    if (pid == 0) {
        close(p->go[1]);
        close(p->hold[1]);
        close(p->quiet[1]);
        b_main(k, p->ready[1], p->quiet[0], p->hold[0]);
    }
    return pid;
}

/* Read from the ready pipe (with a deadline) until every character of
 * want has come, in any order. */
static bool await(int fd, const char *want)
{
    char left[64];
    size_t n = strlen(want);

    snprintf(left, sizeof(left), "%s", want);
    while (n > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        char b, *at;
        if (poll(&p, 1, T_DEADLINE_MS * 3) != 1 || read(fd, &b, 1) != 1)
            return false;
        if ((at = memchr(left, b, n)) != NULL) {
            *at = left[--n];
            left[n] = '\0';
        }
    }
    return true;
}

/* The identity of every B's slot, read before any scribbling. */
static void find_slots(const struct shmet__seg *seg, const pid_t *b, uint32_t *b_slot,
                       struct shmet__owner *b_owner)
{
    for (int k = 0; k < NB; k++) {
        b_slot[k] = UINT32_MAX;
        for (uint32_t i = 0; i < seg->slots; i++) {
            struct shmet_abi_slot *sl = shmet__slot(seg, i);
            /* ACQUIRE: the claim's RELEASE store of ACTIVE published the
             * owner fields read below. */
            if (atomic_load_explicit(&sl->state, memory_order_acquire) != SHMET_SLOT_ACTIVE ||
                atomic_load_explicit(&sl->pid, memory_order_relaxed) != b[k])
                continue;
            b_slot[k] = i;
            b_owner[k].pid = b[k];
            b_owner[k].tid = atomic_load_explicit(&sl->tid, memory_order_relaxed);
            b_owner[k].start_time = atomic_load_explicit(&sl->start_time, memory_order_relaxed);
        }
        CU_ASSERT_FATAL(b_slot[k] != UINT32_MAX);
    }
}

/* Scrape while the scribbler runs; every round must be answered. */
static void scrape_during(pid_t scribbler, int *rounds, int *failed)
{
    int st;

    *rounds = *failed = 0;
    while (waitpid(scribbler, &st, WNOHANG) == 0) {
        CU_ASSERT_FATAL(daemon_alive());
        *failed += !answers();
        (*rounds)++;
    }
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void check_a_exact(void)
{
    struct t_samples ss;

    /* A reported done: its records are published; the next scrape drains
     * them, but allow for a slow machine anyway. */
    (void)t_wait_value(g_d.port, "sc_a_requests_total{code=\"200\"}", ROUNDS);
    CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &ss), 0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_requests_total{code=\"200\"}"), ROUNDS);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_requests_total{code=\"500\"}"), 3.0 * ROUNDS);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_count"), ROUNDS);
    /* (r % 8) * 0.25 over ROUNDS rounds: ROUNDS / 8 of each of 0 .. 1.75 */
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_sum"), ROUNDS / 8 * 7.0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_bucket{le=\"0.5\"}"), ROUNDS / 8 * 3);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_bucket{le=\"1\"}"), ROUNDS / 8 * 5);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_bucket{le=\"1.5\"}"), ROUNDS / 8 * 7);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_latency_seconds_bucket{le=\"+Inf\"}"), ROUNDS);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_a_inflight"), ROUNDS - 1);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sc_forged_total"), 5);
    printf("(A: %g + %g requests, %g observations summing to %g, gauge %g) ",
           t_samples_get(&ss, "sc_a_requests_total{code=\"200\"}"),
           t_samples_get(&ss, "sc_a_requests_total{code=\"500\"}"),
           t_samples_get(&ss, "sc_a_latency_seconds_count"),
           t_samples_get(&ss, "sc_a_latency_seconds_sum"), t_samples_get(&ss, "sc_a_inflight"));
    t_samples_free(&ss);
}

/* Every reason grows by exactly one after the forged phase. */
static void forge_and_count(const struct shmet__seg *seg, const uint32_t *b_slot,
                            const struct shmet__owner *b_owner, uint32_t a_slot)
{
    double before[NREASONS], after[NREASONS];
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    bool done = false;

    for (uint32_t i = 0; i < seg->slots; i++)
        if (i != a_slot)
            make_inert(seg, i);
    /* A scrape drains every slot first: once it is answered, no drain will
     * look at anything the scribbler left. */
    CU_ASSERT_EQUAL_FATAL(invalid_counts(before), 0);
    printf("(invalid after scribbling:");
    for (size_t r = 0; r < NREASONS; r++)
        printf(" %s %g", reasons[r], before[r]);
    printf(") ");

    forge_reset(seg, b_slot[0], &b_owner[0], 100001);
    forge_records(seg, b_slot[0]);
    forge_publish(seg, b_slot[0], 5);
    forge_reset(seg, b_slot[1], &b_owner[1], 100002);
    forge_publish(seg, b_slot[1], 5 * (uint64_t)RING); /* more than one ring ahead */
    forge_reset(seg, b_slot[2], &b_owner[2], 100003);
    /* RELEASE: for form; an impossible state. */
    atomic_store_explicit(&shmet__slot(seg, b_slot[2])->state, 0x5eed, memory_order_release);

    while (!done && t_now_ms() < end) {
        CU_ASSERT_EQUAL_FATAL(invalid_counts(after), 0);
        done = true;
        for (size_t r = 0; r < NREASONS; r++)
            done = done && after[r] >= before[r] + 1;
        if (!done)
            usleep(10 * 1000);
    }
    for (size_t r = 0; r < NREASONS; r++) {
        if (after[r] != before[r] + 1)
            fprintf(stderr, "reason %s: %g before, %g after\n", reasons[r], before[r], after[r]);
        CU_ASSERT_EQUAL(after[r], before[r] + 1);
    }
}

/* shmtool check: exit 1, errors reported. */
static void check_reports_corruption(void)
{
    const char *argv[] = {"shmtool", "check", "--json", "--ns", g_d.ns, NULL};
    int st;
    char *out = t_run_capture(argv, &st);
    json_t *root = out ? json_loads(out, 0, NULL) : NULL;

    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CU_ASSERT_TRUE(json_is_false(json_object_get(root, "ok")));
    CU_ASSERT(json_integer_value(json_object_get(root, "errors")) > 0);
    printf("(shmtool check: %lld errors) ",
           (long long)json_integer_value(json_object_get(root, "errors")));
    json_decref(root);
    free(out);
}

static long peak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void test_fault_scribble_live(void)
{
    struct family_pipes p;
    int tally_pipe[2], rounds, failed, st;
    pid_t a, b[NB], scribbler;
    uint32_t b_slot[NB], a_slot = UINT32_MAX;
    struct shmet__owner b_owner[NB];
    struct shmet__seg seg;
    struct tally t = {.bytes = {0}, .writes = {0}};
    long rss;

    printf("(seed %llu) ", (unsigned long long)g_seed);
    CU_ASSERT_FATAL(pipe(p.ready) == 0 && pipe(p.go) == 0 && pipe(p.quiet) == 0 &&
                    pipe(p.hold) == 0 && pipe(tally_pipe) == 0);
    fflush(NULL);
    CU_ASSERT_FATAL((a = spawn_a(&p)) > 0);
    for (int k = 0; k < NB; k++)
        CU_ASSERT_FATAL((b[k] = spawn_b(&p, k)) > 0);
    CU_ASSERT_FATAL(await(p.ready[0], "abbbbb"));
    /* Our own view of the geometry, taken while the header is intact. */
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(g_d.ns, NULL, 0, 0, &seg), 0);
    find_slots(&seg, b, b_slot, b_owner);
    for (uint32_t i = 0; i < seg.slots; i++)
        if (atomic_load_explicit(&shmet__slot(&seg, i)->pid, memory_order_relaxed) == a)
            a_slot = i;
    CU_ASSERT_FATAL(a_slot != UINT32_MAX);

    CU_ASSERT_FATAL((scribbler = fork()) >= 0);
    if (scribbler == 0)
        scribbler_main(a, tally_pipe[1]);
    close(p.go[1]); /* A starts recording */
    scrape_during(scribbler, &rounds, &failed);
    CU_ASSERT_EQUAL(read(tally_pipe[0], &t, sizeof(t)), (ssize_t)sizeof(t));
    printf("(scribbled");
    for (int k = 0; k < K_COUNT; k++)
        printf(" %s %llu bytes in %llu writes,", kind_name[k], (unsigned long long)t.bytes[k],
               (unsigned long long)t.writes[k]);
    printf(" %d scrape rounds while scribbling) ", rounds);
    CU_ASSERT_EQUAL(failed, 0);
    for (int k = 0; k < K_COUNT; k++)
        CU_ASSERT(t.writes[k] > 0);

    close(p.quiet[1]); /* B's stop recording */
    CU_ASSERT_FATAL(await(p.ready[0], "dqqqqq"));
    forge_and_count(&seg, b_slot, b_owner, a_slot);
    check_a_exact();
    CU_ASSERT_TRUE(answers());
    CU_ASSERT_TRUE(daemon_alive());
    check_reports_corruption();
    rss = peak_rss_kib(g_d.pid);
    printf("(shmetricsd peak RSS %ld KiB) ", rss);
    CU_ASSERT(rss > 0 && rss < RSS_MAX_KIB);

    close(p.hold[1]);
    CU_ASSERT_EQUAL(waitpid(a, &st, 0), a);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int k = 0; k < NB; k++) {
        CU_ASSERT_EQUAL(waitpid(b[k], &st, 0), b[k]);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    shmet__seg_close(&seg);
    close(p.ready[0]);
    close(tally_pipe[0]);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_scribble_live", test_fault_scribble_live},
    };
    const char *extra[] = {"--slots", "8", "--ring-records", "1024", "--arena-bytes",
                           "16384",   NULL};
    const char *seed = getenv("SHMETRICS_SCRIBBLE_SEED");
    char ns[64];
    int rc;

    g_seed = seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "scrib"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("fault_scribble", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    if (rc != 0)
        fprintf(stderr, "seed %llu (SHMETRICS_SCRIBBLE_SEED repeats it)\n",
                (unsigned long long)g_seed);
    t_ns_cleanup(ns);
    return rc;
}
