/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/t_render.c - see t_render.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_render.h"
#include "t_util.h"


static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

void t_golden(const struct buf *b, const char *file)
{
    char path[512];
    size_t len;

    snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, file);
    if (getenv("SHMET_GOLDEN_UPDATE") != NULL) {
        FILE *f = fopen(path, "wb");
        fwrite(b->data, 1, b->len, f);
        fclose(f);
    }
    char *want = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_EQUAL(b->len, len);
    CU_ASSERT(b->len == len && memcmp(b->data, want, len) == 0);
    free(want);
}
