/* SPDX-License-Identifier: MIT */
/*
 * tests/client/test_client.c - the client in one process: exact totals
 * through the reference consumer, every way a sample can be dropped (full
 * ring, full arena, no free slot) counted exactly, one slot per thread,
 * slots retired at thread exit and reused, close and reopen, and geometry
 * validation.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "t_consumer.h"
#include "t_util.h"

static char ns[96];
static struct shmet_client *cl;
static struct shmet__seg seg; /* the consumer's own mapping */

static void setup(const char *tag, uint32_t slots, uint32_t ring, uint32_t arena)
{
    struct shmet_options o = {.ns = t_ns(ns, sizeof(ns), tag),
                              .slots = slots,
                              .ring_records = ring,
                              .arena_bytes = arena};

    cl = NULL;
    CU_ASSERT_FATAL(shmet_open(&o, &cl) == 0);
    CU_ASSERT_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg) == 0);
}

static void teardown(void)
{
    shmet_close(cl);
    cl = NULL;
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

static struct shmet_series series(struct shmet_family *f, const char *const *values)
{
    struct shmet_series s = {0};

    CU_ASSERT_FATAL(shmet_series_get(f, values, &s) == 0);
    return s;
}

static struct shmet_series counter(const char *name)
{
    struct shmet_family *f;

    CU_ASSERT_FATAL(shmet_counter(cl, name, "", NULL, &f) == 0);
    return series(f, NULL);
}

static uint32_t slot_state(uint32_t i)
{
    return atomic_load(&shmet__slot(&seg, i)->state);
}

static uint32_t count_state(uint32_t state)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < seg.slots; i++)
        n += slot_state(i) == state;
    return n;
}

/* Claims so far: every claim increments one slot's generation from 0. */
static uint64_t claims(void)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < seg.slots; i++)
        n += atomic_load(&shmet__slot(&seg, i)->generation);
    return n;
}

static uint64_t total_dropped(void)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < seg.slots; i++)
        n += atomic_load(&shmet__slot(&seg, i)->dropped);
    return n;
}

/* The only ACTIVE slot, or UINT32_MAX. */
static uint32_t active_slot(void)
{
    uint32_t found = UINT32_MAX;

    for (uint32_t i = 0; i < seg.slots; i++)
        if (slot_state(i) == SHMET_SLOT_ACTIVE)
            found = found == UINT32_MAX ? i : UINT32_MAX - 1;
    return found;
}

static void test_shmet_record_totals(void)
{
    const char *method[] = {"method", NULL};
    const char *get[] = {"GET", NULL}, *post[] = {"POST", NULL};
    const double bounds[] = {0.5, 1, 2};
    /* Binary fractions, so the sums are exact; 0.5, 1 and 2 sit on bounds. */
    const double obs[] = {0.25, 0.5, 0.75, 1, 1.5, 2, 3, 8};
    const uint64_t want_buckets[] = {2, 2, 2, 2};
    struct shmet_family *req, *inflight, *last, *lat;
    struct shmet_series rget, rpost, total, g, gl, h;
    struct t_consumer *tc;

    setup("totals", 4, 1024, 8192);
    CU_ASSERT_FATAL(shmet_counter(cl, "req_total", "", method, &req) == 0);
    CU_ASSERT_FATAL(shmet_gauge(cl, "inflight", "", NULL, SHMET_GAUGE_SUM, &inflight) == 0);
    CU_ASSERT_FATAL(shmet_gauge(cl, "last", "", NULL, SHMET_GAUGE_LAST, &last) == 0);
    CU_ASSERT_FATAL(shmet_histogram(cl, "lat", "", method, bounds, 3, &lat) == 0);
    rget = series(req, get);
    rpost = series(req, post);
    total = counter("plain_total");
    g = series(inflight, NULL);
    gl = series(last, NULL);
    h = series(lat, get);
    for (int i = 0; i < 100; i++) {
        shmet_inc(rget);
        shmet_add(rpost, 2.5);
        shmet_inc(total);
        shmet_inc(g); /* gauge += 1 */
        if (i % 2)
            shmet_dec(g);
        shmet_set(gl, i);
    }
    shmet_add(g, 0.25);
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
            shmet_observe(h, obs[i]);

    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 100 * 5 + 50 + 1 + 24);
    CU_ASSERT(t_counter(tc, "req_total", "GET") == 100);
    CU_ASSERT(t_counter(tc, "req_total", "POST") == 250);
    CU_ASSERT(t_counter(tc, "plain_total", "") == 100);
    CU_ASSERT(t_gauge_sum(tc, "inflight", "") == 50.25);
    CU_ASSERT(t_gauge_sum(tc, "last", "") == 99);
    CU_ASSERT(t_hist_count(tc, "lat", "GET") == 24);
    CU_ASSERT(t_hist_sum(tc, "lat", "GET") == 3 * 17.0);
    for (uint32_t b = 0; b < 4; b++)
        CU_ASSERT(t_hist_bucket(tc, "lat", "GET", b) == 3 * want_buckets[b]);
    CU_ASSERT(t_hist_count(tc, "lat", "POST") == 0);
    CU_ASSERT(t_invalid(tc) == 0);
    CU_ASSERT(total_dropped() == 0);
    CU_ASSERT(claims() == 1);
    t_consumer_free(tc);
    teardown();
}

