/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/loop.h - the event loop of shmetricsd: one thread, one
 * io_uring, no epoll. Everything the aggregator waits for is an operation
 * in that ring:
 *   - the listening socket (multishot accept, or re-armed single accepts
 *     where the kernel has no multishot);
 *   - each connection's one receive or send at a time (conn.c says which);
 *   - one timer (IORING_OP_TIMEOUT) that drains the segment and, once a
 *     second, does the housekeeping: connection deadlines, the liveness
 *     check, watching new producers;
 *   - a pidfd poll per producer process (watch.c);
 *   - a read of the signalfd that carries SIGTERM and SIGINT (a graceful
 *     stop) and SIGHUP (logged and ignored).
 *
 * Drain timer back-off (tag-drain-backoff). Every read path (/metrics,
 * /debug) drains first, so what a scrape shows never waits for the timer;
 * the timer keeps rings from filling and notices definitions and deaths.
 * It fires every --drain-interval-ms while drains find records. After
 * LOOP_IDLE_AFTER drains in a row find nothing, the interval doubles with
 * each further empty drain up to LOOP_IDLE_MAX_MS (or the configured
 * interval, when longer): 250 wake-ups a second instead of a thousand,
 * each a look at every slot's head. The first drain that finds a record
 * returns to the short interval, so a burst waits at most 4 ms to be
 * drained, inside the 5 ms sample-to-visible target. Only after
 * LOOP_DEEP_IDLE_AFTER empty drains (about ten seconds without a record)
 * does the interval grow to LOOP_DEEP_IDLE_MS: some 30 wake-ups a second,
 * each costing tens of microseconds on a virtual machine, keep a host
 * with no traffic under 0.2% of a core; the first sample after such a
 * silence waits up to 32 ms. Filling a default ring (16384 records) in
 * 32 ms takes a thread recording over 500k samples a second.
 */
#ifndef SHMETRICS_AGGREGATOR_LOOP_H
#define SHMETRICS_AGGREGATOR_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include <liburing.h>

#include "http/conn.h"
#include "daemon/server.h"
#include "ingest/watch.h"

#define LOOP_IDLE_AFTER 16      /* empty drains before backing off */
#define LOOP_IDLE_MAX_MS 4u     /* longest idle drain interval */
#define LOOP_DEEP_IDLE_AFTER 2500u /* empty drains (~10 s) before ... */
#define LOOP_DEEP_IDLE_MS 32u      /* ... this longer interval */
#define LOOP_HOUSEKEEP_MS 1000u /* deadlines, watches, liveness */
#define LOOP_LIVENESS_SLOW                                                                         \
    10                           /* ticks between liveness checks when every                       \
                                    active slot has a pidfd */
#define LOOP_STOP_GRACE_MS 2000u /* to finish replies in flight at a stop */
#define LOOP_REJECT_SPARE 32u    /* connections over the limit, for 503s */
#define LOOP_FD_RESERVE 16u      /* files opened for a moment: /proc, checkpoint */

struct loop_conn;

struct loop {
    struct io_uring ring;
    bool ring_ok;
    struct server *srv;
    struct ingest *in; /* the server's: pidfds, liveness, reclaims */
    struct watches watches;
    int listen_fd;
    int sig_fd;
    struct signalfd_siginfo siginfo;

    /* connections: slots 0..cap-1, max_conns of them normal */
    struct loop_conn **conns;
    uint32_t *free_idx;
    uint32_t nfree, cap, max_conns;
    uint32_t nnormal, nreject;
    struct conn_timeouts timeouts;
    struct reply_pool pool; /* the connections' spare exposition buffer */

    /* accept */
    bool multishot; /* multishot accept works here */
    bool accept_armed;
    struct __kernel_timespec accept_retry_ts;

    /* the timer */
    struct __kernel_timespec ts;
    uint32_t base_ms, cur_ms;
    uint32_t empty_streak;
    uint64_t next_housekeep_ns;
    uint32_t housekeep_ticks;

    /* stopping */
    bool stopping, done;
    uint64_t stop_deadline_ns;
};

struct loop_config {
    uint32_t drain_interval_ms;
    uint32_t max_conns;
    struct conn_timeouts timeouts;
};

/*
 * loop_init - set up the ring and the signal handling (SIGTERM, SIGINT and
 * SIGHUP blocked and read through a signalfd, SIGPIPE ignored). Call it
 * first: from then on no signal can end the process half-way through its
 * start. On failure logs the cause (naming io_uring_disabled or seccomp
 * when the kernel refuses io_uring) and returns a negative errno.
 */
int loop_init(struct loop *l, const struct loop_config *cfg);

/*
 * loop_pause - sleep up to ms before loop_run(), awake to signals: a
 * SIGHUP is logged and the sleep goes on; SIGTERM or SIGINT is logged and
 * ends it with -ECANCELED (a stop asked for before serving). 0 when ms
 * went by, or a negative errno from poll() (logged). For waits during the
 * start
 * (the listening address in use); never while loop_run() has its own read
 * of the signalfd in the ring.
 */
int loop_pause(struct loop *l, uint32_t ms);

/* Serve srv on listen_fd (which the loop then owns and closes) until
 * SIGTERM or SIGINT. Returns the exit code. */
int loop_run(struct loop *l, struct server *srv, int listen_fd);

/* Close the ring, connections and watches. NULL-safe. */
void loop_fini(struct loop *l);

#endif /* SHMETRICS_AGGREGATOR_LOOP_H */
