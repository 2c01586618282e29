/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_ring.c - the SPSC ring: the inline producer
 * (shmet__ring_push in shmetrics.h) against the consumer in libshm/ring.c.
 * Order and content across the wrap of the 64-bit indices, drop counting
 * on a full ring, refusal of a corrupt head without reading outside the
 * ring (a guard page follows it), and a two-thread run of many millions of
 * records checked record by record and against a single-threaded oracle.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_util.h"

#define PAGE 4096u
#define RECORDS_TOTAL_ENV "SHMET_RING_RECORDS_TOTAL"
#define RECORDS_TOTAL_DEFAULT 50000000ull
#define ORACLE_RING 1024u
#define BATCH 256u

/* ---- fixtures --------------------------------------------------------- */

struct ring_fix {
    char ns[64];
    struct shmet__seg seg;
    uint32_t idx, gen;
    struct shmet_abi_slot *sl;
};

static void fix_open(struct ring_fix *f, uint32_t ring_records)
{
    struct shmet__geometry g = {1, ring_records, 4096};
    struct shmet__owner o = {1, 1, 1, 0};

    t_ns(f->ns, sizeof(f->ns), "ring");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(f->ns, &g, SHMET_SEG_CREATE, 0600, &f->seg), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&f->seg, &o, 0, &f->idx, &f->gen), 0);
    f->sl = shmet__slot(&f->seg, f->idx);
}

static void fix_close(struct ring_fix *f)
{
    shmet__seg_close(&f->seg);
    t_ns_cleanup(f->ns);
}

/* A one-slot segment in an anonymous mapping whose ring (256 records, one
 * page) is followed by a PROT_NONE page: the consumer cannot read past the
 * ring without faulting. */
struct guard_fix {
    uint8_t *map;
    size_t len;
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
};

static void guard_open(struct guard_fix *f)
{
    struct shmet_abi_header *h;

    f->len = 4 * PAGE; /* header+slot | ring | arena (guard) | spare */
    f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(f->map != MAP_FAILED);
    h = (struct shmet_abi_header *)f->map;
    h->magic = SHMET_ABI_MAGIC;
    h->abi_major = SHMET_ABI_MAJOR;
    h->header_size = sizeof(*h);
    h->slot_size = sizeof(struct shmet_abi_slot);
    h->slots = 1;
    h->ring_records = PAGE / sizeof(struct shmet_abi_record);
    h->arena_bytes = PAGE;
    h->data_offset = PAGE;
    h->slot_stride = 2 * PAGE;
    h->segment_size = 3 * PAGE;
    memset(&f->seg, 0, sizeof(f->seg));
    CU_ASSERT_EQUAL_FATAL(shmet__header_check(h, 3 * PAGE, &f->seg), 0);
    f->seg.base = f->map;
    f->seg.hdr = h;
    CU_ASSERT_PTR_EQUAL_FATAL(shmet__slot_ring(&f->seg, 0), f->map + PAGE);
    CU_ASSERT_EQUAL_FATAL(mprotect(f->map + 2 * PAGE, 2 * PAGE, PROT_NONE), 0);
    f->sl = shmet__slot(&f->seg, 0);
}

static void guard_close(struct guard_fix *f)
{
    munmap(f->map, f->len);
}

/* Record i of a test stream: every field derived from i. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint32_t rec_series(uint64_t i)
{
    return (uint32_t)i ^ 0xa5a5a5a5u;
}

static uint16_t rec_op(uint64_t i)
{
    return (uint16_t)(SHMET_OP_COUNTER_ADD + i % 4);
}

static uint16_t rec_aux(uint64_t i)
{
    return (uint16_t)(i >> 16);
}

/* A 53-bit integer: exact as a double. */
static uint64_t rec_value(uint64_t i)
{
    return mix(i) >> 11;
}