static void test_shmet_record_ring_full(void)
{
    const char *k[] = {"k", NULL}, *v[] = {"v", NULL};
    const unsigned extra = 10, ring = 64;
    struct shmet_family *f;
    struct shmet_series s, l;
    struct shmet_abi_slot *sl;
    struct t_consumer *tc;
    uint32_t idx;

    setup("ringfull", 2, ring, 4096);
    s = counter("full_total");
    for (unsigned i = 0; i < ring + extra; i++)
        shmet_inc(s);
    idx = active_slot();
    CU_ASSERT_FATAL(idx < seg.slots);
    sl = shmet__slot(&seg, idx);
    /* The first record defined the family and its one series: two DEFINE
     * records ahead of the samples in the same ring. */
    CU_ASSERT_FATAL(atomic_load(&sl->defines) == 2);
    CU_ASSERT(atomic_load(&sl->head) == ring);
    CU_ASSERT(atomic_load(&sl->dropped) == ring + extra - (ring - 2));

    /* A new series while the ring is full: its definitions go to the
     * arena, the DEFINE hints are skipped, the sample is dropped. */
    CU_ASSERT_FATAL(shmet_counter(cl, "late_total", "", k, &f) == 0);
    l = series(f, v);
    shmet_inc(l);
    CU_ASSERT(atomic_load(&sl->defines) == 2);
    CU_ASSERT(atomic_load(&sl->dropped) == extra + 3);
    CU_ASSERT(atomic_load(&sl->head) == ring);

    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == ring - 2);
    CU_ASSERT(t_counter(tc, "full_total", "") == ring - 2);
    /* After the drain the ring has room again; the late series resolves
     * from the arena alone. */
    for (int i = 0; i < 5; i++)
        shmet_inc(l);
    shmet_add(s, 7);
    CU_ASSERT(t_consumer_drain(tc) == 6);
    CU_ASSERT(t_counter(tc, "late_total", "v") == 5);
    CU_ASSERT(t_counter(tc, "full_total", "") == ring - 2 + 7);
    CU_ASSERT(t_defines(tc) == 2);
    CU_ASSERT(t_invalid(tc) == 0);
    CU_ASSERT(atomic_load(&sl->dropped) == extra + 3);
    t_consumer_free(tc);
    teardown();
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static void test_shmet_record_arena_full(void)
{
    const char *k[] = {"k", NULL};
    const unsigned n = 200;
    const uint64_t fam_size =
        pad8(sizeof(struct shmet_abi_def) + sizeof(struct shmet_abi_def_family) + 4 +
             strlen("af_total") + 4 + 0 + 4 + strlen("k"));
    const uint64_t ovf_size = pad8(sizeof(struct shmet_abi_def) + 4 + strlen("__overflow__"));
    const uint64_t ser_size = pad8(sizeof(struct shmet_abi_def) + 4 + strlen("v0000"));
    const uint64_t fit = (4096 - fam_size - ovf_size) / ser_size;
    struct shmet_family *f;
    struct shmet_series s[200];
    struct shmet_abi_slot *sl;
    struct t_consumer *tc;
    char v[16];
    const char *vals[] = {v, NULL};

    setup("arenafull", 2, 4096, 4096);
    CU_ASSERT_FATAL(shmet_counter(cl, "af_total", "", k, &f) == 0);
    for (unsigned i = 0; i < n; i++) {
        snprintf(v, sizeof(v), "v%04u", i);
        s[i] = series(f, vals);
        shmet_inc(s[i]);
        shmet_inc(s[i]);
    }
    CU_ASSERT_FATAL(fit < n);
    sl = shmet__slot(&seg, active_slot());
    CU_ASSERT(atomic_load(&sl->arena_used) == fam_size + ovf_size + fit * ser_size);
    CU_ASSERT(atomic_load(&sl->arena_dropped) == 2 * (n - fit));
    CU_ASSERT(atomic_load(&sl->dropped) == 0);

    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 2 * n);
    CU_ASSERT(t_counter(tc, "af_total", "__overflow__") == 2.0 * (double)(n - fit));
    for (unsigned i = 0; i < n; i++) {
        snprintf(v, sizeof(v), "v%04u", i);
        CU_ASSERT(t_counter(tc, "af_total", v) == (i < fit ? 2 : 0));
    }
    CU_ASSERT(t_invalid(tc) == 0);
    t_consumer_free(tc);
    teardown();
}

