/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/demo.h - shmetrics-demo's configuration and the two halves of
 * the pre-fork server: the master (master.c) owns the listening socket, the
 * metric families and the workers' lives; each worker (worker.c) accepts
 * on the shared socket and answers requests until told to stop.
 */
#ifndef SHMETRICS_DEMO_DEMO_H
#define SHMETRICS_DEMO_DEMO_H

#include <stdatomic.h>
#include <stdint.h>

#include "metrics.h"

#define DEMO_WORKERS_MAX 256

struct demo_config {
    const char *ns;      /* namespace, NULL: $SHMETRICS_NS or "default" */
    const char *listen;  /* ADDR:PORT */
    unsigned workers;    /* worker processes */
    unsigned slow_ms;    /* /slow without ?ms= */
    unsigned timeout_ms; /* a connection making no progress is closed */
    unsigned grace_ms;   /* stop: SIGTERM, then SIGKILL after this */
    unsigned max_conns;  /* open connections per worker */
};

/*
 * Open connections per worker, in memory the master maps MAP_SHARED before
 * it forks. Each worker stores only its own entry; the master zeroes the
 * entry of a worker that died. A worker holding more than the average
 * stops accepting until it no longer does, so the connections of a client
 * that opens many at once spread over the workers instead of piling up on
 * whichever woke first (tag-demo-balance).
 */
struct demo_balance {
    unsigned workers;
    _Atomic uint32_t conns[DEMO_WORKERS_MAX];
};

/* Monotonic clock, in nanoseconds and in milliseconds. */
int64_t demo_now_ns(void);
int64_t demo_now_ms(void);

/* master.c: start the workers, keep them alive, stop them on SIGTERM or
 * SIGINT. Returns the process exit code. */
int master_run(const struct demo_config *cfg, int lfd, struct demo_metrics *m);

/* worker.c: serve on lfd as worker number index until SIGTERM or SIGINT,
 * then finish the requests in flight. Returns the process exit code. */
int worker_run(const struct demo_config *cfg, int lfd, struct demo_metrics *m,
               struct demo_balance *bal, unsigned index);

#endif /* SHMETRICS_DEMO_DEMO_H */
