/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/load.h - shmetrics-load, the load generator for
 * shmetrics-demo: load.c holds the command line, the request mix and the
 * report; load_conn.c the connections and the event loop.
 */
#ifndef SHMETRICS_DEMO_LOAD_H
#define SHMETRICS_DEMO_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_STATUS_MAX 600
#define LOAD_WORKERS_MAX 256
#define LOAD_REQUEST_MAX 4096 /* one request, head and body */

/* One kind of request in the mix, with the labels the demo records it by. */
struct load_kind {
    const char *method;
    const char *endpoint; /* the demo's endpoint label; NULL: not recorded */
    const char *what;     /* the paths it sends, for the report */
    unsigned weight;
};

extern const struct load_kind load_kinds[];
extern const unsigned load_nkinds;

struct load_config {
    const char *target;   /* HOST:PORT */
    unsigned connections; /* concurrent connections */
    uint64_t requests;    /* total; 0: bounded by duration only */
    double duration_s;    /* 0: bounded by requests only (both 0: until a signal) */
    double rate;          /* requests per second in all; 0: as fast as possible */
    unsigned slow_max_ms; /* /slow?ms= is uniform in [0, this] */
    unsigned timeout_ms;  /* per request */
    uint64_t seed;
    bool keep_alive; /* reuse connections */
};

struct load_stats {
    uint64_t sent;      /* requests written in full */
    uint64_t responses; /* complete responses read */
    uint64_t errors;    /* connects refused, resets, timeouts, bad responses */
    uint64_t retries;   /* requests resent after a stale keep-alive close */
    uint64_t connects;  /* connections opened */
    uint64_t by_status[LOAD_STATUS_MAX];
    uint64_t *by_kind; /* [kind * LOAD_STATUS_MAX + status] */
    struct load_worker {
        long pid;   /* from X-Worker */
        uint64_t n; /* responses */
    } workers[LOAD_WORKERS_MAX];
    unsigned nworkers;
    uint32_t *lat_us; /* a uniform sample of latencies (reservoir) */
    size_t lat_n;
    uint64_t lat_seen;
    double elapsed_s;
    char fatal[256]; /* non-empty: the run was abandoned, and why */
};

/* load.c */
uint64_t load_rand(uint64_t *state);
/* Build the next request of the mix in buf; returns its length and sets
 * *kind. */
size_t load_build_request(const struct load_config *cfg, uint64_t *rng, char *buf, int *kind);
void load_stats_response(struct load_stats *st, uint64_t *rng, int kind, int status, long worker,
                         uint64_t latency_us);

/* load_conn.c: run the load; 0, or a negative errno when it could not
 * start (st->fatal says why). */
int load_run(const struct load_config *cfg, struct load_stats *st);

#endif /* SHMETRICS_DEMO_LOAD_H */
