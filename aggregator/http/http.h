/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/http.h - HTTP/1.1 without I/O: an incremental request-head
 * parser and a response-head builder. The event loop (daemon/loop.c) and
 * the connections (conn.c) own the sockets and the buffers; this file only
 * looks at bytes.
 *
 * The http stage: the protocol, and nothing of what is served:
 *   http.c       request parser, response heads (this file's)
 *   negotiate.c  Accept and Accept-Encoding: which format, whether gzip
 *   conn.c       one connection: keep-alive, pipelining, deadlines, linger
 *   reply.c      what a request is answered with, and its buffers
 *   net.c        listening sockets, --listen parsing
 * It calls render/ (formats, buffers) and below; a complete request goes
 * back to the loop, which has the daemon answer it.
 *
 * What the parser accepts (RFC 9112), and what it answers otherwise:
 *   - a head of at most HTTP_HEAD_MAX bytes, empty line included (431);
 *   - empty lines before the request line are skipped (RFC 9112 2.2);
 *   - lines end in CR LF or a bare LF; a CR not followed by LF is an
 *     error (400), as are control bytes other than HTAB anywhere (400);
 *   - request line "METHOD SP target SP HTTP/1.x" with single spaces;
 *     the method is a token; the target is origin-form ("/path?query")
 *     or absolute-form ("http://host/path", reduced to its path); the
 *     version is HTTP/1.0 or HTTP/1.1 (HTTP/1.2+ is answered as 1.1; any
 *     other major is 505; anything else 400);
 *   - header lines "name: value": the name is a token directly followed by
 *     the colon; obs-fold continuation lines are refused (400);
 *   - HTTP/1.1 needs exactly one Host (400), HTTP/1.0 at most one;
 *   - no request body: Content-Length other than 0 is 413, an invalid or
 *     conflicting Content-Length 400, any Transfer-Encoding 411 (400 when
 *     Content-Length is present too, a request-smuggling signature).
 * Every error ends the connection: after a bad head the framing of what
 * follows is unknown.
 */
#ifndef SHMETRICS_AGGREGATOR_HTTP_H
#define SHMETRICS_AGGREGATOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "render/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HTTP_HEAD_MAX 8192 /* request line + header lines + empty line */
#define HTTP_LIST_MAX 16   /* field lines kept per list-valued header */

/* A run of bytes inside the caller's buffer; not NUL-terminated. */
struct http_str {
    const char *p;
    size_t n;
};

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_OTHER, /* a valid token we do not serve (405) */
};

/* A parsed request head. Every http_str points into the buffer given to
 * http_parse() and is valid as long as those bytes are. */
struct http_request {
    int status; /* on error: the status to answer */
    enum http_method method;
    struct http_str method_name;
    struct http_str target; /* as sent */
    struct http_str path;   /* the target's path, without the query */
    uint8_t minor;          /* HTTP/1.<minor>: 0 or 1 */
    bool keep_alive;        /* after Connection and the version default */
    struct http_str host;
    struct http_str accept[HTTP_LIST_MAX]; /* one per Accept field line */
    uint8_t naccept;
    struct http_str accept_encoding[HTTP_LIST_MAX];
    uint8_t naccept_encoding;
};

/* Incremental state: how far the bytes have been scanned. The scan is a
 * byte-at-a-time state machine, so feeding a head in pieces of any size
 * gives the same result as feeding it whole, and total work is linear. */
struct http_parser {
    uint32_t pos;        /* bytes scanned */
    uint32_t line_start; /* first byte of the current line */
    uint32_t req_start;  /* first byte of the request line */
    uint16_t error;      /* status of a refused head, once found */
    uint8_t state;       /* private */
};

void http_parser_init(struct http_parser *p);

/*
 * http_parse - scan buf[0, len), which holds every byte received since the
 * request started (the same bytes as in the previous call, plus more).
 * Returns the length of the head (> 0) when it is complete, and fills req;
 * the bytes after it belong to the next request (pipelining): call
 * http_parser_init() and parse them from their own start. Returns 0 when
 * more bytes are needed, or -EBADMSG with req->status set (400, 411, 413,
 * 431 or 505) when the request must be refused and the connection closed.
 * Never reads outside buf[0, len).
 */
int http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req);

/* True when buf[0, n) equals the NUL-terminated s, ignoring ASCII case. */
bool http_str_ieq(const char *buf, size_t n, const char *s);

/* The reason phrase of a status code we send ("Not Found"). */
const char *http_reason(int status);

/* A response head to build. NULL strings are left out. */
struct http_response {
    int status;
    uint8_t minor; /* answer as HTTP/1.<minor> */
    const char *content_type;
    const char *content_encoding; /* "gzip", or NULL for identity */
    uint64_t content_length;
    bool vary;         /* Vary: Accept, Accept-Encoding */
    bool close;        /* Connection: close, else keep-alive */
    const char *allow; /* Allow (405) */
    time_t date;       /* Date, or 0 to leave it out */
};

/* Append the status line and header lines, ending with the empty line.
 * Returns 0, or -ENOMEM (out has failed). */
int http_response_head(const struct http_response *r, struct buf *out);

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_AGGREGATOR_HTTP_H */