/* A thread that records into a series, then holds its slot until told. */
struct holder {
    pthread_t th;
    struct shmet_series s;
    unsigned records;
    pthread_barrier_t *recorded, *release; /* NULL: do not wait */
    int32_t tid;
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;

    h->tid = shmet__gettid();
    for (unsigned i = 0; i < h->records; i++)
        shmet_inc(h->s);
    if (h->recorded != NULL)
        pthread_barrier_wait(h->recorded);
    if (h->release != NULL)
        pthread_barrier_wait(h->release);
    return NULL;
}

static void holder_start(struct holder *h)
{
    CU_ASSERT_FATAL(pthread_create(&h->th, NULL, holder_main, h) == 0);
}

static void test_shmet_record_no_free_slot(void)
{
    const unsigned n = 2000, m = 2000;
    pthread_barrier_t recorded, release;
    struct holder h = {.records = 1, .recorded = &recorded, .release = &release};
    struct t_consumer *tc;
    struct shmet_series s;
    uint64_t noslot;

    setup("noslot", 1, 4096, 4096);
    s = h.s = counter("ns_total");
    pthread_barrier_init(&recorded, NULL, 2);
    pthread_barrier_init(&release, NULL, 2);
    holder_start(&h);
    pthread_barrier_wait(&recorded);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_ACTIVE);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, 0)->tid) == h.tid);

    for (unsigned i = 0; i < n; i++)
        shmet_inc(s);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_dropped) == n);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_events) >= 1);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_events) <= n);
    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 1);

    /* Once the holder exits and its slot is freed, this thread claims it
     * (after its back-off): every sample is either recorded or counted. */
    pthread_barrier_wait(&release);
    pthread_join(h.th, NULL);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_DEAD);
    CU_ASSERT(t_consumer_drain(tc) == 0);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_FREE);
    for (unsigned i = 0; i < m; i++)
        shmet_inc(s);
    t_consumer_drain(tc);
    noslot = atomic_load(&seg.hdr->noslot_dropped);
    CU_ASSERT(total_dropped() == 0);
    CU_ASSERT(t_counter(tc, "ns_total", "") + (double)noslot == 1.0 + n + m);
    CU_ASSERT(t_counter(tc, "ns_total", "") > 1);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_ACTIVE);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, 0)->tid) == shmet__gettid());
    CU_ASSERT(atomic_load(&shmet__slot(&seg, 0)->generation) == 2);
    CU_ASSERT(t_invalid(tc) == 0);
    t_consumer_free(tc);
    pthread_barrier_destroy(&recorded);
    pthread_barrier_destroy(&release);
    teardown();
}

#define NTHREADS 4

