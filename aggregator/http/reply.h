/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/reply.h - what to answer to one request, and the buffer
 * its body lives in. A connection owns one reply and reuses it request
 * after request; the server (daemon/server.c) fills it, the connection
 * (conn.c) sends it and then recycles it.
 *
 * Buffers. A reply keeps up to REPLY_KEEP of body capacity between its
 * requests. A /metrics exposition is often far larger (about 1 KiB per
 * histogram series), and growing a fresh buffer to that size for every
 * scrape costs a page fault per 4 KiB, more than the rendering itself.
 * So the connections share one pool holding a spare buffer of that size:
 * a plain scrape renders into it (swapped into the reply's body) and the
 * pool gets it back once the reply is sent; a gzip scrape renders into it
 * and compresses into the body. It is the largest recent exposition,
 * given back when a render uses under a quarter of it.
 */
#ifndef SHMETRICS_AGGREGATOR_REPLY_H
#define SHMETRICS_AGGREGATOR_REPLY_H

#include <stdbool.h>

#include "render/buf.h"

#define REPLY_KEEP (4u << 20)

/* Shared by every connection of a loop; one thread. */
struct reply_pool {
    struct buf spare; /* the largest exposition buffer not in use */
};

struct reply {
    int status;
    const char *content_type;
    const char *content_encoding; /* "gzip" or NULL */
    const char *allow;            /* 405 */
    bool vary;                    /* the body depends on Accept* */
    bool close;                   /* the connection ends after this reply */
    struct buf body;              /* owned by the reply */
    struct reply_pool *pool;      /* where a large body goes once sent */
};

void reply_pool_init(struct reply_pool *p);
void reply_pool_fini(struct reply_pool *p);
/* The spare was used for a render: free it if it is now far too big for
 * what that render needed, or if growing it failed. */
void reply_pool_trim(struct reply_pool *p);

void reply_init(struct reply *r, struct reply_pool *pool);
void reply_reset(struct reply *r); /* keeps body capacity up to REPLY_KEEP */
/* The reply has been sent: reset it, and keep a large body as the pool's
 * spare for the next /metrics (instead of giving its pages back). */
void reply_recycle(struct reply *r);
void reply_free(struct reply *r);

/* A plain-text reply. */
void reply_text(struct reply *r, int status, const char *text);
/* A plain-text error reply for status (and close when the status ends the
 * connection: every 4xx from the parser, 503). */
void reply_error(struct reply *r, int status);

#endif /* SHMETRICS_AGGREGATOR_REPLY_H */
