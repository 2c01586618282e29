/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/reply.c - see reply.h.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "http/reply.h"

/* Too big for what the last render needed: give the pages back. */
static bool oversized(const struct buf *b)
{
    return b->cap > REPLY_KEEP && b->len < b->cap / 4;
}

void reply_pool_init(struct reply_pool *p)
{
    buf_init(&p->spare);
}

void reply_pool_fini(struct reply_pool *p)
{
    buf_free(&p->spare);
}

void reply_pool_trim(struct reply_pool *p)
{
    if (oversized(&p->spare) || p->spare.failed)
        buf_free(&p->spare);
}

void reply_init(struct reply *r, struct reply_pool *pool)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    r->pool = pool;
}

void reply_reset(struct reply *r)
{
    struct buf body = r->body;
    struct reply_pool *pool = r->pool;

    if (body.cap > REPLY_KEEP)
        buf_free(&body);
    body.len = 0;
    body.failed = false;
    memset(r, 0, sizeof(*r));
    r->body = body;
    r->pool = pool;
}

void reply_recycle(struct reply *r)
{
    struct buf *b = &r->body, *spare = &r->pool->spare;

    if (b->cap > REPLY_KEEP && b->cap > spare->cap && !oversized(b) && !b->failed) {
        buf_free(spare);
        *spare = *b;
        buf_init(b);
    }
    reply_reset(r);
}

void reply_free(struct reply *r)
{
    buf_free(&r->body);
    memset(r, 0, sizeof(*r));
}

void reply_text(struct reply *r, int status, const char *text)
{
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    buf_str(&r->body, text);
}

void reply_error(struct reply *r, int status)
{
    char text[96];

    reply_reset(r);
    snprintf(text, sizeof(text), "%d %s\n", status, http_reason(status));
    reply_text(r, status, text);
    r->close = status != 404 && status != 405;
}