static int push_seq(struct shmet__ring_producer *p, uint64_t i)
{
    return shmet__ring_push(p, rec_series(i), rec_op(i), rec_aux(i), (double)rec_value(i));
}

static int rec_is(const struct shmet_abi_record *r, uint64_t i)
{
    return r->series == rec_series(i) && r->op == rec_op(i) && r->aux == rec_aux(i) &&
           r->value.f == (double)rec_value(i);
}

/* ---- unit tests -------------------------------------------------------- */

static void test_ring_push_consume_fields(void)
{
    struct shmet__ring_producer p;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[8];
    struct ring_fix f;

    fix_open(&f, 64);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    CU_ASSERT_EQUAL(p.capacity, 64);
    CU_ASSERT_EQUAL(p.mask, 63);
    CU_ASSERT_EQUAL(c.capacity, 64);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 8), 0);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, 7, SHMET_OP_GAUGE_SET, 0, -2.5), 0);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, 0xffffffffu, SHMET_OP_DEFINE, SHMET_DEF_SERIES, 4096.0),
                    0);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, 0, SHMET_OP_OBSERVE, 0, 1e300), 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->head), 3);
    CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, f.idx), 3);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 0), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__ring_consume(&c, out, 8), 3);
    CU_ASSERT_EQUAL(out[0].series, 7);
    CU_ASSERT_EQUAL(out[0].op, SHMET_OP_GAUGE_SET);
    CU_ASSERT_EQUAL(out[0].aux, 0);
    CU_ASSERT_EQUAL(out[0].value.f, -2.5);
    CU_ASSERT_EQUAL(out[1].series, 0xffffffffu);
    CU_ASSERT_EQUAL(out[1].op, SHMET_OP_DEFINE);
    CU_ASSERT_EQUAL(out[1].aux, SHMET_DEF_SERIES);
    CU_ASSERT_EQUAL(out[1].value.f, 4096.0);
    CU_ASSERT_EQUAL(out[2].value.f, 1e300);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), 3);
    CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, f.idx), 0);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 8), 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->dropped), 0);
    fix_close(&f);
}

/* Consumption in small batches hands out exactly max records at a time. */
static void test_ring_consume_partial_batches(void)
{
    struct shmet__ring_producer p;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[64];
    struct ring_fix f;
    uint64_t next = 0;
    int n, bad = 0;

    fix_open(&f, 64);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    for (uint64_t i = 0; i < 50; i++)
        CU_ASSERT_EQUAL(push_seq(&p, i), 0);
    for (int k = 0; k < 7; k++) {
        CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 7), 7);
        for (int j = 0; j < 7; j++)
            bad += !rec_is(&out[j], next++);
    }
    n = shmet__ring_consume(&c, out, 7);
    CU_ASSERT_EQUAL(n, 1);
    bad += !rec_is(&out[0], next++);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), 50);
    fix_close(&f);
}

/* Free-running indices crossing 2^64: the order and content survive, and
 * so does every count derived from head - tail. */
static void test_ring_consume_wraps_u64(void)
{
    const uint64_t start = UINT64_MAX - 10;
    struct shmet__ring_producer p;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[64];
    struct ring_fix f;
    uint64_t pushed = 0, next = 0;
    int bad = 0, n;

    fix_open(&f, 64);
    T_STORE(&f.sl->head, start);
    T_STORE(&f.sl->tail, start);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    CU_ASSERT_EQUAL(p.head, start);
    CU_ASSERT_EQUAL(c.tail, start);
    /* First across the wrap: 40 records, 11 before it and 29 after. */
    for (; pushed < 40; pushed++)
        CU_ASSERT_EQUAL(push_seq(&p, pushed), 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->head), 29);
    CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, f.idx), 40);
    while ((n = shmet__ring_consume(&c, out, 6)) > 0)
        for (int j = 0; j < n; j++)
            bad += !rec_is(&out[j], next++);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(next, 40);
    /* Then full rings, past the wrap. */
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 64; k++)
            CU_ASSERT_EQUAL(push_seq(&p, pushed++), 0);
        CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, f.idx), 64);
        CU_ASSERT_EQUAL(push_seq(&p, 999999), -1); /* full */
        CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 64), 64);
        for (int j = 0; j < 64; j++)
            bad += !rec_is(&out[j], next++);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(next, pushed);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->head), start + pushed);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), start + pushed);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->dropped), 20);
    fix_close(&f);
}

