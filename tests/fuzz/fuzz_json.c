/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_json.c - libFuzzer target for the JSON writer of /debug
 * (aggregator/render/json.c). The input's bytes, whatever they are, go in
 * as a key (up to the first NUL) and as a string value, in an object and
 * in an array, and its first eight as a double:
 *   {"s": {KEY: STRING}, "a": [STRING, DOUBLE]}
 * jansson must read the document back (json_loadb, which refuses anything
 * that is not UTF-8 or not JSON):
 *   - a string that is UTF-8 reads back as exactly the input, NULs and
 *     control characters included;
 *   - one that is not reads back with U+FFFD in it, never more of them
 *     than bytes went in;
 *   - a finite double reads back as a real of exactly its value, a
 *     non-finite one as the string fmt_double spells it.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/json.h"
#include "render/number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Occurrences of U+FFFD in s[0..n). */
static size_t replacements(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i + 3 <= n; i++)
        k += memcmp(s + i, "\xef\xbf\xbd", 3) == 0;
    return k;
}

/* s as jansson read it back, against the input it was written from. */
static void check_string(const json_t *s, const char *in, size_t n, bool utf8)
{
    const char *v = json_string_value(s);
    size_t len = json_string_length(s);

    if (v == NULL)
        abort();
    if (utf8 && (len != n || memcmp(v, in, n) != 0))
        abort();
    if (!utf8 && replacements(v, len) <= replacements(in, n))
        abort();
    if (replacements(v, len) > replacements(in, n) + n)
        abort();
}

static void check_real(const json_t *r, double v)
{
    char want[FMT_DOUBLE_MAX];

    if (!isfinite(v)) {
        fmt_double(want, v);
        if (!json_is_string(r) || strcmp(json_string_value(r), want) != 0)
            abort();
        return;
    }
    if (!json_is_real(r) || json_real_value(r) != v || signbit(json_real_value(r)) != signbit(v))
        abort();
}

static void write_doc(struct buf *b, const char *key, const char *s, size_t n, double v)
{
    struct jw w;

    jw_init(&w, b);
    jw_object(&w, NULL);
    jw_object(&w, "s");
    jw_string(&w, key, s, n);
    jw_end(&w);
    jw_array(&w, "a");
    jw_string(&w, NULL, s, n);
    jw_real(&w, NULL, v);
    jw_end(&w);
    jw_end(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char *key = strndup(s, size);
    size_t klen = strlen(key);
    uint64_t bits = 0;
    double v;
    struct buf b;

    memcpy(&bits, data, size < sizeof(bits) ? size : sizeof(bits));
    memcpy(&v, &bits, sizeof(v));
    buf_init(&b);
    write_doc(&b, key, s, size, v);
    if (buf_failed(&b))
        abort();
    json_t *doc = json_loadb(b.data, b.len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
    if (doc == NULL)
        abort();
    /* whether jansson takes the bytes as UTF-8: json_stringn refuses them if not */
    json_t *probe = json_stringn(s, size), *kprobe = json_stringn(key, klen);
    void *it = json_object_iter(json_object_get(doc, "s"));
    if (it == NULL)
        abort();
    check_string(json_object_iter_value(it), s, size, probe != NULL);
    json_t *k = json_stringn(json_object_iter_key(it), json_object_iter_key_len(it));
    check_string(k, key, klen, kprobe != NULL);
    json_t *a = json_object_get(doc, "a");
    check_string(json_array_get(a, 0), s, size, probe != NULL);
    check_real(json_array_get(a, 1), v);
    json_decref(k);
    json_decref(probe);
    json_decref(kprobe);
    json_decref(doc);
    buf_free(&b);
    free(key);
    return 0;
}