static void test_shmet_record_slot_per_thread(void)
{
    pthread_barrier_t recorded, release;
    struct holder h[NTHREADS];
    struct t_consumer *tc;
    struct shmet_series s;
    int matched = 0;

    setup("perthread", 8, 2048, 4096);
    s = counter("pt_total");
    pthread_barrier_init(&recorded, NULL, NTHREADS + 1);
    pthread_barrier_init(&release, NULL, NTHREADS + 1);
    for (int i = 0; i < NTHREADS; i++) {
        h[i] = (struct holder){.s = s, .records = 1000, .recorded = &recorded, .release = &release};
        holder_start(&h[i]);
    }
    pthread_barrier_wait(&recorded);
    CU_ASSERT(count_state(SHMET_SLOT_ACTIVE) == NTHREADS);
    for (uint32_t i = 0; i < seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&seg, i);
        if (slot_state(i) != SHMET_SLOT_ACTIVE)
            continue;
        CU_ASSERT(atomic_load(&sl->pid) == getpid());
        CU_ASSERT(atomic_load(&sl->head) == 1000 + 2);
        for (int k = 0; k < NTHREADS; k++)
            matched += atomic_load(&sl->tid) == h[k].tid;
    }
    CU_ASSERT(matched == NTHREADS); /* one slot per thread, tids distinct */
    pthread_barrier_wait(&release);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(h[i].th, NULL);
    CU_ASSERT(count_state(SHMET_SLOT_DEAD) == NTHREADS);
    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == NTHREADS * 1000);
    CU_ASSERT(t_counter(tc, "pt_total", "") == NTHREADS * 1000);
    CU_ASSERT(count_state(SHMET_SLOT_FREE) == seg.slots);
    t_consumer_free(tc);
    pthread_barrier_destroy(&recorded);
    pthread_barrier_destroy(&release);
    teardown();
}

static void test_shmet_record_thread_exit_retires(void)
{
    struct holder a = {.records = 5}, b = {.records = 7};
    struct shmet_abi_slot *sl;
    struct t_consumer *tc;

    setup("exit", 1, 1024, 4096);
    a.s = b.s = counter("exit_total");
    sl = shmet__slot(&seg, 0);
    tc = t_consumer_new(&seg);
    holder_start(&a);
    pthread_join(a.th, NULL);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_DEAD);
    CU_ASSERT(atomic_load(&sl->generation) == 1);
    CU_ASSERT(atomic_load(&sl->tid) == a.tid);
    CU_ASSERT(t_consumer_drain(tc) == 5);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_FREE);

    holder_start(&b);
    pthread_join(b.th, NULL);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_DEAD);
    CU_ASSERT(atomic_load(&sl->generation) == 2);
    CU_ASSERT(atomic_load(&sl->tid) == b.tid);
    CU_ASSERT(t_consumer_drain(tc) == 7);
    CU_ASSERT(slot_state(0) == SHMET_SLOT_FREE);
    CU_ASSERT(t_counter(tc, "exit_total", "") == 12);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_dropped) == 0);
    t_consumer_free(tc);
    teardown();
}

/* Thread churn: many short-lived threads on few slots, drained by a
 * concurrent consumer thread. */
struct drainer {
    pthread_t th;
    struct t_consumer *tc;
    _Atomic int stop;
};

static void *drainer_main(void *arg)
{
    struct drainer *d = arg;

    while (!atomic_load_explicit(&d->stop, memory_order_acquire))
        if (t_consumer_drain(d->tc) == 0)
            sched_yield();
    return NULL;
}

#define CHURN_THREADS 200
#define CHURN_SAMPLES 10

static void test_shmet_record_thread_churn(void)
{
    struct drainer d;
    struct holder h = {.records = CHURN_SAMPLES};

    setup("churn", 4, 64, 4096);
    h.s = counter("churn_total");
    d.tc = t_consumer_new(&seg);
    atomic_init(&d.stop, 0);
    CU_ASSERT_FATAL(pthread_create(&d.th, NULL, drainer_main, &d) == 0);
    for (int i = 0; i < CHURN_THREADS; i++) {
        /* The next thread must find a free slot; the drainer frees them. */
        while (count_state(SHMET_SLOT_FREE) == 0)
            sched_yield();
        holder_start(&h);
        pthread_join(h.th, NULL);
    }
    atomic_store_explicit(&d.stop, 1, memory_order_release);
    pthread_join(d.th, NULL);
    t_consumer_drain(d.tc);
    CU_ASSERT(t_counter(d.tc, "churn_total", "") == CHURN_THREADS * CHURN_SAMPLES);
    CU_ASSERT(count_state(SHMET_SLOT_FREE) == 4); /* no slot leaked */
    CU_ASSERT(claims() == CHURN_THREADS);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_dropped) == 0);
    CU_ASSERT(total_dropped() == 0);
    CU_ASSERT(t_invalid(d.tc) == 0);
    t_consumer_free(d.tc);
    teardown();
}

