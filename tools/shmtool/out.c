/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/out.c - output helpers shared by the commands: allocation
 * that gives up cleanly when memory runs out (a command-line tool has no
 * better recovery), escaping of untrusted strings for a terminal, time and
 * size formatting, and small JSON builders over jansson.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmtool.h"

void die_nomem(void)
{
    fputs("shmtool: out of memory\n", stderr);
    exit(TOOL_PROBLEM);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        die_nomem();
    return p;
}

void *xrealloc_array(void *p, size_t n, size_t size)
{
    size_t total;

    if (size != 0 && n > SIZE_MAX / size)
        die_nomem();
    total = n * size;
    p = realloc(p, total != 0 ? total : 1);
    if (p == NULL)
        die_nomem();
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Make room for need elements of size bytes in *arr (capacity *cap). */
void grow(void **arr, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap : 16;

    if (need <= *cap)
        return;
    while (ncap < need)
        ncap *= 2;
    *arr = xrealloc_array(*arr, ncap, size);
    *cap = ncap;
}

/* The escape sequence for byte c, or NULL when c prints as itself. Quotes,
 * backslashes and newlines follow the Prometheus text format; every other
 * control byte is shown as \xHH so that no string from the segment can
 * drive the terminal. */
static const char *escape_one(unsigned char c, bool raw_high, char tmp[5])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\t':
        return "\\t";
    case '\r':
        return "\\r";
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && !raw_high)) {
        snprintf(tmp, 5, "\\x%02x", c);
        return tmp;
    }
    return NULL;
}

/*
 * escape - write s[0..n) escaped into dst (cap bytes, always terminated).
 * Well-formed UTF-8 passes through; a string that is not has every byte
 * >= 0x80 escaped, so the result is always valid UTF-8. Returns the bytes
 * written; the output is cut at a whole escape when dst is too small.
 */
size_t escape(char *dst, size_t cap, const char *s, size_t n)
{
    bool raw_high = shmet__utf8_ok(s, n);
    size_t w = 0;
    char tmp[5];

    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = escape_one((unsigned char)s[i], raw_high, tmp);
        size_t len = e ? strlen(e) : 1;
        if (w + len >= cap)
            break;
        if (e)
            memcpy(dst + w, e, len);
        else
            dst[w] = s[i];
        w += len;
    }
    dst[w] = '\0';
    return w;
}

void fput_escaped(FILE *f, const char *s, size_t n)
{
    bool raw_high = shmet__utf8_ok(s, n);
    char tmp[5];

    for (size_t i = 0; i < n; i++) {
        const char *e = escape_one((unsigned char)s[i], raw_high, tmp);
        if (e)
            fputs(e, f);
        else
            putc(s[i], f);
    }
}

/* CLOCK_REALTIME nanoseconds as ISO 8601 UTC, or "never" for 0. */
void fmt_time(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;

    if (ns == 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%s", ns == 0 ? "never" : "?");
}

void fmt_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = -1;

    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void jset(json_t *obj, const char *key, json_t *val)
{
    if (val == NULL || json_object_set_new(obj, key, val) < 0)
        die_nomem();
}

void jpush(json_t *arr, json_t *val)
{
    if (val == NULL || json_array_append_new(arr, val) < 0)
        die_nomem();
}

json_t *jnew_object(void)
{
    json_t *o = json_object();

    if (o == NULL)
        die_nomem();
    return o;
}

json_t *jnew_array(void)
{
    json_t *a = json_array();

    if (a == NULL)
        die_nomem();
    return a;
}

/* JSON integers are signed 64-bit; a larger (corrupt) counter is shown as
 * a number that keeps its magnitude. */
json_t *ju64(uint64_t v)
{
    return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

/* A JSON string of s[0..n): as is when it is well-formed UTF-8 (label
 * values and names from the arena are validated), else escaped. */
json_t *jstrn(const char *s, size_t n)
{
    json_t *j;
    char *tmp;

    if (shmet__utf8_ok(s, n))
        return json_stringn(s, n);
    tmp = xmalloc(n * 4 + 1);
    escape(tmp, n * 4 + 1, s, n);
    j = json_string(tmp);
    free(tmp);
    return j;
}

/* Print root on stdout (indented, keys sorted) and release it. */
int json_print(json_t *root)
{
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);

    json_decref(root);
    if (rc < 0)
        return -EIO;
    putchar('\n');
    return 0;
}