/* Wrap with the ring itself half-way: the first record of the u64 wrap
 * sits in the middle of the ring. */
static void test_ring_consume_wraps_u64_mid_ring(void)
{
    const uint64_t start = UINT64_MAX - 100; /* start & 63 == 26 */
    struct shmet__ring_producer p;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[64];
    struct ring_fix f;
    uint64_t next = 0;
    int bad = 0;

    fix_open(&f, 64);
    T_STORE(&f.sl->head, start);
    T_STORE(&f.sl->tail, start);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    for (uint64_t i = 0; i < 200; i++) {
        CU_ASSERT_EQUAL(push_seq(&p, i), 0);
        if (i % 50 == 49) {
            CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 64), 50);
            for (int j = 0; j < 50; j++)
                bad += !rec_is(&out[j], next++);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(next, 200);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), start + 200);
    fix_close(&f);
}

/* A full ring drops new samples and counts them; it never overwrites. */
static void test_ring_push_full_counts_drops(void)
{
    const uint64_t cap = 128, k = 37;
    struct shmet__ring_producer p, p2;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[128];
    struct ring_fix f;
    int bad = 0;

    fix_open(&f, (uint32_t)cap);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    for (uint64_t i = 0; i < cap; i++)
        bad += push_seq(&p, i) != 0;
    for (uint64_t i = cap; i < cap + k; i++)
        bad += push_seq(&p, i) != -1;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->dropped), k);
    CU_ASSERT_EQUAL(p.dropped, k);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->head), cap);
    CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, f.idx), cap);
    /* The ring holds the first cap records, untouched by the drops. */
    CU_ASSERT_EQUAL_FATAL(shmet__ring_consume(&c, out, 128), (int)cap);
    for (uint64_t i = 0; i < cap; i++)
        bad += !rec_is(&out[i], i);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 128), 0);
    /* Room again: pushes succeed and the drop count stays. */
    CU_ASSERT_EQUAL(push_seq(&p, 1000), 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->dropped), k);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 128), 1);
    CU_ASSERT_TRUE(rec_is(&out[0], 1000));
    /* A producer re-initialised on the slot continues its counts. */
    shmet__ring_producer_init(&p2, &f.seg, f.idx);
    CU_ASSERT_EQUAL(p2.dropped, k);
    CU_ASSERT_EQUAL(p2.head, cap + 1);
    CU_ASSERT_EQUAL(p2.tail_cache, cap + 1);
    fix_close(&f);
}

/* Producer and consumer set up again on a slot in use resume where the
 * shared indices are (a restarted aggregator; a re-attached thread). */
static void test_ring_init_resumes(void)
{
    struct shmet__ring_producer p;
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[64];
    struct ring_fix f;
    int bad = 0;

    fix_open(&f, 64);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    for (uint64_t i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(push_seq(&p, i), 0);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 4), 4);
    shmet__ring_producer_init(&p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    CU_ASSERT_EQUAL(p.head, 10);
    CU_ASSERT_EQUAL(c.tail, 4);
    for (uint64_t i = 10; i < 13; i++)
        CU_ASSERT_EQUAL(push_seq(&p, i), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__ring_consume(&c, out, 64), 9);
    for (uint64_t i = 0; i < 9; i++)
        bad += !rec_is(&out[i], 4 + i);
    CU_ASSERT_EQUAL(bad, 0);
    fix_close(&f);
}