static void test_shmet_close_reopen(void)
{
    struct shmet_options again = {.ns = NULL, .slots = 16, .ring_records = 128};
    struct t_consumer *tc;
    struct shmet_series s;

    setup("reopen", 4, 1024, 4096);
    again.ns = ns;
    tc = t_consumer_new(&seg);
    s = counter("ro_total");
    shmet_add(s, 3);
    shmet_close(cl);
    cl = NULL;
    CU_ASSERT(count_state(SHMET_SLOT_DEAD) == 1);
    shmet_close(NULL); /* no-op */

    /* The segment exists: its geometry wins over the options. */
    CU_ASSERT_FATAL(shmet_open(&again, &cl) == 0);
    CU_ASSERT(cl->seg.slots == 4 && cl->seg.ring_records == 1024);
    s = counter("ro_total");
    shmet_add(s, 4);
    CU_ASSERT(t_consumer_drain(tc) == 2);
    CU_ASSERT(t_counter(tc, "ro_total", "") == 7);
    CU_ASSERT(count_state(SHMET_SLOT_ACTIVE) == 1 && count_state(SHMET_SLOT_FREE) == 3);
    t_consumer_free(tc);
    teardown();
}

/* A thread that recorded through a client, then records through a stale
 * handle and a zeroed one after another thread closed that client.
 * Regression: close set the thread's producer generation to 0, which a
 * zeroed handle also carries, so the zeroed handle took the fast path and
 * pushed into the ring of the unmapped segment (SIGSEGV). */
struct stale_thread {
    pthread_t th;
    struct shmet_series s;
    pthread_barrier_t recorded, closed;
};

static void *stale_main(void *arg)
{
    struct stale_thread *t = arg;
    struct shmet_series z;

    memset(&z, 0, sizeof(z));
    shmet_inc(t->s);
    pthread_barrier_wait(&t->recorded);
    pthread_barrier_wait(&t->closed);
    /* The zeroed handle first: this thread's closed producer is still in
     * place (the stale handle's slow path would free it). */
    shmet_inc(z);
    shmet_observe(z, 1);
    shmet_inc(t->s);
    shmet_inc(z);
    return NULL;
}

/* Reopened: the client index is reused with another generation, so the
 * old handle s still records nothing while a new one does. */
static void check_stale_after_reopen(struct t_consumer *tc, struct shmet_series s)
{
    struct shmet_options o = {.ns = ns};
    struct shmet_family *f;
    struct shmet_series s2;

    CU_ASSERT_FATAL(shmet_open(&o, &cl) == 0);
    CU_ASSERT(cl->idx == s.client && cl->gen != s.gen);
    CU_ASSERT_FATAL(shmet_counter(cl, "st_total", "", NULL, &f) == 0);
    s2 = series(f, NULL);
    shmet_inc(s);
    CU_ASSERT(claims() == 2);
    shmet_add(s2, 10);
    shmet_inc(s);
    CU_ASSERT(claims() == 3);
    CU_ASSERT(t_consumer_drain(tc) == 1);
    CU_ASSERT(t_counter(tc, "st_total", "") == 12);
    CU_ASSERT(t_invalid(tc) == 0);
    CU_ASSERT(atomic_load(&seg.hdr->noslot_dropped) == 0);
}

