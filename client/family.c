/* SPDX-License-Identifier: MIT */
/*
 * client/family.c - metric families: validation against the Prometheus
 * naming rules, get-or-create by name, and conflict detection (same name,
 * another definition). A family's __overflow__ series is made with it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Prometheus client defaults. */
static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1.0,  2.5,   5.0,  10.0};

struct family_spec {
    const char *name;
    const char *help;
    const char *const *labels;
    uint16_t nlabels;
    uint8_t type;
    uint8_t gauge_mode;
    const double *bounds;
    uint32_t nbounds;
};

static int check_labels(const char *const *labels, uint16_t *n)
{
    uint16_t k = 0;

    for (; labels != NULL && labels[k] != NULL; k++) {
        if (k >= SHMET_LABELS_MAX || !shmet__label_name_ok(labels[k], strlen(labels[k])))
            return -EINVAL;
        for (uint16_t j = 0; j < k; j++)
            if (strcmp(labels[j], labels[k]) == 0)
                return -EINVAL;
    }
    *n = k;
    return 0;
}

static int spec_check(struct family_spec *s)
{
    if (s->name == NULL || !shmet__metric_name_ok(s->name, strlen(s->name)))
        return -EINVAL;
    if (s->help == NULL)
        s->help = "";
    if (!shmet__help_ok(s->help, strlen(s->help)))
        return -EINVAL;
    if (check_labels(s->labels, &s->nlabels) < 0)
        return -EINVAL;
    if (s->type != SHMET_TYPE_HISTOGRAM)
        return 0;
    if (s->bounds == NULL && s->nbounds == 0) {
        s->bounds = default_bounds;
        s->nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
    }
    if (s->bounds == NULL)
        return -EINVAL;
    if (s->nbounds > 0 && isinf(s->bounds[s->nbounds - 1]) && s->bounds[s->nbounds - 1] > 0)
        s->nbounds--; /* +Inf is implied */
    return shmet__bounds_check(s->bounds, s->nbounds);
}

static bool spec_matches(const struct shmet_family *f, const struct family_spec *s)
{
    if (f->type != s->type || f->nlabels != s->nlabels || f->nbounds != s->nbounds)
        return false;
    if (f->type == SHMET_TYPE_GAUGE && f->gauge_mode != s->gauge_mode)
        return false;
    for (uint16_t i = 0; i < f->nlabels; i++)
        if (strcmp(f->labels[i], s->labels[i]) != 0)
            return false;
    for (uint32_t i = 0; i < f->nbounds; i++)
        if (f->bounds[i] != s->bounds[i])
            return false;
    return true;
}

void shmet__family_free(struct shmet_family *f)
{
    if (f == NULL)
        return;
    for (uint16_t i = 0; i < f->nlabels && f->labels != NULL; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

static struct shmet_family *family_new(struct shmet_client *c, const struct family_spec *s)
{
    struct shmet_family *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->c = c;
    f->id = c->nfamilies;
    f->type = s->type;
    f->gauge_mode = s->gauge_mode;
    f->name = strdup(s->name);
    f->help = strdup(s->help);
    f->labels = calloc(s->nlabels ? s->nlabels : 1, sizeof(char *));
    f->bounds = malloc((s->nbounds ? s->nbounds : 1) * sizeof(double));
    if (f->name == NULL || f->help == NULL || f->labels == NULL || f->bounds == NULL)
        goto err;
    for (f->nlabels = 0; f->nlabels < s->nlabels; f->nlabels++)
        if ((f->labels[f->nlabels] = strdup(s->labels[f->nlabels])) == NULL)
            goto err;
    f->nbounds = s->nbounds;
    if (s->nbounds)
        memcpy(f->bounds, s->bounds, s->nbounds * sizeof(double));
    return f;
err:
    shmet__family_free(f);
    return NULL;
}

/* Caller holds c->lock. Appends f and makes its __overflow__ series (for a
 * family without labels, its one series). */
static int family_add(struct shmet_client *c, struct shmet_family *f)
{
    const char *ovf[SHMET_LABELS_MAX];

    if (c->nfamilies == c->families_cap) {
        uint32_t cap = c->families_cap ? c->families_cap * 2 : 16;
        void *p = realloc(c->families, cap * sizeof(*c->families));
        if (p == NULL)
            return -ENOMEM;
        c->families = p;
        c->families_cap = cap;
    }
    for (uint16_t i = 0; i < f->nlabels; i++)
        ovf[i] = SHMET_OVERFLOW_VALUE;
    c->families[c->nfamilies++] = f;
    int rc = shmet__series_intern(c, f, ovf, &f->overflow);
    if (rc < 0)
        c->nfamilies--;
    return rc;
}

static int family_get(struct shmet_client *c, struct family_spec *s, struct shmet_family **out)
{
    struct shmet_family *f = NULL;
    int rc;

    if (c == NULL || out == NULL)
        return -EINVAL;
    rc = spec_check(s);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < c->nfamilies; i++) {
        if (strcmp(c->families[i]->name, s->name) != 0)
            continue;
        f = c->families[i];
        rc = spec_matches(f, s) ? 0 : -EEXIST;
        goto out;
    }
    rc = -ENOSPC;
    if (c->nfamilies >= FAMILIES_MAX)
        goto out;
    rc = -ENOMEM;
    f = family_new(c, s);
    if (f == NULL)
        goto out;
    rc = family_add(c, f);
    if (rc < 0) {
        shmet__family_free(f);
        f = NULL;
    }
out:
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        *out = f;
    return rc;
}

SHMET_EXTERN int shmet_counter(struct shmet_client *c, const char *name, const char *help,
                               const char *const *labels, struct shmet_family **out)
{
    struct family_spec s = {.name = name, .help = help, .labels = labels,
                            .type = SHMET_TYPE_COUNTER};

    return family_get(c, &s, out);
}

SHMET_EXTERN int shmet_gauge(struct shmet_client *c, const char *name, const char *help,
                             const char *const *labels, enum shmet_gauge_mode mode,
                             struct shmet_family **out)
{
    struct family_spec s = {.name = name, .help = help, .labels = labels,
                            .type = SHMET_TYPE_GAUGE, .gauge_mode = (uint8_t)mode};

    if ((unsigned)mode > SHMET_GAUGE_LAST)
        return -EINVAL;
    return family_get(c, &s, out);
}

SHMET_EXTERN int shmet_histogram(struct shmet_client *c, const char *name, const char *help,
                                 const char *const *labels, const double *bounds, size_t nbounds,
                                 struct shmet_family **out)
{
    struct family_spec s = {.name = name, .help = help, .labels = labels,
                            .type = SHMET_TYPE_HISTOGRAM, .bounds = bounds};

    if (nbounds > SHMET_BOUNDS_MAX + 1)
        return -EINVAL;
    s.nbounds = (uint32_t)nbounds;
    return family_get(c, &s, out);
}
