/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/t_render.c - see t_render.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmetrics.h>

#include "t_render.h"
#include "t_util.h"

struct store_def *t_def(struct store *st, const char *name, uint8_t type, const char *help,
                        const char *const *labels, const double *bounds, uint32_t nbounds)
{
    uint32_t lens[SHMET_LABELS_MAX];
    uint16_t n = 0;
    struct store_def *d = NULL;

    for (; labels != NULL && labels[n] != NULL; n++)
        lens[n] = (uint32_t)strlen(labels[n]);
    struct family_spec s = {.name = name, .name_len = strlen(name), .help = help,
                            .help_len = strlen(help), .type = type, .nlabels = n,
                            .labels = labels, .label_lens = lens, .bounds = bounds,
                            .nbounds = nbounds, .gauge_mode = SHMET_GAUGE_SUM};
    CU_ASSERT_EQUAL_FATAL(store_define(st, &s, &d), 0);
    return d;
}

struct store_series *t_series(struct store *st, struct store_def *d, const char *const *values)
{
    uint32_t lens[SHMET_LABELS_MAX];
    struct store_series *s = NULL;

    for (uint16_t i = 0; i < d->nlabels; i++)
        lens[i] = (uint32_t)strlen(values[i]);
    CU_ASSERT_FATAL(store_series_def(st, d, values, lens, &s) >= 0);
    return s;
}

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