/* A head behind tail is corrupt: refused, nothing copied, tail kept. */
static void test_ring_consume_refuses_head_behind_tail(void)
{
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[300], sentinel;
    struct guard_fix f;
    int untouched = 1;

    guard_open(&f);
    memset(&sentinel, 0x6b, sizeof(sentinel));
    for (int i = 0; i < 300; i++)
        out[i] = sentinel;
    T_STORE(&f.sl->tail, 1000);
    shmet__ring_consumer_init(&c, &f.seg, 0);
    T_STORE(&f.sl->head, 999);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 300), -EBADMSG);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 1), -EBADMSG);
    shmet__ring_consumer_init(&c, &f.seg, 0);
    T_STORE(&f.sl->head, 0);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 300), -EBADMSG);
    shmet__ring_consumer_init(&c, &f.seg, 0);
    T_STORE(&f.sl->head, 1000 - 256);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 1), -EBADMSG);
    for (int i = 0; i < 300; i++)
        untouched &= memcmp(&out[i], &sentinel, sizeof(sentinel)) == 0;
    CU_ASSERT_TRUE(untouched);
    CU_ASSERT_EQUAL(c.tail, 1000);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), 1000);
    /* Reported as full, never as a huge count. */
    CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, 0), 256);
    guard_close(&f);
}

/* A head more than one ring ahead is corrupt; exactly one ring ahead is a
 * full ring and is read entirely inside the ring, wrapping around. */
static void test_ring_consume_refuses_head_too_far(void)
{
    static const uint64_t tails[] = {0, 200, 255, UINT64_MAX - 3, UINT64_MAX - 300};
    struct shmet__ring_consumer c;
    struct shmet_abi_record *ring, out[600];
    struct guard_fix f;

    guard_open(&f);
    ring = shmet__slot_ring(&f.seg, 0);
    for (uint32_t i = 0; i < 256; i++)
        ring[i] = (struct shmet_abi_record){.series = i, .op = SHMET_OP_OBSERVE};
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        uint64_t tail = tails[t];
        int bad = 0;

        T_STORE(&f.sl->tail, tail);
        shmet__ring_consumer_init(&c, &f.seg, 0);
        T_STORE(&f.sl->head, tail + 257);
        CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 600), -EBADMSG);
        shmet__ring_consumer_init(&c, &f.seg, 0);
        T_STORE(&f.sl->head, tail + (UINT64_MAX >> 1));
        CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 600), -EBADMSG);
        CU_ASSERT_EQUAL(shmet__ring_used(&f.seg, 0), 256);
        CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), tail);
        /* Exactly full. */
        shmet__ring_consumer_init(&c, &f.seg, 0);
        T_STORE(&f.sl->head, tail + 256);
        CU_ASSERT_EQUAL_FATAL(shmet__ring_consume(&c, out, 600), 256);
        for (uint32_t i = 0; i < 256; i++)
            bad += out[i].series != (uint32_t)((tail + i) & 255);
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), tail + 256);
    }
    guard_close(&f);
}

/* A corrupt tail in the slot (the consumer's own field, scribbled on) only
 * selects a position inside the ring. */
static void test_ring_consume_corrupt_tail_stays_inside(void)
{
    struct shmet__ring_consumer c;
    struct shmet_abi_record out[256];
    struct guard_fix f;

    guard_open(&f);
    T_STORE(&f.sl->tail, UINT64_MAX);
    T_STORE(&f.sl->head, 255); /* UINT64_MAX + 256 */
    shmet__ring_consumer_init(&c, &f.seg, 0);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, 256), 256);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), 255);
    guard_close(&f);
}

/* ---- two threads against the oracle ------------------------------------ */

struct producer_arg {
    struct shmet__ring_producer p;
    uint64_t total;
    uint64_t retries; /* pushes refused (ring full), then retried */
};

/* Push every record of the stream, retrying a refused push until the
 * consumer makes room: nothing is lost, and every refusal is counted by
 * the ring as a drop, which the test checks exactly. */
