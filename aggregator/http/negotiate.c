/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/negotiate.c - see negotiate.h. A small tokenizer walks the
 * comma-separated elements of every field line; each element is parsed on
 * its own, so one malformed element costs only itself.
 */
#include <errno.h>
#include <string.h>

#include "http/negotiate.h"

/* A cursor over one field value. */
struct cur {
    const char *p;
    size_t n, i;
};

static bool tchar(char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr(extra, c) != NULL;
}

static void skip_ows(struct cur *c)
{
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t'))
        c->i++;
}

static bool at(const struct cur *c, char ch)
{
    return c->i < c->n && c->p[c->i] == ch;
}

static struct http_str token(struct cur *c)
{
    size_t s = c->i;

    while (c->i < c->n && tchar(c->p[c->i]))
        c->i++;
    return (struct http_str){c->p + s, c->i - s};
}

/* A quoted-string; the result keeps the quotes and escapes, and holds the
 * raw bytes. false when unterminated. */
static bool quoted(struct cur *c, struct http_str *out)
{
    size_t s = c->i++;

    while (c->i < c->n && c->p[c->i] != '"') {
        if (c->p[c->i] == '\\')
            c->i++;
        c->i++;
    }
    if (c->i >= c->n)
        return false;
    c->i++;
    *out = (struct http_str){c->p + s, c->i - s};
    return true;
}

/* Compare a parameter value (token or quoted-string) with s, ignoring case. */
static bool value_is(struct http_str v, const char *s)
{
    if (v.n >= 2 && v.p[0] == '"') {
        v.p++;
        v.n -= 2; /* versions and charsets hold no escapes worth honouring */
    }
    return http_str_ieq(v.p, v.n, s);
}

/* Skip the rest of a malformed element, up to the next comma outside a
 * quoted string. */
static void skip_element(struct cur *c)
{
    while (c->i < c->n && c->p[c->i] != ',') {
        struct http_str ignored;
        if (c->p[c->i] == '"') {
            if (!quoted(c, &ignored))
                c->i = c->n;
        } else {
            c->i++;
        }
    }
}

int negotiate_qvalue(const char *s, size_t n)
{
    int q;

    if (n == 0 || (s[0] != '0' && s[0] != '1') || n > 5 || (n > 1 && s[1] != '.'))
        return -EINVAL;
    q = (s[0] - '0') * 1000;
    for (size_t i = 2, scale = 100; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        q += (s[i] - '0') * (int)scale;
    }
    return q > 1000 ? -EINVAL : q;
}

/* One parameter: OWS ";" OWS name "=" value. */
static bool param(struct cur *c, struct http_str *name, struct http_str *value)
{
    skip_ows(c);
    if (!at(c, ';'))
        return false;
    c->i++;
    skip_ows(c);
    *name = token(c);
    if (name->n == 0 || !at(c, '='))
        return false;
    c->i++;
    if (at(c, '"'))
        return quoted(c, value);
    *value = token(c);
    return value->n > 0;
}

/* ---- Accept -------------------------------------------------------------- */

struct range {
    struct http_str type, subtype;
    struct http_str version; /* n == 0: absent */
    bool has_params;         /* a version or charset */
    bool charset_ok;
    int q; /* thousandths */
};

/* The parameters of a media range, up to and including its weight; the
 * parameters after q= are accept extensions and are only syntax-checked. */
static bool range_params(struct cur *c, struct range *r)
{
    struct http_str name, value;
    bool after_q = false;

    for (;;) {
        skip_ows(c);
        if (c->i == c->n || at(c, ','))
            return true;
        if (!param(c, &name, &value))
            return false;
        if (after_q)
            continue;
        if (http_str_ieq(name.p, name.n, "q")) {
            if (value.p[0] == '"' || (r->q = negotiate_qvalue(value.p, value.n)) < 0)
                return false;
            after_q = true;
        } else if (http_str_ieq(name.p, name.n, "version")) {
            r->version = value;
            r->has_params = true;
        } else if (http_str_ieq(name.p, name.n, "charset")) {
            r->charset_ok = value_is(value, "utf-8");
            r->has_params = true;
        }
    }
}

static bool parse_range(struct cur *c, struct range *r)
{
    memset(r, 0, sizeof(*r));
    r->q = 1000;
    r->charset_ok = true;
    skip_ows(c);
    r->type = token(c);
    if (r->type.n == 0 || !at(c, '/'))
        return false;
    c->i++;
    r->subtype = token(c);
    if (r->subtype.n == 0)
        return false;
    if (http_str_ieq(r->type.p, r->type.n, "*") && !http_str_ieq(r->subtype.p, r->subtype.n, "*"))
        return false; /* "* /plain" is not a media range */
    return range_params(c, r);
}

