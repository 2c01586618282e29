/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_gzip.c - see t_gzip.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "t_gzip.h"

char *t_gunzip(const void *in, size_t n, size_t *len)
{
    z_stream zs = {0};
    size_t cap = 1u << 16;
    char *out = malloc(cap);
    int zrc = Z_OK;

    *len = 0;
    if (out == NULL || inflateInit2(&zs, 15 + 16) != Z_OK) { /* 15 + 16: gzip only */
        free(out);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    while (zrc == Z_OK) {
        if (cap - *len < 2) { /* full: double it */
            char *grown = realloc(out, cap * 2);
            if (grown == NULL)
                break;
            out = grown;
            cap *= 2;
        }
        zs.next_out = (Bytef *)out + *len;
        zs.avail_out = (uInt)(cap - *len - 1); /* room for the NUL */
        zrc = inflate(&zs, Z_NO_FLUSH);
        *len = (size_t)((char *)zs.next_out - out);
    }
    inflateEnd(&zs);
    if (zrc != Z_STREAM_END || zs.avail_in != 0) {
        free(out);
        return NULL;
    }
    out[*len] = '\0';
    return out;
}
