/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/routes.c - the route table and its handlers. Handlers only
 * decide the answer (status, body, delay); the worker (worker.c) does the
 * I/O, the timing and the recording. The `endpoint` label of a request is
 * the template of the route it matched, so /users/42 and /users/7 are one
 * series; paths that match no route all share the endpoint "other".
 */
#include <stdio.h>
#include <string.h>

#include "routes.h"

const char *const demo_method_names[M_COUNT] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
};

const char *const demo_endpoint_names[EP_COUNT] = {
    "/", "/users/{id}", "/missing", "/error", "/slow", "/echo", "other",
};

/* What a handler sees of the request. */
struct req_ctx {
    struct demo_http_str path, query, param; /* param: the {id} segment */
    const char *body;
    size_t body_len;
    unsigned slow_ms;
    char *scratch;
};

typedef void route_fn(const struct req_ctx *q, struct route_result *out);

static void reply(struct route_result *out, int status, const char *ctype, const char *body)
{
    out->status = status;
    out->ctype = ctype;
    out->body = body;
    out->body_len = strlen(body);
}

static const char root_page[] =
    "<!doctype html>\n<html><head><title>shmetrics-demo</title></head><body>\n"
    "<h1>shmetrics-demo</h1>\n"
    "<p>A pre-fork server: every worker records its requests into shared memory;\n"
    "shmetricsd serves the merged metrics. The X-Worker header names the worker\n"
    "that answered.</p>\n<ul>\n"
    "<li><a href=\"/users/42\">/users/42</a> (and /users/abc: 404)</li>\n"
    "<li><a href=\"/missing\">/missing</a> (404)</li>\n"
    "<li><a href=\"/error\">/error</a> (500)</li>\n"
    "<li><a href=\"/slow?ms=300\">/slow?ms=300</a></li>\n"
    "<li>POST /echo (echoes the body)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a> (not recorded)</li>\n"
    "</ul>\n</body></html>\n";

static void h_root(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 200, "text/html; charset=utf-8", root_page);
}

/* 1 to 18 decimal digits: fits an int64, so the id echoes back exactly. */
static bool numeric_id(struct demo_http_str s)
{
    if (s.len == 0 || s.len > 18)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

static void h_user(const struct req_ctx *q, struct route_result *out)
{
    if (!numeric_id(q->param)) {
        reply(out, 404, "application/json", "{\"error\":\"no such user\"}\n");
        return;
    }
    snprintf(q->scratch, ROUTE_SCRATCH, "{\"id\":%.*s,\"name\":\"user-%.*s\"}\n", (int)q->param.len,
             q->param.ptr, (int)q->param.len, q->param.ptr);
    reply(out, 200, "application/json", q->scratch);
}

static void h_missing(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 404, "text/plain; charset=utf-8", "not found (on purpose)\n");
}

static void h_error(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 500, "text/plain; charset=utf-8", "internal error (on purpose)\n");
}

/* The value of ms=N in the query: 1 and *ms set, 0 if absent, -1 if bad. */
static int query_ms(struct demo_http_str query, unsigned *ms)
{
    size_t i = 0;

    while (i < query.len) {
        size_t j = i;
        while (j < query.len && query.ptr[j] != '&')
            j++;
        if (j - i >= 3 && memcmp(query.ptr + i, "ms=", 3) == 0) {
            struct demo_http_str v = {query.ptr + i + 3, j - i - 3};
            unsigned long x = 0;
            if (v.len == 0 || v.len > 9)
                return -1;
            for (size_t k = 0; k < v.len; k++) {
                if (v.ptr[k] < '0' || v.ptr[k] > '9')
                    return -1;
                x = x * 10 + (unsigned long)(v.ptr[k] - '0');
            }
            *ms = x > ROUTE_SLOW_MAX_MS ? ROUTE_SLOW_MAX_MS : (unsigned)x;
            return 1;
        }
        i = j + 1;
    }
    return 0;
}

static void h_slow(const struct req_ctx *q, struct route_result *out)
{
    unsigned ms = q->slow_ms;

    if (query_ms(q->query, &ms) < 0) {
        reply(out, 400, "text/plain; charset=utf-8", "ms must be a number of milliseconds\n");
        return;
    }
    out->delay_ms = ms;
    snprintf(q->scratch, ROUTE_SCRATCH, "slept %u ms\n", ms);
    reply(out, 200, "text/plain; charset=utf-8", q->scratch);
}

