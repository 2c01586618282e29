/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/ingest.c - see ingest.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

int ingest_open(struct ingest *in, const char *ns, const struct shmet__geometry *geo,
                const struct shmet__perm *perm, int32_t pid)
{
    memset(in, 0, sizeof(*in));
    in->hold.fd = -1;
    return hold_open(&in->hold, ns, geo, perm, pid);
}

int ingest_start(struct ingest *in, struct store *st)
{
    int rc;

    in->d = malloc(sizeof(*in->d));
    if (in->d == NULL)
        return -ENOMEM;
    if ((rc = drain_init(in->d, &in->hold.seg, st)) < 0) {
        free(in->d);
        in->d = NULL;
    }
    return rc;
}

void ingest_close(struct ingest *in)
{
    if (in == NULL)
        return;
    if (in->d != NULL) {
        drain_fini(in->d);
        free(in->d);
        in->d = NULL;
    }
    hold_close(&in->hold);
}

int ingest_run(struct ingest *in, void (*fn)(void *), void *arg)
{
    int rc = hold_run(&in->hold, fn, arg);

    if (rc == -EFAULT && in->d != NULL)
        drain_forget(in->d); /* its slot state points into the lost mapping */
    return rc;
}

static void drain_cb(void *arg)
{
    struct ingest *in = arg;

    in->drained = drain_all(in->d);
}

int64_t ingest_drain(struct ingest *in)
{
    in->drained = 0;
    if (ingest_run(in, drain_cb, in) == -ENXIO)
        return -ENXIO;
    return (int64_t)in->drained; /* a fault cut it short: what it applied */
}

static void heartbeat_cb(void *arg)
{
    struct ingest *in = arg;

    /* RELAXED: a liveness report; readers compare it with their clock. */
    atomic_store_explicit(&in->hold.seg.hdr->heartbeat_ns, shmet__now_ns(), memory_order_relaxed);
}

void ingest_heartbeat(struct ingest *in)
{
    (void)ingest_run(in, heartbeat_cb, in);
}

bool ingest_check_segment(struct ingest *in, struct watches *ws)
{
    enum hold_change c = hold_check(&in->hold, drain_cb, in);

    if (c == HOLD_LOST)
        drain_forget(in->d);
    if (c != HOLD_NEW)
        return false;
    if (drain_rebind(in->d) < 0) {
        hold_drop(&in->hold, "out of memory for its slots");
        return false;
    }
    (void)watch_reset(ws, in->hold.seg.slots); /* a failure leaves it to the liveness check */
    ingest_heartbeat(in);
    return true;
}

struct watch_op {
    struct ingest *in;
    struct watches *ws;
    struct watch w; /* ingest_watch_fired(): the process */
};

static void scan_cb(void *arg)
{
    struct watch_op *op = arg;

    watch_scan(op->ws, op->in->d);
}

void ingest_watch_scan(struct ingest *in, struct watches *ws)
{
    struct watch_op op = {.in = in, .ws = ws};

    (void)ingest_run(in, scan_cb, &op);
}

static void fired_cb(void *arg)
{
    struct watch_op *op = arg;

    watch_fired(op->ws, &op->w, op->in->d);
}

void ingest_watch_fired(struct ingest *in, struct watches *ws, uint32_t index)
{
    struct watch_op op = {.in = in, .ws = ws};

    if (watch_take(ws, index, &op.w))
        (void)ingest_run(in, fired_cb, &op);
}

static void liveness_cb(void *arg)
{
    (void)drain_check_liveness(((struct ingest *)arg)->d);
}

void ingest_liveness(struct ingest *in)
{
    (void)ingest_run(in, liveness_cb, in);
}

static void reclaim_cb(void *arg)
{
    (void)drain_reclaim_claims(((struct ingest *)arg)->d);
}

void ingest_reclaim(struct ingest *in)
{
    (void)ingest_run(in, reclaim_cb, in);
}