/* What one of our formats looks like to a media range. */
struct offer {
    const char *type, *subtype;
    const char *versions[3];
    int spec, q; /* best match so far: specificity, weight; spec -1: none */
};

static bool version_ok(const struct offer *o, struct http_str v)
{
    if (v.n == 0)
        return true;
    for (int i = 0; i < 3 && o->versions[i] != NULL; i++)
        if (value_is(v, o->versions[i]))
            return true;
    return false;
}

/* Specificity of r for o (3 type/subtype;params .. 0 * / *), or -1. */
static int match(const struct offer *o, const struct range *r)
{
    bool any_type = http_str_ieq(r->type.p, r->type.n, "*");
    bool any_sub = http_str_ieq(r->subtype.p, r->subtype.n, "*");

    if (any_type)
        return 0;
    if (!http_str_ieq(r->type.p, r->type.n, o->type))
        return -1;
    if (any_sub)
        return 1;
    if (!http_str_ieq(r->subtype.p, r->subtype.n, o->subtype))
        return -1;
    if (!r->charset_ok || !version_ok(o, r->version))
        return -1;
    return r->has_params ? 3 : 2;
}

static void weigh(struct offer *o, const struct range *r)
{
    int spec = match(o, r);

    if (spec > o->spec || (spec == o->spec && spec >= 0 && r->q > o->q)) {
        o->spec = spec;
        o->q = r->q;
    }
}

/* Call fn(ctx, cursor) once per element of every field line; fn parses
 * the element and leaves the cursor anywhere inside it. */
static void each_element(const struct http_str *v, size_t n, void (*fn)(void *, struct cur *),
                         void *ctx)
{
    for (size_t k = 0; k < n; k++) {
        struct cur c = {v[k].p, v[k].n, 0};
        while (c.i < c.n) {
            skip_ows(&c);
            if (!at(&c, ','))
                fn(ctx, &c);
            skip_element(&c);
            if (at(&c, ','))
                c.i++;
        }
    }
}

static void accept_element(void *ctx, struct cur *c)
{
    struct offer *offers = ctx;
    struct range r;

    if (!parse_range(c, &r))
        return;
    weigh(&offers[0], &r);
    weigh(&offers[1], &r);
}

enum expo_format negotiate_format(const struct http_str *accept, size_t n)
{
    struct offer offers[2] = {
        {"application", "openmetrics-text", {"1.0.0", "0.0.1", NULL}, -1, 0},
        {"text", "plain", {"0.0.4", "1.0.0", NULL}, -1, 0},
    };
    const struct offer *om = &offers[0], *text = &offers[1];

    each_element(accept, n, accept_element, offers);
    if (om->q > text->q || (om->q == text->q && om->q > 0 && om->spec > text->spec))
        return EXPO_OPENMETRICS;
    return EXPO_TEXT;
}

/* ---- Accept-Encoding ----------------------------------------------------- */

struct codings {
    int gzip, identity, star; /* thousandths, or -1 when not listed */
};

static void encoding_element(void *ctx, struct cur *c)
{
    struct codings *k = ctx;
    struct http_str name = token(c), pname, pvalue;
    int q = 1000, *slot = NULL;

    while (c->i < c->n && !at(c, ',')) {
        if (!param(c, &pname, &pvalue) || !http_str_ieq(pname.p, pname.n, "q") ||
            pvalue.p[0] == '"' || (q = negotiate_qvalue(pvalue.p, pvalue.n)) < 0)
            return; /* malformed: ignored */
        skip_ows(c);
    }
    if (http_str_ieq(name.p, name.n, "gzip") || http_str_ieq(name.p, name.n, "x-gzip"))
        slot = &k->gzip;
    else if (http_str_ieq(name.p, name.n, "identity"))
        slot = &k->identity;
    else if (http_str_ieq(name.p, name.n, "*"))
        slot = &k->star;
    if (slot != NULL && q > *slot)
        *slot = q;
}

bool negotiate_gzip(const struct http_str *accept_encoding, size_t n)
{
    struct codings k = {-1, -1, -1};
    int gz, id;

    each_element(accept_encoding, n, encoding_element, &k);
    gz = k.gzip >= 0 ? k.gzip : k.star;
    id = k.identity >= 0 ? k.identity : k.star; /* -1: only implied, least preferred */
    return gz > 0 && !(id > gz);
}
