/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/test_drain.c - drain into the store with real producers
 * (the client library, in this process and in forked children): exact
 * totals, gauge contributions leaving with their producer, slots freed,
 * and hostile records or definitions refused and counted by reason
 * without touching the store.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "drain.h"
#include "t_util.h"

struct fixture {
    char ns[64];
    struct shmet_client *c;
    struct shmet__seg seg;
    struct store st;
    struct drain d;
};

static void setup(struct fixture *fx, uint32_t ring)
{
    struct shmet_options o = {.ns = t_ns(fx->ns, sizeof(fx->ns), "drain"), .slots = 8,
                              .ring_records = ring};

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &fx->c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(fx->ns, NULL, 0, 0, &fx->seg), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&fx->st, 1000), 0);
    CU_ASSERT_EQUAL_FATAL(drain_init(&fx->d, &fx->seg, &fx->st), 0);
}

static void teardown(struct fixture *fx)
{
    drain_fini(&fx->d);
    store_fini(&fx->st);
    shmet__seg_close(&fx->seg);
    shmet_close(fx->c);
    t_ns_cleanup(fx->ns);
}

static struct store_series *find(struct store *st, const char *fam, const char *v0)
{
    struct store_family *f = store_family_find(st, fam, strlen(fam));

    for (uint32_t i = 0; f != NULL && i < f->nseries; i++)
        if (f->nlabels == 0 || (v0 != NULL && strcmp(f->series[i]->values[0], v0) == 0))
            return f->series[i];
    return NULL;
}

static void test_drain_all_exact_totals(void)
{
    struct fixture fx;
    struct shmet_family *c, *g, *h;
    struct shmet_series cs, gs, hs;
    double bounds[] = {1, 2};

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "jobs_total", "Jobs.", (const char *[]){"kind", NULL}, &c), 0);
    CU_ASSERT_EQUAL(shmet_gauge(fx.c, "queue", "Queue.", NULL, SHMET_GAUGE_SUM, &g), 0);
    CU_ASSERT_EQUAL(shmet_histogram(fx.c, "lat", "Lat.", NULL, bounds, 2, &h), 0);
    shmet_series_get(c, (const char *[]){"a"}, &cs);
    shmet_series_get(g, NULL, &gs);
    shmet_series_get(h, NULL, &hs);
    uint64_t applied = 0;
    for (int i = 0; i < 10000; i++) {
        shmet_add(cs, 0.5);
        shmet_set(gs, i);
        shmet_observe(hs, (i % 3) + 0.5);
        if (i % 100 == 0)
            applied += drain_all(&fx.d);
    }
    applied += drain_all(&fx.d);
    CU_ASSERT_EQUAL(applied, 30000);
    CU_ASSERT_EQUAL(fx.d.samples_total, 30000);
    CU_ASSERT_EQUAL(find(&fx.st, "jobs_total", "a")->v.counter, 5000);
    CU_ASSERT_EQUAL(store_gauge_value(find(&fx.st, "queue", NULL)), 9999);
    struct store_series *s = find(&fx.st, "lat", NULL);
    CU_ASSERT_EQUAL(s->v.h.count, 10000);
    CU_ASSERT_EQUAL(s->v.h.buckets[0], 3334); /* 0.5 */
    CU_ASSERT_EQUAL(s->v.h.buckets[1], 3333); /* 1.5 */
    CU_ASSERT_EQUAL(s->v.h.buckets[2], 3333); /* 2.5 */
    CU_ASSERT_EQUAL(s->v.h.sum, 3334 * 0.5 + 3333 * 1.5 + 3333 * 2.5);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 0);
    teardown(&fx);
}

static void *thread_gauge(void *arg)
{
    shmet_add(*(struct shmet_series *)arg, 5);
    return NULL;
}

