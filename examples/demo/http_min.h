/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/http_min.h - a minimal, strict HTTP/1.x head parser shared by
 * shmetrics-demo (requests) and shmetrics-load (responses). It never
 * allocates: results point into the caller's buffer, which must stay put
 * while they are used. Only what the two tools need is extracted:
 * Content-Length, Connection, Transfer-Encoding and one custom header.
 * Names start with demo_http_ (DEMO_HTTP_ for macros): shmetricsd has an
 * HTTP parser of its own (aggregator/http/http.h), with other rules, and
 * the demo, an example of a user of the library, does not use it.
 */
#ifndef SHMETRICS_DEMO_HTTP_MIN_H
#define SHMETRICS_DEMO_HTTP_MIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEMO_HTTP_HEAD_MAX 8192 /* bytes, request line and headers included */
#define DEMO_HTTP_HEADERS_MAX 64

struct demo_http_str {
    const char *ptr;
    size_t len;
};

/* What both heads carry. */
struct demo_http_head {
    size_t head_len;             /* bytes up to and including the empty line */
    int minor;                   /* HTTP/1.<minor>: 0 or 1 */
    bool has_length;             /* a Content-Length header was present */
    uint64_t content_length;     /* its value */
    bool chunked;                /* a Transfer-Encoding header was present */
    bool conn_close;             /* Connection: close */
    bool conn_keep_alive;        /* Connection: keep-alive */
    struct demo_http_str worker; /* X-Worker value, empty when absent */
};

struct demo_http_request {
    struct demo_http_head h;
    struct demo_http_str method;
    struct demo_http_str target; /* origin-form: path and optional ?query */
};

struct demo_http_response {
    struct demo_http_head h;
    int status; /* 100..599 */
};

/*
 * demo_http_parse_request, demo_http_parse_response - parse the head at the
 * start of buf[0..len). Return 1 when a complete head was parsed (h.head_len
 * says where the body starts), 0 when more bytes are needed, -EBADMSG when
 * the head is malformed, -EMSGSIZE when no complete head fits
 * DEMO_HTTP_HEAD_MAX.
 */
int demo_http_parse_request(const char *buf, size_t len, struct demo_http_request *r);
int demo_http_parse_response(const char *buf, size_t len, struct demo_http_response *r);

/* Keep the connection open after this message? (HTTP/1.1 default yes,
 * HTTP/1.0 default no, Connection overrides.) */
bool demo_http_keep_alive(const struct demo_http_head *h);

/* The reason phrase of a status code ("Not Found"); "Unknown" if none. */
const char *demo_http_reason(int status);

/* Split "HOST:PORT" or "[V6ADDR]:PORT" (copied into buf, of len bytes)
 * into *host and *port. Returns 0 or -EINVAL. */
int demo_http_split_hostport(const char *s, char *buf, size_t len, const char **host,
                             const char **port);

/* Case-insensitive comparison of s with a NUL-terminated literal. */
bool demo_http_str_ieq(struct demo_http_str s, const char *lit);

#endif /* SHMETRICS_DEMO_HTTP_MIN_H */
