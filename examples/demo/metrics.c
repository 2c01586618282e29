/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/metrics.c - see metrics.h. Label values come only from the
 * fixed tables in routes.c and from the 3-digit status, so the number of
 * series is bounded by construction, whatever clients send.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static const double duration_bounds[] = {0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10};

/* Powers of four from 64 bytes to 1 MiB. */
static const double size_bounds[] = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};

#define NB(a) (sizeof(a) / sizeof((a)[0]))

static const char *const labels_mes[] = {"method", "endpoint", "status", NULL};
static const char *const labels_me[] = {"method", "endpoint", NULL};
static const char *const labels_e[] = {"endpoint", NULL};

static int define_families(struct demo_metrics *m)
{
    int rc = shmet_counter(m->client, "http_requests_total", "HTTP requests answered.", labels_mes,
                           &m->requests);
    if (rc == 0)
        rc = shmet_histogram(m->client, "http_request_duration_seconds",
                             "Time from a complete request to its response, in seconds.", labels_me,
                             duration_bounds, NB(duration_bounds), &m->duration);
    if (rc == 0)
        rc = shmet_gauge(m->client, "http_requests_in_progress",
                         "Requests being handled, summed over the workers.", labels_e,
                         SHMET_GAUGE_SUM, &m->in_progress);
    if (rc == 0)
        rc = shmet_histogram(m->client, "http_request_size_bytes",
                             "Request size (head and body), in bytes.", labels_me, size_bounds,
                             NB(size_bounds), &m->req_size);
    if (rc == 0)
        rc = shmet_histogram(m->client, "http_response_size_bytes",
                             "Response size (head and body), in bytes.", labels_me, size_bounds,
                             NB(size_bounds), &m->resp_size);
    return rc;
}

int demo_metrics_open(struct demo_metrics *m, const char *ns)
{
    struct shmet_options o = {.ns = ns};
    int rc;

    memset(m, 0, sizeof(*m));
    rc = shmet_open(&o, &m->client);
    if (rc < 0)
        return rc;
    rc = define_families(m);
    if (rc < 0) {
        shmet_close(m->client);
        m->client = NULL;
    }
    return rc;
}

void demo_metrics_close(struct demo_metrics *m)
{
    shmet_close(m->client);
    m->client = NULL;
}

/* A series handle, or a zeroed one (which records nothing) on failure:
 * serving goes on, and the failure is said once. */
static struct shmet_series series(struct shmet_family *f, const char *const *values, bool *ok)
{
    static bool warned;
    struct shmet_series s = {0};
    int rc = shmet_series_get(f, values, &s);

    *ok = rc == 0;
    if (rc < 0 && !warned) {
        warned = true;
        fprintf(stderr, "shmetrics-demo: shmet_series_get: %s\n", shmet_strerror(rc));
    }
    return s;
}

static struct shmet_series counter_series(struct demo_metrics *m, int method, int ep, int status)
{
    /* Top bit set so that no key is 0 (the empty mark). */
    uint32_t key = 0x80000000u | (uint32_t)method << 20 | (uint32_t)ep << 12 | (uint32_t)status;
    uint32_t i = (key * 2654435761u) >> 23; /* Fibonacci hash to 9 bits */
    char code[12];
    bool ok;

    for (uint32_t n = 0; n < DEMO_COUNTER_CACHE; n++, i = (i + 1) & (DEMO_COUNTER_CACHE - 1)) {
        if (m->counters[i].key == key)
            return m->counters[i].s;
        if (m->counters[i].key == 0)
            break;
    }
    snprintf(code, sizeof(code), "%d", status);
    const char *values[] = {demo_method_names[method], demo_endpoint_names[ep], code};
    struct shmet_series s = series(m->requests, values, &ok);
    if (ok && m->counters[i].key == 0) /* a full table only means no caching */
        m->counters[i].key = key, m->counters[i].s = s;
    return s;
}

void demo_metrics_begin(struct demo_metrics *m, int ep)
{
    if (!m->gauges[ep].made) {
        const char *values[] = {demo_endpoint_names[ep]};
        m->gauges[ep].s = series(m->in_progress, values, &m->gauges[ep].made);
    }
    shmet_inc(m->gauges[ep].s);
}

void demo_metrics_end(struct demo_metrics *m, int method, int ep, int status, double seconds,
                      size_t req_bytes, size_t resp_bytes)
{
    struct demo_hist_series *h = &m->hists[method][ep];

    if (!h->made) {
        const char *values[] = {demo_method_names[method], demo_endpoint_names[ep]};
        bool a, b, c;
        h->duration = series(m->duration, values, &a);
        h->req_size = series(m->req_size, values, &b);
        h->resp_size = series(m->resp_size, values, &c);
        h->made = a && b && c;
    }
    shmet_inc(counter_series(m, method, ep, status));
    shmet_observe(h->duration, seconds);
    shmet_observe(h->req_size, (double)req_bytes);
    shmet_observe(h->resp_size, (double)resp_bytes);
    shmet_dec(m->gauges[ep].s);
}
