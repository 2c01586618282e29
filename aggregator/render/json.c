/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/json.c - see json.h.
 */
#include <math.h>
#include <string.h>

#include "render/json.h"
#include "render/number.h"

void jw_init(struct jw *w, struct buf *b)
{
    *w = (struct jw){.b = b};
}

/* A line break and the indent of depth d (at most JW_DEPTH_MAX). */
static void newline(struct buf *b, unsigned d)
{
    static const char spaces[] = "\n                                "; /* 1 + 32 */

    buf_put(b, spaces, 1 + d);
}

/* Length of the UTF-8 sequence at p (n > 0 bytes left), *ok when it is
 * well-formed; when not, the length of its maximal ill-formed subpart
 * (at least 1): the lead byte and the continuation bytes that could still
 * have completed it (Unicode table 3-7 gives the second byte's range). */
static size_t utf8_seq(const unsigned char *p, size_t n, bool *ok)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t need, k;

    *ok = false;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 1; /* a continuation byte, C0, C1 or F5..FF: never a lead */
    for (k = 1; k <= need; k++, lo = 0x80, hi = 0xbf)
        if (k >= n || p[k] < lo || p[k] > hi)
            return k;
    *ok = true;
    return k;
}

/* The escape of an ASCII byte that JSON needs escaped, in out; its
 * length, 0 for a byte written as it is. */
static size_t ascii_escape(unsigned char c, char out[6])
{
    static const char hex[] = "0123456789ABCDEF";
    static const char short_esc[] = "btn\0fr"; /* \b \t \n, not \v, \f \r */

    if (c == '"' || c == '\\') {
        out[0] = '\\', out[1] = (char)c;
        return 2;
    }
    if (c >= 0x20)
        return 0;
    if (c >= '\b' && c <= '\r' && short_esc[c - '\b'] != '\0') {
        out[0] = '\\', out[1] = short_esc[c - '\b'];
        return 2;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4], out[5] = hex[c & 15];
    return 6;
}

/* s[0..n) as a JSON string: runs that need nothing are copied whole. */
static void put_string(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;

    buf_char(b, '"');
    while (i < n) {
        char esc[6];
        size_t len = 1, elen;
        bool ok;
        if (p[i] < 0x80) {
            elen = ascii_escape(p[i], esc);
        } else {
            len = utf8_seq(p + i, n - i, &ok);
            elen = ok ? 0 : 3;
            if (!ok)
                memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD */
        }
        if (elen > 0) {
            buf_put(b, s + run, i - run);
            buf_put(b, esc, elen);
            run = i + len;
        }
        i += len;
    }
    buf_put(b, s + run, n - run);
    buf_char(b, '"');
}

/* What comes before a value: the separator and indent inside a
 * container, and the key inside an object. */
static void member(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        uint32_t bit = UINT32_C(1) << (w->depth - 1);
        if (w->filled & bit)
            buf_char(w->b, ',');
        w->filled |= bit;
        newline(w->b, w->depth);
    }
    if (key != NULL) {
        put_string(w->b, key, strlen(key));
        buf_put(w->b, ": ", 2);
    }
}

static void open_container(struct jw *w, const char *key, bool array)
{
    member(w, key);
    if (w->depth >= JW_DEPTH_MAX) {
        w->b->failed = true;
        return;
    }
    buf_char(w->b, array ? '[' : '{');
    w->depth++;
    uint32_t bit = UINT32_C(1) << (w->depth - 1);
    w->arrays = array ? w->arrays | bit : w->arrays & ~bit;
    w->filled &= ~bit;
}

void jw_object(struct jw *w, const char *key)
{
    open_container(w, key, false);
}

void jw_array(struct jw *w, const char *key)
{
    open_container(w, key, true);
}

void jw_end(struct jw *w)
{
    if (w->depth == 0)
        return;
    uint32_t bit = UINT32_C(1) << (w->depth - 1);
    w->depth--;
    if (w->filled & bit)
        newline(w->b, w->depth);
    buf_char(w->b, (w->arrays & bit) ? ']' : '}');
}

void jw_string(struct jw *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    put_string(w->b, s, n);
}

void jw_cstring(struct jw *w, const char *key, const char *s)
{
    member(w, key);
    if (s == NULL)
        buf_put(w->b, "null", 4);
    else
        put_string(w->b, s, strlen(s));
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
    member(w, key);
    if (v < 0)
        buf_char(w->b, '-');
    buf_u64(w->b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void jw_real(struct jw *w, const char *key, double v)
{
    char text[FMT_DOUBLE_MAX + 2];
    size_t n = fmt_double(text, v);

    member(w, key);
    if (!isfinite(v)) {
        put_string(w->b, text, n);
        return;
    }
    if (strpbrk(text, ".e") == NULL) { /* an integer's digits: keep it a real */
        memcpy(text + n, ".0", 2);
        n += 2;
    }
    buf_put(w->b, text, n);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    member(w, key);
    buf_str(w->b, v ? "true" : "false");
}
