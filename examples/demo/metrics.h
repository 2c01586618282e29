/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/metrics.h - the demo's five request metrics. The master makes
 * the client and the families before it forks (families stay valid in
 * every child); each worker then resolves series on first use and caches
 * the handles, so a request costs a few inline records and no lookup.
 */
#ifndef SHMETRICS_DEMO_METRICS_H
#define SHMETRICS_DEMO_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shmetrics.h>

#include "routes.h"

#define DEMO_COUNTER_CACHE 512 /* (method, endpoint, status) handles; power of two */

/* The three histogram series of one (method, endpoint). */
struct demo_hist_series {
    bool made;
    struct shmet_series duration, req_size, resp_size;
};

struct demo_metrics {
    struct shmet_client *client;
    struct shmet_family *requests;    /* http_requests_total{method,endpoint,status} */
    struct shmet_family *duration;    /* http_request_duration_seconds{method,endpoint} */
    struct shmet_family *in_progress; /* http_requests_in_progress{endpoint}, SUM */
    struct shmet_family *req_size;    /* http_request_size_bytes{method,endpoint} */
    struct shmet_family *resp_size;   /* http_response_size_bytes{method,endpoint} */

    /* Per-process caches of series handles, filled on first use. Copied
     * by fork(), and series stay valid across it. */
    struct {
        uint32_t key; /* 0: empty */
        struct shmet_series s;
    } counters[DEMO_COUNTER_CACHE];
    struct demo_hist_series hists[M_COUNT][EP_COUNT];
    struct {
        bool made;
        struct shmet_series s;
    } gauges[EP_COUNT];
};

/* Open the namespace's segment (ns NULL: $SHMETRICS_NS, else "default")
 * and define the families. Returns 0 or a negative errno; m is then
 * ready for fork(). */
int demo_metrics_open(struct demo_metrics *m, const char *ns);
void demo_metrics_close(struct demo_metrics *m);

/* A request of endpoint ep has started: in_progress{ep} += 1. */
void demo_metrics_begin(struct demo_metrics *m, int ep);

/* It has been answered: one count, three observations, in_progress -= 1. */
void demo_metrics_end(struct demo_metrics *m, int method, int ep, int status, double seconds,
                      size_t req_bytes, size_t resp_bytes);

#endif /* SHMETRICS_DEMO_METRICS_H */