static void test_drain_slot_gauge_leaves_with_producer(void)
{
    struct fixture fx;
    struct shmet_family *g;
    struct shmet_series gs;
    pthread_t t;

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_gauge(fx.c, "busy", "", NULL, SHMET_GAUGE_SUM, &g), 0);
    shmet_series_get(g, NULL, &gs);
    shmet_add(gs, 2); /* this thread: 2 */
    pthread_create(&t, NULL, thread_gauge, &gs);
    pthread_join(t, NULL); /* that thread: 5, then it exits: slot DEAD */
    drain_all(&fx.d);
    /* The exited thread's slot was drained and freed in the same pass. */
    CU_ASSERT_EQUAL(store_gauge_value(find(&fx.st, "busy", NULL)), 2);
    CU_ASSERT_EQUAL(fx.d.slots_freed, 1);
    uint32_t free_slots = 0;
    for (uint32_t i = 0; i < fx.seg.slots; i++)
        free_slots += shmet__slot(&fx.seg, i)->state == SHMET_SLOT_FREE;
    CU_ASSERT_EQUAL(free_slots, fx.seg.slots - 1);
    teardown(&fx);
}

static void test_drain_owner_gone_forked_child(void)
{
    struct fixture fx;
    struct shmet_family *c, *g;
    struct shmet_series cs, gs;
    int status;

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "n_total", "", NULL, &c), 0);
    CU_ASSERT_EQUAL(shmet_gauge(fx.c, "conns", "", NULL, SHMET_GAUGE_MAX, &g), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_series_get(g, NULL, &gs);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 777; i++)
            shmet_inc(cs);
        shmet_set(gs, 42);
        _exit(0); /* no retire: the slot stays ACTIVE with a dead owner */
    }
    waitpid(pid, &status, 0);
    CU_ASSERT_EQUAL(drain_all(&fx.d), 778); /* slot still ACTIVE, drained */
    CU_ASSERT_EQUAL(store_gauge_value(find(&fx.st, "conns", NULL)), 42);
    CU_ASSERT_EQUAL(drain_check_liveness(&fx.d), 1);
    CU_ASSERT_EQUAL(find(&fx.st, "n_total", NULL)->v.counter, 777); /* survives death */
    CU_ASSERT(isnan(store_gauge_value(find(&fx.st, "conns", NULL)))); /* MAX of nobody */
    CU_ASSERT_EQUAL(fx.d.slots_freed, 1);
    teardown(&fx);
}

/* Append a raw record to slot idx's ring as a hostile writer would. */
static void raw_push(struct fixture *fx, uint32_t idx, uint32_t series, uint16_t op, double v)
{
    struct shmet__ring_producer p;

    shmet__ring_producer_init(&p, &fx->seg, idx);
    CU_ASSERT_EQUAL(shmet__ring_push(&p, series, op, 0, v), 0);
}

static uint32_t own_slot(struct fixture *fx)
{
    for (uint32_t i = 0; i < fx->seg.slots; i++)
        if (shmet__slot(&fx->seg, i)->state == SHMET_SLOT_ACTIVE &&
            shmet__slot(&fx->seg, i)->pid == getpid())
            return i;
    CU_FAIL("no slot");
    return 0;
}