static void *producer_main(void *arg)
{
    struct producer_arg *a = arg;

    for (uint64_t i = 0; i < a->total; i++) {
        while (push_seq(&a->p, i) != 0) {
            a->retries++;
            sched_yield();
        }
    }
    return NULL;
}

struct digest {
    uint64_t count, sum, xor, series_sum;
};

static void digest_add(struct digest *d, uint64_t value, uint32_t series)
{
    d->count++;
    d->sum += value;
    d->xor ^= value * 0x100000001b3ull + d->count; /* order-sensitive */
    d->series_sum += series;
}

static uint64_t records_total(void)
{
    const char *env = getenv(RECORDS_TOTAL_ENV);
    char *end;
    unsigned long long v;

    if (env == NULL || env[0] == '\0')
        return RECORDS_TOTAL_DEFAULT;
    v = strtoull(env, &end, 10);
    return (*end == '\0' && v > 0) ? v : RECORDS_TOTAL_DEFAULT;
}

static void test_ring_consume_two_threads_oracle(void)
{
    static struct shmet_abi_record out[BATCH];
    struct producer_arg pa;
    struct shmet__ring_consumer c;
    struct digest got = {0}, want = {0};
    struct ring_fix f;
    uint64_t total = records_total(), next = 0, mismatches = 0, errors = 0;
    pthread_t th;

    /* The oracle: the same stream, computed alone. */
    for (uint64_t i = 0; i < total; i++)
        digest_add(&want, rec_value(i), rec_series(i));

    fix_open(&f, ORACLE_RING);
    memset(&pa, 0, sizeof(pa));
    pa.total = total;
    shmet__ring_producer_init(&pa.p, &f.seg, f.idx);
    shmet__ring_consumer_init(&c, &f.seg, f.idx);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, producer_main, &pa), 0);
    while (next < total) {
        int n = shmet__ring_consume(&c, out, BATCH);

        if (n < 0) {
            errors++;
            break;
        }
        if (n == 0) {
            sched_yield();
            continue;
        }
        for (int j = 0; j < n; j++, next++) {
            if (!rec_is(&out[j], next))
                mismatches++;
            digest_add(&got, (uint64_t)out[j].value.f, out[j].series);
        }
    }
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(next, total);
    CU_ASSERT_EQUAL(got.count, want.count);
    CU_ASSERT_EQUAL(got.sum, want.sum);
    CU_ASSERT_EQUAL(got.xor, want.xor);
    CU_ASSERT_EQUAL(got.series_sum, want.series_sum);
    CU_ASSERT_EQUAL(shmet__ring_consume(&c, out, BATCH), 0);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->head), total);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->tail), total);
    CU_ASSERT_EQUAL(T_LOAD(&f.sl->dropped), pa.retries);
    CU_ASSERT_EQUAL(pa.p.dropped, pa.retries);
    fix_close(&f);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_ring_push_consume_fields", test_ring_push_consume_fields},
        {"test_ring_consume_partial_batches", test_ring_consume_partial_batches},
        {"test_ring_consume_wraps_u64", test_ring_consume_wraps_u64},
        {"test_ring_consume_wraps_u64_mid_ring", test_ring_consume_wraps_u64_mid_ring},
        {"test_ring_push_full_counts_drops", test_ring_push_full_counts_drops},
        {"test_ring_init_resumes", test_ring_init_resumes},
        {"test_ring_consume_refuses_head_behind_tail", test_ring_consume_refuses_head_behind_tail},
        {"test_ring_consume_refuses_head_too_far", test_ring_consume_refuses_head_too_far},
        {"test_ring_consume_corrupt_tail_stays_inside",
         test_ring_consume_corrupt_tail_stays_inside},
        {"test_ring_consume_two_threads_oracle", test_ring_consume_two_threads_oracle},
    };

    return T_RUN("ring", tests);
}
