/* SPDX-License-Identifier: MIT */
/*
 * bench/consumer.c - the in-process consumer of `shmetrics-bench
 * client --consumer inproc`: a thread that drains every ring of the
 * benchmark segment in batches, as shmetricsd does, but discards the
 * records. It isolates the producer's cost from the aggregator's; the
 * headline figures run against a live shmetricsd instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "client.h"

#define DRAIN_BATCH 1024

struct drain_state {
    struct shmet__ring_consumer rc[BENCH_SLOTS];
    uint32_t gen[BENCH_SLOTS];
    struct shmet_abi_record buf[DRAIN_BATCH];
};

static uint64_t drain_slot(struct consumer *c, struct drain_state *d, uint32_t i)
{
    struct shmet_abi_slot *sl = shmet__slot(c->seg, i);
    /* ACQUIRE: pairs with the RELEASE store of ACTIVE in slot claim, so
     * the reset ring indices are seen before we start at them. */
    uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
    uint64_t got = 0;
    int n;

    if (st != SHMET_SLOT_ACTIVE && st != SHMET_SLOT_DEAD)
        return 0;
    /* RELAXED: ordered by the state load above. */
    uint32_t g = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    if (g != d->gen[i]) {
        shmet__ring_consumer_init(&d->rc[i], c->seg, i);
        d->gen[i] = g;
    }
    while ((n = shmet__ring_consume(&d->rc[i], d->buf, DRAIN_BATCH)) > 0)
        got += (uint64_t)n;
    return got;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct drain_state *d = calloc(1, sizeof(*d));
    uint32_t slots = c->seg->slots < BENCH_SLOTS ? c->seg->slots : BENCH_SLOTS;

    if (d == NULL)
        return NULL;
    /* ACQUIRE: pairs with the RELEASE store of stop in consumer_stop(). */
    while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
        uint64_t got = 0;
        for (uint32_t i = 0; i < slots; i++)
            got += drain_slot(c, d, i);
        c->drained += got;
        /* Drain like the aggregator does, in batches, not by spinning on
         * the producers' head lines: a pass that found less than a
         * sixteenth of a ring rests 50 us, so the line each producer
         * writes per record is not pulled away after every store. */
        if (got < c->seg->ring_records / 16) {
            struct timespec rest = {0, 50000};
            nanosleep(&rest, NULL);
        }
    }
    for (uint32_t i = 0; i < slots; i++)
        c->drained += drain_slot(c, d, i);
    free(d);
    return NULL;
}

int consumer_start(struct consumer *c, struct shmet__seg *seg)
{
    c->seg = seg;
    c->drained = 0;
    atomic_init(&c->stop, 0);
    return pthread_create(&c->th, NULL, consumer_main, c) == 0 ? 0 : -EAGAIN;
}

void consumer_stop(struct consumer *c)
{
    /* RELEASE: pairs with the ACQUIRE load in consumer_main(); the
     * producers' last records are drained by its final pass. */
    atomic_store_explicit(&c->stop, 1, memory_order_release);
    pthread_join(c->th, NULL);
}