static void test_shmet_close_stale_series(void)
{
    struct stale_thread t;
    struct t_consumer *tc;
    struct shmet_series s;
    struct shmet_family *f;

    setup("stale", 4, 1024, 4096);
    tc = t_consumer_new(&seg);
    CU_ASSERT_FATAL(shmet_counter(cl, "st_total", "", NULL, &f) == 0);
    s = series(f, NULL);
    CU_ASSERT(s.id == 0);
    shmet_inc(s);
    t.s = s;
    pthread_barrier_init(&t.recorded, NULL, 2);
    pthread_barrier_init(&t.closed, NULL, 2);
    CU_ASSERT_FATAL(pthread_create(&t.th, NULL, stale_main, &t) == 0);
    pthread_barrier_wait(&t.recorded);
    CU_ASSERT(count_state(SHMET_SLOT_ACTIVE) == 2);

    /* Close with the other thread's producer still alive; its records
     * afterwards, through the stale handle or a zeroed one, go nowhere. */
    shmet_close(cl);
    cl = NULL;
    CU_ASSERT(count_state(SHMET_SLOT_DEAD) == 2);
    shmet_inc(s);
    pthread_barrier_wait(&t.closed);
    pthread_join(t.th, NULL);
    CU_ASSERT(count_state(SHMET_SLOT_DEAD) == 2);
    CU_ASSERT(claims() == 2);
    CU_ASSERT(t_consumer_drain(tc) == 2);
    CU_ASSERT(count_state(SHMET_SLOT_FREE) == 4);

    check_stale_after_reopen(tc, s);
    t_consumer_free(tc);
    pthread_barrier_destroy(&t.recorded);
    pthread_barrier_destroy(&t.closed);
    teardown();
}

static int open_geometry(uint32_t slots, uint32_t ring, uint32_t arena)
{
    struct shmet_options o = {.ns = ns, .slots = slots, .ring_records = ring, .arena_bytes = arena};
    struct shmet_client *c = NULL;
    int rc = shmet_open(&o, &c);

    CU_ASSERT((rc == 0) == (c != NULL));
    shmet_close(c);
    return rc;
}

static void test_shmet_open_options(void)
{
    struct shmet_client *many[SHMET_MAX_CLIENTS + 1] = {NULL};
    struct shmet_options bad_ns = {.ns = "a/b"}, long_ns = {.ns = NULL};
    char longname[SHMET_NS_MAX + 2];

    t_ns(ns, sizeof(ns), "options");
    CU_ASSERT(open_geometry(4, 100, 4096) == -EINVAL);      /* not a power of two */
    CU_ASSERT(open_geometry(4, 32, 4096) == -EINVAL);       /* below the minimum */
    CU_ASSERT(open_geometry(4, 1u << 25, 4096) == -EINVAL); /* above the maximum */
    CU_ASSERT(open_geometry(SHMET_SLOTS_MAX + 1, 64, 4096) == -EINVAL);
    CU_ASSERT(open_geometry(4, 64, 4000) == -EINVAL); /* not a multiple of 64 */
    CU_ASSERT(open_geometry(4, 64, 2048) == -EINVAL); /* below the minimum */
    CU_ASSERT(shmet_open(&bad_ns, &many[0]) == -EINVAL);
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    long_ns.ns = longname;
    CU_ASSERT(shmet_open(&long_ns, &many[0]) == -EINVAL);
    CU_ASSERT(shmet_open(NULL, NULL) == -EINVAL);
    CU_ASSERT(many[0] == NULL);
    CU_ASSERT(shmet__seg_open(ns, NULL, 0, 0, &seg) == -ENOENT); /* nothing was created */

    CU_ASSERT(open_geometry(4, 64, 4096) == 0);
    for (int i = 0; i < SHMET_MAX_CLIENTS; i++) {
        struct shmet_options o = {.ns = ns};
        CU_ASSERT(shmet_open(&o, &many[i]) == 0);
    }
    {
        struct shmet_options o = {.ns = ns};
        CU_ASSERT(shmet_open(&o, &many[SHMET_MAX_CLIENTS]) == -EMFILE);
    }
    for (int i = 0; i < SHMET_MAX_CLIENTS; i++)
        shmet_close(many[i]);
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_shmet_record_totals", test_shmet_record_totals},
        {"test_shmet_record_ring_full", test_shmet_record_ring_full},
        {"test_shmet_record_arena_full", test_shmet_record_arena_full},
        {"test_shmet_record_no_free_slot", test_shmet_record_no_free_slot},
        {"test_shmet_record_slot_per_thread", test_shmet_record_slot_per_thread},
        {"test_shmet_record_thread_exit_retires", test_shmet_record_thread_exit_retires},
        {"test_shmet_record_thread_churn", test_shmet_record_thread_churn},
        {"test_shmet_close_reopen", test_shmet_close_reopen},
        {"test_shmet_close_stale_series", test_shmet_close_stale_series},
        {"test_shmet_open_options", test_shmet_open_options},
    };

    return T_RUN("client", tests);
}
