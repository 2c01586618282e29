/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/gzip.c - see gzip.h. One deflate stream per call, windowBits
 * 15 + 16 (a gzip header and trailer instead of zlib's). Output space is
 * reserved for an eighth of the input (an exposition compresses ten to
 * twenty times) and grown by half when deflate() fills it: reserving
 * deflateBound(), a little more than the input, mapped and unmapped a
 * buffer the size of the whole exposition for every gzip scrape, which on
 * a virtual machine slowed the scrapes after it as well. zlib counts in
 * uInt, so inputs and outputs beyond 1 GiB go through in pieces.
 */
#include <errno.h>
#include <zlib.h>

#include "render/gzip.h"

#define PIECE (1u << 30)

static uInt piece(size_t n)
{
    return n > PIECE ? PIECE : (uInt)n;
}

/* Run deflate over the whole input; the stream is set up. */
static int run(z_stream *zs, const unsigned char *in, size_t n, struct buf *out)
{
    size_t fed = 0;
    int zrc = Z_OK;

    while (zrc != Z_STREAM_END) {
        uInt in_now = piece(n - fed);
        if (out->cap - out->len < 64 && !buf_reserve(out, out->cap / 2 + (1u << 16)))
            return -ENOMEM;
        zs->next_in = (Bytef *)(uintptr_t)(in + fed); /* zlib does not write through it */
        zs->avail_in = in_now;
        zs->next_out = (Bytef *)out->data + out->len;
        zs->avail_out = piece(out->cap - out->len);
        zrc = deflate(zs, fed + in_now == n ? Z_FINISH : Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
            return -ENOMEM;
        fed += in_now - zs->avail_in;
        out->len = (size_t)((char *)zs->next_out - out->data);
    }
    return 0;
}

int gzip_encode(const void *in, size_t n, int level, struct buf *out)
{
    z_stream zs = {0};
    int rc;

    if (level < 0 || level > 9)
        return -EINVAL;
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong bound = deflateBound(&zs, n > PIECE ? PIECE : (uLong)n) + 32;
    if (!buf_reserve(out, n / 8 + 4096 < bound ? n / 8 + 4096 : bound)) {
        deflateEnd(&zs);
        return -ENOMEM;
    }
    rc = run(&zs, in, n, out);
    deflateEnd(&zs);
    return rc;
}
