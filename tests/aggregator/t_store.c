/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/t_store.c - see t_store.h.
 */
#include <string.h>

#include <shmetrics.h>

#include "t_store.h"
#include "t_util.h"

struct store_def *t_def(struct store *st, const char *name, uint8_t type, uint8_t mode,
                        const char *help, const char *const *labels, const double *bounds,
                        uint32_t nbounds)
{
    uint32_t lens[SHMET_LABELS_MAX];
    uint16_t n = 0;
    struct store_def *d = NULL;

    for (; labels != NULL && labels[n] != NULL; n++)
        lens[n] = (uint32_t)strlen(labels[n]);
    struct family_spec s = {.name = name, .name_len = strlen(name), .help = help,
                            .help_len = strlen(help), .type = type, .nlabels = n,
                            .labels = labels, .label_lens = lens, .bounds = bounds,
                            .nbounds = nbounds, .gauge_mode = mode};
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