static void h_echo(const struct req_ctx *q, struct route_result *out)
{
    out->status = 200;
    out->ctype = "application/octet-stream";
    out->body = q->body;
    out->body_len = q->body_len;
}

static void h_health(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 200, "text/plain; charset=utf-8", "ok\n");
}

static void h_metrics(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 200, "text/plain; charset=utf-8",
          "The workers write their metrics to shared memory; shmetricsd serves them\n"
          "(GET /metrics on the aggregator, by default http://127.0.0.1:9477/metrics).\n");
}

static void h_favicon(const struct req_ctx *q, struct route_result *out)
{
    (void)q;
    reply(out, 204, "image/x-icon", "");
}

/* A route matches its path exactly, or (param) its prefix followed by one
 * non-empty path segment. method M_GET also answers HEAD. */
static const struct route {
    const char *path;
    bool param;
    int endpoint; /* enum demo_endpoint, or -1: not recorded */
    enum demo_method method;
    route_fn *fn;
} routes[] = {
    {"/", false, EP_ROOT, M_GET, h_root},
    {"/users/", true, EP_USER, M_GET, h_user},
    {"/missing", false, EP_MISSING, M_GET, h_missing},
    {"/error", false, EP_ERROR, M_GET, h_error},
    {"/slow", false, EP_SLOW, M_GET, h_slow},
    {"/echo", false, EP_ECHO, M_POST, h_echo},
    {"/healthz", false, -1, M_GET, h_health},
    {"/metrics", false, -1, M_GET, h_metrics},
    {"/favicon.ico", false, -1, M_GET, h_favicon},
};

enum demo_method demo_method_of(struct demo_http_str method)
{
    for (int i = 0; i < M_OTHER; i++)
        if (method.len == strlen(demo_method_names[i]) &&
            memcmp(method.ptr, demo_method_names[i], method.len) == 0)
            return (enum demo_method)i;
    return M_OTHER;
}

static bool route_matches(const struct route *r, struct demo_http_str path,
                          struct demo_http_str *param)
{
    size_t n = strlen(r->path);

    if (!r->param)
        return path.len == n && memcmp(path.ptr, r->path, n) == 0;
    if (path.len <= n || memcmp(path.ptr, r->path, n) != 0 ||
        memchr(path.ptr + n, '/', path.len - n) != NULL)
        return false;
    *param = (struct demo_http_str){path.ptr + n, path.len - n};
    return true;
}

/* The route of a target (split into path and query), or NULL. */
static const struct route *route_find(struct demo_http_str target, struct req_ctx *q)
{
    const char *qm = memchr(target.ptr, '?', target.len);

    q->path = (struct demo_http_str){target.ptr, qm ? (size_t)(qm - target.ptr) : target.len};
    q->query = qm ? (struct demo_http_str){qm + 1, target.len - q->path.len - 1}
                  : (struct demo_http_str){"", 0};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (route_matches(&routes[i], q->path, &q->param))
            return &routes[i];
    return NULL;
}

int route_endpoint(struct demo_http_str target)
{
    struct req_ctx q;
    const struct route *r = route_find(target, &q);

    return r ? r->endpoint : EP_OTHER;
}

void route_dispatch(const struct demo_http_request *rq, const char *body, size_t body_len,
                    unsigned slow_ms, char *scratch, struct route_result *out)
{
    struct req_ctx q = {.body = body, .body_len = body_len, .slow_ms = slow_ms, .scratch = scratch};
    const struct route *r = route_find(rq->target, &q);
    enum demo_method m = demo_method_of(rq->method);

    memset(out, 0, sizeof(*out));
    if (r == NULL) {
        out->endpoint = EP_OTHER;
        reply(out, 404, "text/plain; charset=utf-8", "not found\n");
        return;
    }
    out->endpoint = r->endpoint;
    if (m != r->method && !(m == M_HEAD && r->method == M_GET)) {
        reply(out, 405, "text/plain; charset=utf-8", "method not allowed\n");
        return;
    }
    r->fn(&q, out);
}
