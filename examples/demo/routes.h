/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/routes.h - the demo's route table: which request path maps to
 * which handler and to which `endpoint` label (the route template, never
 * the raw path), and the fixed set of `method` label values.
 */
#ifndef SHMETRICS_DEMO_ROUTES_H
#define SHMETRICS_DEMO_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "http_min.h"

/* `method` label values: the common methods, everything else is "other". */
enum demo_method { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_PATCH, M_OPTIONS, M_OTHER, M_COUNT };

/* `endpoint` label values: one per recorded route template, and "other"
 * for every path no route knows (so a scan of random paths adds one
 * series, not one per path). */
enum demo_endpoint { EP_ROOT, EP_USER, EP_MISSING, EP_ERROR, EP_SLOW, EP_ECHO, EP_OTHER, EP_COUNT };

extern const char *const demo_method_names[M_COUNT];
extern const char *const demo_endpoint_names[EP_COUNT];

#define ROUTE_BODY_MAX (64u << 10) /* largest request body accepted */
#define ROUTE_SLOW_MAX_MS 5000u    /* /slow never sleeps longer */
#define ROUTE_SCRATCH 512          /* handlers' formatted bodies fit in this */

/* The answer to one request. body points into static text, the request's
 * own body (POST /echo) or the caller's scratch buffer. */
struct route_result {
    int status;
    int endpoint;      /* enum demo_endpoint, or -1: not recorded */
    const char *ctype; /* Content-Type */
    const char *body;
    size_t body_len;
    unsigned delay_ms; /* answer only after this long (/slow) */
};

/* The method label index of a request method. */
enum demo_method demo_method_of(struct demo_http_str method);

/* The endpoint of a path without routing it (for requests refused before
 * dispatch, e.g. a body too large): a template index, EP_OTHER, or -1 when
 * the path is one of the unrecorded ones (/healthz, /metrics, ...). */
int route_endpoint(struct demo_http_str target);

/*
 * route_dispatch - answer one complete, well-formed request. body holds its
 * Content-Length bytes; slow_ms is the /slow default; scratch has
 * ROUTE_SCRATCH bytes. Never fails: every request gets a status.
 */
void route_dispatch(const struct demo_http_request *rq, const char *body, size_t body_len,
                    unsigned slow_ms, char *scratch, struct route_result *out);

#endif /* SHMETRICS_DEMO_ROUTES_H */
