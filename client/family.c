/* SPDX-License-Identifier: MIT */
/*
 * client/family.c - metric families: validation against the Prometheus
 * naming rules, get-or-create by name, and conflict detection (same name,
 * another definition). A family's __overflow__ series is made with it.
 * Every refusal says what was wrong through shmet_last_error().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* Why name s, refused by shmet__metric_name_ok() (metric) or
 * shmet__label_name_ok(), is refused; what is "metric name" or "label
 * name". Those two stay the rule; this only explains it. */
static int name_fail(const char *what, const char *s, bool metric)
{
    size_t n = strlen(s);
    char q[SHMET__QUOTE_BUF];

    if (n == 0)
        return shmet__fail(-EINVAL, "%s is empty", what);
    if (n > SHMET_NAME_MAX)
        return shmet__fail(-EINVAL, "%s is %zu bytes, at most %u", what, n, SHMET_NAME_MAX);
    shmet__quote(s, q);
    if (s[0] == '_' && s[1] == '_')
        return shmet__fail(-EINVAL, "%s '%s' is reserved (it starts with __)", what, q);
    if (!metric && strcmp(s, "le") == 0)
        return shmet__fail(-EINVAL, "%s 'le' is reserved", what);
    return shmet__fail(-EINVAL, "%s '%s' must match %s", what, q,
                       metric ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*");
}

static int check_labels(const char *const *labels, uint16_t *n)
{
    uint16_t k = 0;
    char q[SHMET__QUOTE_BUF];

    for (; labels != NULL && labels[k] != NULL; k++) {
        if (k >= SHMET_LABELS_MAX)
            return shmet__fail(-EINVAL, "more than %u label names", SHMET_LABELS_MAX);
        if (!shmet__label_name_ok(labels[k], strlen(labels[k])))
            return name_fail("label name", labels[k], false);
        for (uint16_t j = 0; j < k; j++)
            if (strcmp(labels[j], labels[k]) == 0)
                return shmet__fail(-EINVAL, "label name '%s' appears twice",
                                   shmet__quote(labels[k], q));
    }
    *n = k;
    return 0;
}

/* v in the fewest digits that read back as v ("0.1", not
 * "0.10000000000000001"; "10", not "1e+01"), into buf of 32 bytes. */
static const char *num(double v, char *buf)
{
    int prec = 1, e;

    if (!isfinite(v)) {
        snprintf(buf, 32, "%g", v);
        return buf;
    }
    for (;; prec++) { /* 17 significant digits always read back */
        snprintf(buf, 32, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    e = atoi(strchr(buf, 'e') + 1);
    /* %g writes 10^e with fewer than e + 1 digits as an exponent */
    snprintf(buf, 32, "%.*g", e >= prec && e < 17 ? e + 1 : prec, v);
    return buf;
}

/* Why shmet__bounds_check() refused b[0..n). */
static int bounds_fail(const double *b, uint32_t n)
{
    char x[32], y[32];

    if (n > SHMET_BOUNDS_MAX)
        return shmet__fail(-EINVAL, "%u bucket bounds, at most %u (and +Inf)", (unsigned)n,
                           SHMET_BOUNDS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        if (!isfinite(b[i]))
            return shmet__fail(-EINVAL, "bucket bounds must be finite (bound %u: %s)",
                               (unsigned)i, num(b[i], x));
        if (i > 0 && !(b[i] > b[i - 1]))
            return shmet__fail(-EINVAL,
                               "bucket bounds must be strictly increasing (bound %u: %s after %s)",
                               (unsigned)i, num(b[i], x), num(b[i - 1], y));
    }
    return shmet__fail(-EINVAL, "bad bucket bounds");
}

static int spec_check(struct family_spec *s)
{
    size_t len;

    if (s->name == NULL)
        return shmet__fail(-EINVAL, "metric name is NULL");
    if (!shmet__metric_name_ok(s->name, strlen(s->name)))
        return name_fail("metric name", s->name, true);
    if (s->help == NULL)
        s->help = "";
    len = strlen(s->help);
    if (len > SHMET_HELP_MAX)
        return shmet__fail(-EINVAL, "help is %zu bytes, at most %u", len, SHMET_HELP_MAX);
    if (!shmet__help_ok(s->help, len))
        return shmet__fail(-EINVAL, "help is not valid UTF-8");
    if (check_labels(s->labels, &s->nlabels) < 0)
        return -EINVAL;
    if (s->type != SHMET_TYPE_HISTOGRAM)
        return 0;
    if (s->bounds == NULL && s->nbounds == 0) {
        s->bounds = default_bounds;
        s->nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
    }
    if (s->bounds == NULL)
        return shmet__fail(-EINVAL, "bounds is NULL but nbounds is %u", (unsigned)s->nbounds);
    if (s->nbounds > 0 && isinf(s->bounds[s->nbounds - 1]) && s->bounds[s->nbounds - 1] > 0)
        s->nbounds--; /* +Inf is implied */
    if (shmet__bounds_check(s->bounds, s->nbounds) < 0)
        return bounds_fail(s->bounds, s->nbounds);
    return 0;
}

static const char *type_name(uint8_t type)
{
    return type == SHMET_TYPE_COUNTER ? "counter"
           : type == SHMET_TYPE_GAUGE ? "gauge"
                                      : "histogram";
}

static const char *mode_name(uint8_t mode)
{
    static const char *const names[] = {"SUM", "MAX", "MIN", "LAST"};

    return mode <= SHMET_GAUGE_LAST ? names[mode] : "?";
}

/* "(a, b)": the n strings s, or the n numbers b when s is NULL, in buf of
 * len (>= 8) bytes; "...)" ends a list cut to fit. Each item written
 * leaves room for ", ...)" after it. */
static const char *list(char *buf, size_t len, const char *const *s, const double *b, uint32_t n)
{
    size_t at = 1;
    char x[32];

    buf[0] = '(';
    for (uint32_t i = 0; i < n; i++) {
        int w = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", s ? s[i] : num(b[i], x));
        if (w < 0 || (size_t)w + sizeof(", ...)") > len - at) {
            memcpy(buf + at, i ? ", ...)" : "...)", i ? sizeof(", ...)") : sizeof("...)"));
            return buf;
        }
        at += (size_t)w;
    }
    memcpy(buf + at, ")", 2);
    return buf;
}

/* 0 when f, found under s's name, has s's definition, else -EEXIST and
 * what differs. */
static int spec_conflict(const struct shmet_family *f, const struct family_spec *s)
{
    char q[SHMET__QUOTE_BUF], have[160], want[160];
    bool same = f->nlabels == s->nlabels;

    shmet__quote(f->name, q);
    if (f->type != s->type)
        return shmet__fail(-EEXIST, "metric '%s' already exists as a %s, not a %s", q,
                           type_name(f->type), type_name(s->type));
    for (uint16_t i = 0; same && i < f->nlabels; i++)
        same = strcmp(f->labels[i], s->labels[i]) == 0;
    if (!same)
        return shmet__fail(
            -EEXIST, "metric '%s' already exists with label names %s, not %s", q,
            list(have, sizeof(have), (const char *const *)f->labels, NULL, f->nlabels),
            list(want, sizeof(want), s->labels, NULL, s->nlabels));
    same = f->nbounds == s->nbounds;
    for (uint32_t i = 0; same && i < f->nbounds; i++)
        same = f->bounds[i] == s->bounds[i];
    if (!same)
        return shmet__fail(-EEXIST, "metric '%s' already exists with bucket bounds %s, not %s", q,
                           list(have, sizeof(have), NULL, f->bounds, f->nbounds),
                           list(want, sizeof(want), NULL, s->bounds, s->nbounds));
    if (f->type == SHMET_TYPE_GAUGE && f->gauge_mode != s->gauge_mode)
        return shmet__fail(-EEXIST, "metric '%s' already exists with gauge mode %s, not %s", q,
                           mode_name(f->gauge_mode), mode_name(s->gauge_mode));
    return 0;
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

    if (c == NULL)
        return shmet__fail(-EINVAL, "client is NULL");
    if (out == NULL)
        return shmet__fail(-EINVAL, "out is NULL");
    rc = spec_check(s);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < c->nfamilies; i++) {
        if (strcmp(c->families[i]->name, s->name) != 0)
            continue;
        f = c->families[i];
        rc = spec_conflict(f, s);
        goto out;
    }
    if (c->nfamilies >= FAMILIES_MAX) {
        rc = shmet__fail(-ENOSPC, "at most %u families per client", FAMILIES_MAX);
        goto out;
    }
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
    else if (rc == -ENOMEM)
        (void)shmet__fail(rc, "out of memory");
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
        return shmet__fail(-EINVAL, "gauge mode %d is not SHMET_GAUGE_SUM, _MAX, _MIN or _LAST",
                           (int)mode);
    return family_get(c, &s, out);
}

SHMET_EXTERN int shmet_histogram(struct shmet_client *c, const char *name, const char *help,
                                 const char *const *labels, const double *bounds, size_t nbounds,
                                 struct shmet_family **out)
{
    struct family_spec s = {.name = name, .help = help, .labels = labels,
                            .type = SHMET_TYPE_HISTOGRAM, .bounds = bounds};

    if (nbounds > SHMET_BOUNDS_MAX + 1)
        return shmet__fail(-EINVAL, "%zu bucket bounds, at most %u (and +Inf)", nbounds,
                           SHMET_BOUNDS_MAX);
    s.nbounds = (uint32_t)nbounds;
    return family_get(c, &s, out);
}
