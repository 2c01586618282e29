/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/buf.h - a growable byte buffer for building responses, with a
 * sticky error: after a failed allocation every append is a no-op and
 * buf_failed() says so once, at the end.
 */
#ifndef SHMETRICS_AGGREGATOR_BUF_H
#define SHMETRICS_AGGREGATOR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
bool buf_reserve(struct buf *b, size_t more);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void buf_put(struct buf *b, const void *p, size_t n)
{
    if (n == 0) /* p may be NULL then: an empty buffer's data */
        return;
    if (b->cap - b->len < n && !buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static inline void buf_char(struct buf *b, char c)
{
    buf_put(b, &c, 1);
}

static inline bool buf_failed(const struct buf *b)
{
    return b->failed;
}

#endif /* SHMETRICS_AGGREGATOR_BUF_H */