static void test_drain_apply_hostile_records(void)
{
    struct fixture fx;
    struct shmet_family *c, *h;
    struct shmet_series cs, hs;

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "ok_total", "", NULL, &c), 0);
    CU_ASSERT_EQUAL(shmet_histogram(fx.c, "h", "", NULL, NULL, 0, &h), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_series_get(h, NULL, &hs);
    shmet_inc(cs);
    shmet_observe(hs, 1);
    uint32_t idx = own_slot(&fx);
    raw_push(&fx, idx, cs.id, 99, 1);                  /* bad op */
    raw_push(&fx, idx, 123456, SHMET_OP_COUNTER_ADD, 1); /* unknown series */
    raw_push(&fx, idx, cs.id, SHMET_OP_OBSERVE, 1);    /* counter observed */
    raw_push(&fx, idx, hs.id, SHMET_OP_GAUGE_SET, 1);  /* histogram set */
    raw_push(&fx, idx, cs.id, SHMET_OP_COUNTER_ADD, -1); /* counter backwards */
    raw_push(&fx, idx, cs.id, SHMET_OP_COUNTER_ADD, NAN);
    raw_push(&fx, idx, hs.id, SHMET_OP_OBSERVE, NAN);
    raw_push(&fx, idx, 0, SHMET_OP_DEFINE, 0); /* aux 0: not a kind */
    /* (the client's private head is now stale: it must not record again) */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_OP], 2);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 1);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_TYPE_MISMATCH], 2);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_VALUE], 3);
    CU_ASSERT_EQUAL(find(&fx.st, "ok_total", NULL)->v.counter, 1);
    CU_ASSERT_EQUAL(find(&fx.st, "h", NULL)->v.h.count, 1);
    CU_ASSERT_EQUAL(fx.d.samples_total, 2);
    teardown(&fx);
}

static void test_drain_slot_corrupt_head_resyncs(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "x_total", "", NULL, &c), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_inc(cs);
    drain_all(&fx.d);
    uint32_t idx = own_slot(&fx);
    struct shmet_abi_slot *sl = shmet__slot(&fx.seg, idx);
    uint64_t head = sl->head;
    sl->head = head + 5000; /* more than a ring ahead */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_RING_CORRUPT], 1);
    CU_ASSERT_EQUAL(sl->tail, head + 5000);
    CU_ASSERT_EQUAL(find(&fx.st, "x_total", NULL)->v.counter, 1);
    teardown(&fx);
}

static void test_drain_family_conflict_between_slots(void)
{
    struct fixture fx;
    struct shmet_client *c2;
    struct shmet_family *a, *b;
    struct shmet_series as, bs;

    setup(&fx, 1024);
    struct shmet_options o = {.ns = fx.ns};
    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c2), 0);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "dup", "", NULL, &a), 0);
    CU_ASSERT_EQUAL(shmet_gauge(c2, "dup", "", NULL, SHMET_GAUGE_SUM, &b), 0);
    shmet_series_get(a, NULL, &as);
    shmet_series_get(b, NULL, &bs);
    shmet_inc(as);
    drain_all(&fx.d); /* the counter comes first and wins */
    shmet_set(bs, 3);
    shmet_inc(as);
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_FAMILY_CONFLICT], 1);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 1);
    CU_ASSERT_EQUAL(find(&fx.st, "dup", NULL)->v.counter, 2);
    shmet_close(c2);
    teardown(&fx);
}

static void test_drain_slot_hostile_arena(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;

    setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "y_total", "", NULL, &c), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_inc(cs);
    uint32_t idx = own_slot(&fx);
    /* Corrupt the family entry's name before the aggregator ever reads it. */
    uint8_t *arena = shmet__slot_arena(&fx.seg, idx);
    memcpy(arena + 16 + 16 + 4, "9", 1); /* name now starts with a digit */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_DEFINITION], 2); /* family, then its series */
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 1);
    CU_ASSERT_EQUAL(fx.st.nfamilies, 0);
    teardown(&fx);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_drain_all_exact_totals", test_drain_all_exact_totals},
        {"test_drain_slot_gauge_leaves_with_producer", test_drain_slot_gauge_leaves_with_producer},
        {"test_drain_owner_gone_forked_child", test_drain_owner_gone_forked_child},
        {"test_drain_apply_hostile_records", test_drain_apply_hostile_records},
        {"test_drain_slot_corrupt_head_resyncs", test_drain_slot_corrupt_head_resyncs},
        {"test_drain_family_conflict_between_slots", test_drain_family_conflict_between_slots},
        {"test_drain_slot_hostile_arena", test_drain_slot_hostile_arena},
    };
    return T_RUN("drain", tests);
}
