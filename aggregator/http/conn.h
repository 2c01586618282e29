/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/conn.h - one client connection: its buffers, its deadlines
 * and the state machine of HTTP/1.1 keep-alive with pipelining. The event
 * loop (daemon/loop.c) performs the I/O this file asks for and reports
 * results; when a request is complete it has the server answer it
 * (CONN_HANDLE, then conn_answered()). This file never blocks, never
 * touches the ring and calls nothing above it.
 *
 *   READ ----(head complete or refused)----> WRITE ---(all sent)---> READ
 *     ^  \                                     |   (keep-alive; a pipelined
 *     |   `-- EOF, error, timeout: close        |    head is answered at once)
 *     |                                         v
 *     |                            (last reply) LINGER: shut down our side,
 *     |                                          read and discard until EOF
 *                                                or CONN_LINGER_MS, close
 *
 * Lingering matters when a connection ends on our side while the client
 * is still sending (a refused head with bytes after it): closing a socket
 * with unread input makes the kernel send a reset, which can destroy the
 * reply before the client reads it.
 */
#ifndef SHMETRICS_AGGREGATOR_CONN_H
#define SHMETRICS_AGGREGATOR_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "render/buf.h"
#include "http/http.h"
#include "http/reply.h"

#define CONN_HEAD_TIMEOUT_MS 10000u  /* default: first byte of a request to its whole head */
#define CONN_IDLE_TIMEOUT_MS 30000u  /* default: keep-alive, between requests */
#define CONN_SEND_TIMEOUT_MS 30000u  /* a response making no progress */
#define CONN_LINGER_MS 2000u         /* waiting for the client's EOF */
#define CONN_LINGER_BYTES (1u << 20) /* discarded at most while lingering */

/* The two timeouts a client controls (--head-timeout-ms, --idle-timeout-ms).
 * A new connection that sends nothing gets the head timeout. */
struct conn_timeouts {
    uint32_t head_ms;
    uint32_t idle_ms;
};

enum conn_next {
    CONN_RECV, /* receive into conn_recv_buf() */
    CONN_SEND, /* send conn_send_msg() */
    CONN_HANDLE, /* answer c->req into c->reply, then call conn_answered() */
    CONN_CLOSE,
};

enum conn_state {
    CONN_READ,
    CONN_WRITE,
    CONN_LINGER,
};

struct conn {
    int fd;
    uint8_t state;                  /* enum conn_state */
    bool reject;                    /* accepted over the limit: every request gets 503 */
    bool last;                      /* close after the reply being sent */
    bool stopping;                  /* the server is stopping: no linger */
    bool send_body;                 /* false for HEAD */
    uint64_t deadline_ns;           /* CLOCK_MONOTONIC; see the timeouts above */
    const struct conn_timeouts *to; /* owned by the loop */
    uint64_t out_off;               /* bytes of head + body sent */
    uint64_t lingered;              /* bytes discarded while lingering */
    uint32_t in_len;                /* bytes in in[] */
    struct http_parser parser;
    struct http_request req; /* CONN_HANDLE: the request; points into in[] */
    uint32_t req_len;        /* CONN_HANDLE: bytes of in[] it takes */
    struct buf head;
    struct reply reply;
    struct iovec iov[2];
    struct msghdr msg;
    char in[HTTP_HEAD_MAX]; /* the current request head, and what follows */
};

/* Set up c for a newly accepted socket; the first step is CONN_RECV. to
 * and pool must outlive c. */
void conn_init(struct conn *c, int fd, bool reject, const struct conn_timeouts *to,
               struct reply_pool *pool, uint64_t now_ns);
/* Free c's buffers (not the socket). */
void conn_fini(struct conn *c);

/* Where the next receive goes. */
void conn_recv_buf(struct conn *c, void **p, size_t *n);
/* The next send: head and body from where the last send stopped. */
struct msghdr *conn_send_msg(struct conn *c);

/* A receive finished with res (bytes, 0 for EOF, or -errno). */
enum conn_next conn_received(struct conn *c, int res, uint64_t now_ns);
/* A send finished with res (bytes or -errno). */
enum conn_next conn_sent(struct conn *c, int res, uint64_t now_ns);
/* After CONN_HANDLE: c->reply holds the answer to c->req; send it. */
enum conn_next conn_answered(struct conn *c, uint64_t now_ns);

/* The server is stopping: true when c may be closed at once (not in the
 * middle of sending a reply, which it finishes first). */
bool conn_stop(struct conn *c);

static inline bool conn_expired(const struct conn *c, uint64_t now_ns)
{
    return now_ns >= c->deadline_ns;
}

#endif /* SHMETRICS_AGGREGATOR_CONN_H */
