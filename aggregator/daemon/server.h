/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/server.h - the aggregator's state and its answers: the
 * ingest stage (ingest/ingest.h: the segment, locked so one shmetricsd per
 * namespace, and the drain), the store and the self metrics; timed
 * drains; and the routing of a parsed request to a reply (GET /metrics,
 * /debug, /healthz, /). No sockets here: the event loop (loop.c) calls in
 * and the connection (http/conn.c) sends the reply.
 */
#ifndef SHMETRICS_AGGREGATOR_SERVER_H
#define SHMETRICS_AGGREGATOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/buf.h"
#include "ingest/ingest.h"
#include "render/expo.h"
#include "http/http.h"
#include "http/reply.h"
#include "daemon/selfmetrics.h"
#include "shm.h"
#include "store/store.h"

struct server_config {
    const char *ns;             /* NULL: $SHMETRICS_NS, else "default" */
    struct shmet__geometry geo; /* used when the segment is created */
    struct shmet__perm perm;    /* likewise */
    const char *group;          /* --group as given (messages), or NULL */
    bool mode_set;              /* --mode given */
    uint32_t max_series;        /* per family */
    const struct const_label *consts;
    size_t nconsts;
};

struct server {
    struct ingest in; /* the segment and the drain */
    struct store st;
    struct selfmetrics self;
    struct expo_opts expo;
    uint64_t start_ns;  /* CLOCK_MONOTONIC at start */
    int32_t pid;
    char state_path[512]; /* the checkpoint file (checkpoint.h) */
};

/*
 * server_open - attach to (or create) the segment of cfg->ns, lock it, mark
 * it served by this process, build the store and drain what producers
 * wrote while no aggregator ran. On failure logs why and returns a
 * negative errno; -EWOULDBLOCK when another shmetricsd holds the
 * namespace.
 */
int server_open(struct server *s, const struct server_config *cfg);

/*
 * server_busy - is namespace ns (NULL: $SHMETRICS_NS, else "default")
 * served by another live shmetricsd? Looks without creating or attaching
 * anything: a probe of the lock on its segment file (tag-seg-hold), taken
 * shared and dropped at once. Returns -EWOULDBLOCK, after logging "another
 * shmetricsd (pid N) already serves namespace NS", or 0 (no segment, or
 * nobody holds it). For a start that must find out before it creates
 * anything (main.c); server_open() is what takes the lock. Two shmetricsd
 * starting at once may each see the other's probe as the lock: one gives
 * up, the other serves.
 */
int server_busy(const char *ns);

/* Graceful stop: drain once more and write the checkpoint, so that the
 * next shmetricsd continues the counters. Returns 0 or a negative errno
 * (already logged). */
int server_checkpoint(struct server *s);

/* Unmark the segment (if still ours), free everything. NULL-safe. */
void server_close(struct server *s);

/* Drain every slot once, timed into shmetrics_drain_duration_seconds.
 * Returns the records applied. */
uint64_t server_drain(struct server *s);

/* Store the heartbeat (CLOCK_REALTIME) in the segment header. */
void server_heartbeat(struct server *s);

/* Once a second: has the segment been truncated, replaced, or (while
 * lost) created again? Follows it (hold_check()). Returns true when the
 * drain reads another segment now, whose geometry may differ: ws is
 * reset for it. */
bool server_check_segment(struct server *s, struct watches *ws);

/* The ingest stage, which the event loop drives (pidfds, liveness). */
struct ingest *server_ingest(struct server *s);

/* Answer a parsed request (req->status 200). Returns 0, or -ENOMEM with a
 * 500 reply already made. */
int server_handle(struct server *s, const struct http_request *req, struct reply *r);

#endif /* SHMETRICS_AGGREGATOR_SERVER_H */
