/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/conn.c - see conn.h. Requests on one connection are answered
 * strictly one after the other: the next head is parsed only once the
 * previous reply is sent, which keeps pipelined replies in order without a
 * queue and bounds each connection to one reply in memory.
 */
#include <assert.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/conn.h"

#define MS (1000000u)

void conn_init(struct conn *c, int fd, bool reject, const struct conn_timeouts *to,
               struct reply_pool *pool, uint64_t now_ns)
{
    memset(c, 0, offsetof(struct conn, in));
    c->fd = fd;
    c->reject = reject;
    c->to = to;
    c->state = CONN_READ;
    c->deadline_ns = now_ns + (uint64_t)to->head_ms * MS;
    http_parser_init(&c->parser);
    buf_init(&c->head);
    reply_init(&c->reply, pool);
}

void conn_fini(struct conn *c)
{
    buf_free(&c->head);
    reply_free(&c->reply);
}

void conn_recv_buf(struct conn *c, void **p, size_t *n)
{
    if (c->state == CONN_LINGER) {
        *p = c->in; /* discarded */
        *n = sizeof(c->in);
        return;
    }
    assert(c->in_len < sizeof(c->in)); /* a full buffer is always a complete or refused head */
    *p = c->in + c->in_len;
    *n = sizeof(c->in) - c->in_len;
}

static uint64_t out_total(const struct conn *c)
{
    return c->head.len + (c->send_body ? c->reply.body.len : 0);
}

struct msghdr *conn_send_msg(struct conn *c)
{
    uint64_t off = c->out_off;
    int n = 0;

    if (off < c->head.len) {
        c->iov[n++] = (struct iovec){c->head.data + off, c->head.len - off};
        off = 0;
    } else {
        off -= c->head.len;
    }
    if (c->send_body && off < c->reply.body.len)
        c->iov[n++] = (struct iovec){c->reply.body.data + off, c->reply.body.len - off};
    memset(&c->msg, 0, sizeof(c->msg));
    c->msg.msg_iov = c->iov;
    c->msg.msg_iovlen = (size_t)n;
    return &c->msg;
}

/* The reply is made: build its head and start sending. */
static enum conn_next start_reply(struct conn *c, uint8_t minor, uint64_t now_ns)
{
    struct http_response h = {
        .status = c->reply.status,
        .minor = minor,
        .content_type = c->reply.content_type,
        .content_encoding = c->reply.content_encoding,
        .content_length = c->reply.body.len,
        .vary = c->reply.vary,
        .close = c->last,
        .allow = c->reply.allow,
        .date = time(NULL),
    };

    c->head.len = 0;
    if (http_response_head(&h, &c->head) < 0)
        return CONN_CLOSE;
    c->state = CONN_WRITE;
    c->out_off = 0;
    c->deadline_ns = now_ns + (uint64_t)CONN_SEND_TIMEOUT_MS * MS;
    return CONN_SEND;
}

/* Parse what in[] holds: a refused head is answered here, a complete one
 * handed to the server (CONN_HANDLE). */
static enum conn_next process(struct conn *c, uint64_t now_ns)
{
    int n = http_parse(&c->parser, c->in, c->in_len, &c->req);

    if (n == 0)
        return CONN_RECV;
    if (n < 0) {
        reply_error(&c->reply, c->req.status);
        c->last = true;
        c->send_body = true;
        return start_reply(c, 1, now_ns);
    }
    c->req_len = (uint32_t)n;
    if (!c->reject)
        return CONN_HANDLE;
    reply_error(&c->reply, 503);
    return conn_answered(c, now_ns);
}

enum conn_next conn_answered(struct conn *c, uint64_t now_ns)
{
    const struct http_request *req = &c->req;
    uint8_t minor = req->minor;

    c->last = c->last || c->stopping || !req->keep_alive || c->reply.close;
    c->send_body = req->method != HTTP_HEAD;
    /* The reply no longer points into the head: drop it, keep what follows. */
    memmove(c->in, c->in + c->req_len, c->in_len - c->req_len);
    c->in_len -= c->req_len;
    c->req_len = 0;
    http_parser_init(&c->parser);
    return start_reply(c, minor, now_ns);
}

enum conn_next conn_received(struct conn *c, int res, uint64_t now_ns)
{
    if (res <= 0)
        return CONN_CLOSE; /* EOF, reset, or cancelled */
    if (c->state == CONN_LINGER) {
        c->lingered += (uint64_t)res;
        return c->lingered > CONN_LINGER_BYTES ? CONN_CLOSE : CONN_RECV;
    }
    if (c->in_len == 0) /* the first bytes of a request start its clock */
        c->deadline_ns = now_ns + (uint64_t)c->to->head_ms * MS;
    c->in_len += (uint32_t)res;
    return process(c, now_ns);
}

/* The last reply is out: shut our side and wait for the client's EOF. */
static enum conn_next linger(struct conn *c, uint64_t now_ns)
{
    if (c->stopping || shutdown(c->fd, SHUT_WR) < 0)
        return CONN_CLOSE;
    c->state = CONN_LINGER;
    c->deadline_ns = now_ns + (uint64_t)CONN_LINGER_MS * MS;
    return CONN_RECV;
}

enum conn_next conn_sent(struct conn *c, int res, uint64_t now_ns)
{
    if (res <= 0)
        return CONN_CLOSE;
    c->out_off += (uint64_t)res;
    c->deadline_ns = now_ns + (uint64_t)CONN_SEND_TIMEOUT_MS * MS;
    if (c->out_off < out_total(c))
        return CONN_SEND;
    reply_recycle(&c->reply);
    if (c->last)
        return linger(c, now_ns);
    c->state = CONN_READ;
    c->deadline_ns = now_ns + (uint64_t)c->to->idle_ms * MS;
    if (c->in_len == 0)
        return CONN_RECV;
    c->deadline_ns = now_ns + (uint64_t)c->to->head_ms * MS;
    return process(c, now_ns); /* a pipelined request, perhaps complete */
}

bool conn_stop(struct conn *c)
{
    c->stopping = true;
    c->last = true;
    return c->state != CONN_WRITE;
}
