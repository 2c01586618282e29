/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/test_drain.c - drain into the store with real producers
 * (the client library, in this process and in forked children): exact
 * totals, gauge contributions leaving with their producer, slots freed,
 * and hostile records refused and counted by reason without touching the
 * store; a ring head beyond one ring resynchronised.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "ingest/checkpoint.h"
#include "render/debug.h"
#include "ingest/drain.h"
#include "render/expo.h"
#include "t_drain.h"
#include "t_util.h"

static void test_drain_all_exact_totals(void)
{
    struct fixture fx;
    struct shmet_family *c, *g, *h;
    struct shmet_series cs, gs, hs;
    double bounds[] = {1, 2};

    t_setup(&fx, 1024);
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
    CU_ASSERT_EQUAL(t_find(&fx.st, "jobs_total", "a")->v.counter, 5000);
    CU_ASSERT_EQUAL(store_gauge_value(t_find(&fx.st, "queue", NULL)), 9999);
    struct store_series *s = t_find(&fx.st, "lat", NULL);
    CU_ASSERT_EQUAL(s->v.h.count, 10000);
    CU_ASSERT_EQUAL(s->v.h.buckets[0], 3334); /* 0.5 */
    CU_ASSERT_EQUAL(s->v.h.buckets[1], 3333); /* 1.5 */
    CU_ASSERT_EQUAL(s->v.h.buckets[2], 3333); /* 2.5 */
    CU_ASSERT_EQUAL(s->v.h.sum, 3334 * 0.5 + 3333 * 1.5 + 3333 * 2.5);
    CU_ASSERT_EQUAL(drain_invalid_total(&fx.d), 0);
    t_teardown(&fx);
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

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_gauge(fx.c, "busy", "", NULL, SHMET_GAUGE_SUM, &g), 0);
    shmet_series_get(g, NULL, &gs);
    shmet_add(gs, 2); /* this thread: 2 */
    pthread_create(&t, NULL, thread_gauge, &gs);
    pthread_join(t, NULL); /* that thread: 5, then it exits: slot DEAD */
    drain_all(&fx.d);
    /* The exited thread's slot was drained and freed in the same pass. */
    CU_ASSERT_EQUAL(store_gauge_value(t_find(&fx.st, "busy", NULL)), 2);
    CU_ASSERT_EQUAL(fx.d.slots_freed, 1);
    uint32_t free_slots = 0;
    for (uint32_t i = 0; i < fx.seg.slots; i++)
        free_slots += shmet__slot(&fx.seg, i)->state == SHMET_SLOT_FREE;
    CU_ASSERT_EQUAL(free_slots, fx.seg.slots - 1);
    t_teardown(&fx);
}

static void test_drain_owner_gone_forked_child(void)
{
    struct fixture fx;
    struct shmet_family *c, *g;
    struct shmet_series cs, gs;
    int status;

    t_setup(&fx, 1024);
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
    CU_ASSERT_EQUAL(store_gauge_value(t_find(&fx.st, "conns", NULL)), 42);
    CU_ASSERT_EQUAL(drain_check_liveness(&fx.d), 1);
    CU_ASSERT_EQUAL(t_find(&fx.st, "n_total", NULL)->v.counter, 777); /* survives death */
    CU_ASSERT(isnan(store_gauge_value(t_find(&fx.st, "conns", NULL)))); /* MAX of nobody */
    CU_ASSERT_EQUAL(fx.d.slots_freed, 1);
    t_teardown(&fx);
}

static void test_drain_apply_hostile_records(void)
{
    struct fixture fx;
    struct shmet_family *c, *h;
    struct shmet_series cs, hs;

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "ok_total", "", NULL, &c), 0);
    CU_ASSERT_EQUAL(shmet_histogram(fx.c, "h", "", NULL, NULL, 0, &h), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_series_get(h, NULL, &hs);
    shmet_inc(cs);
    shmet_observe(hs, 1);
    uint32_t idx = t_own_slot(&fx);
    t_raw_push(&fx, idx, cs.id, 99, 1);                  /* bad op */
    t_raw_push(&fx, idx, 123456, SHMET_OP_COUNTER_ADD, 1); /* unknown series */
    t_raw_push(&fx, idx, cs.id, SHMET_OP_OBSERVE, 1);    /* counter observed */
    t_raw_push(&fx, idx, hs.id, SHMET_OP_GAUGE_SET, 1);  /* histogram set */
    t_raw_push(&fx, idx, cs.id, SHMET_OP_COUNTER_ADD, -1); /* counter backwards */
    t_raw_push(&fx, idx, cs.id, SHMET_OP_COUNTER_ADD, NAN);
    t_raw_push(&fx, idx, hs.id, SHMET_OP_OBSERVE, NAN);
    t_raw_push(&fx, idx, 0, SHMET_OP_DEFINE, 0); /* aux 0: not a kind */
    /* (the client's private head is now stale: it must not record again) */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_OP], 2);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_UNKNOWN_SERIES], 1);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_TYPE_MISMATCH], 2);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_BAD_VALUE], 3);
    CU_ASSERT_EQUAL(t_find(&fx.st, "ok_total", NULL)->v.counter, 1);
    CU_ASSERT_EQUAL(t_find(&fx.st, "h", NULL)->v.h.count, 1);
    CU_ASSERT_EQUAL(fx.d.samples_total, 2);
    t_teardown(&fx);
}

static void test_drain_slot_corrupt_head_resyncs(void)
{
    struct fixture fx;
    struct shmet_family *c;
    struct shmet_series cs;

    t_setup(&fx, 1024);
    CU_ASSERT_EQUAL(shmet_counter(fx.c, "x_total", "", NULL, &c), 0);
    shmet_series_get(c, NULL, &cs);
    shmet_inc(cs);
    drain_all(&fx.d);
    uint32_t idx = t_own_slot(&fx);
    struct shmet_abi_slot *sl = shmet__slot(&fx.seg, idx);
    uint64_t head = sl->head;
    sl->head = head + 5000; /* more than a ring ahead */
    drain_all(&fx.d);
    CU_ASSERT_EQUAL(fx.d.invalid[INV_RING_CORRUPT], 1);
    CU_ASSERT_EQUAL(sl->tail, head + 5000);
    CU_ASSERT_EQUAL(t_find(&fx.st, "x_total", NULL)->v.counter, 1);
    t_teardown(&fx);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_drain_all_exact_totals", test_drain_all_exact_totals},
        {"test_drain_slot_gauge_leaves_with_producer", test_drain_slot_gauge_leaves_with_producer},
        {"test_drain_owner_gone_forked_child", test_drain_owner_gone_forked_child},
        {"test_drain_apply_hostile_records", test_drain_apply_hostile_records},
        {"test_drain_slot_corrupt_head_resyncs", test_drain_slot_corrupt_head_resyncs},
    };
    return T_RUN("drain", tests);
}

