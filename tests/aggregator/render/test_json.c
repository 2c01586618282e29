/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/render/test_json.c - aggregator/render/json.c, the JSON writer
 * of /debug, byte-exact: the layout (one member a line, one space a level,
 * empty containers), strings (every control character, quote, backslash,
 * what passes as it is, UTF-8 of every length, and each kind of
 * ill-formed byte sequence replaced by U+FFFD as Python's
 * errors="replace" would), numbers (shortest reals kept reals, int64
 * integers at their extremes, non-finite values as strings), the depth
 * limit; and
 * what it writes parses back with jansson to the same values and types.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/json.h"
#include "t_util.h"

static struct buf written_buf;

/* The string s[0..n) as the writer writes it, as a C string, valid until
 * the next call. */
static const char *written(const char *s, size_t n)
{
    struct jw w;

    written_buf.len = 0;
    jw_init(&w, &written_buf);
    jw_string(&w, NULL, s, n);
    buf_char(&written_buf, '\0');
    CU_ASSERT_FATAL(!buf_failed(&written_buf));
    return written_buf.data;
}

/* What jansson reads back of written(s, n): the one string it holds. */
static void check_parses_to(const char *s, size_t n, const char *want, size_t want_len)
{
    const char *text = written(s, n);
    json_error_t err;
    json_t *j = json_loadb(text, strlen(text), JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_string_length(j), want_len);
    CU_ASSERT(memcmp(json_string_value(j), want, want_len) == 0);
    json_decref(j);
}

static void test_json_string_controls(void)
{
    char all[32];
    static const char want[] = "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
                               "\\b\\t\\n\\u000B\\f\\r\\u000E\\u000F"
                               "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                               "\\u0018\\u0019\\u001A\\u001B\\u001C\\u001D\\u001E\\u001F\"";

    for (int i = 0; i < 32; i++)
        all[i] = (char)i;
    CU_ASSERT_STRING_EQUAL(written(all, 32), want);
    check_parses_to(all, 32, all, 32);
    CU_ASSERT_STRING_EQUAL(written("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    CU_ASSERT_STRING_EQUAL(written("\"\\", 2), "\"\\\"\\\\\"");
    /* solidus and DEL need no escape; printable ASCII is copied */
    CU_ASSERT_STRING_EQUAL(written("/a b~\x7f", 6), "\"/a b~\x7f\"");
    CU_ASSERT_STRING_EQUAL(written("", 0), "\"\"");
    check_parses_to("x\"\\/\x7f\n", 6, "x\"\\/\x7f\n", 6);
}

static void test_json_string_utf8(void)
{
    static const char *const ok[] = {
        "\xc2\x80",         /* U+0080, the first of two bytes */
        "\xc3\xbc",         /* ü */
        "\xdf\xbf",         /* U+07FF */
        "\xe0\xa0\x80",     /* U+0800 */
        "\xe2\x82\xac",     /* € */
        "\xed\x9f\xbf",     /* U+D7FF, below the surrogates */
        "\xee\x80\x80",     /* U+E000, above them */
        "\xef\xbf\xbd",     /* U+FFFD itself */
        "\xef\xbf\xbf",     /* U+FFFF */
        "\xf0\x90\x80\x80", /* U+10000 */
        "\xf0\x9f\x98\x80", /* 😀 */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80!",
    };
    char want[64];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(want, sizeof(want), "\"%s\"", ok[i]);
        CU_ASSERT_STRING_EQUAL(written(ok[i], strlen(ok[i])), want);
        check_parses_to(ok[i], strlen(ok[i]), ok[i], strlen(ok[i]));
    }
}

#define R "\xef\xbf\xbd" /* U+FFFD */

static void test_json_string_invalid(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\xff", R},
        {"\xfe\xfe", R R},
        {"\x80", R}, /* a continuation byte alone */
        {"a\xbf!", "a" R "!"},
        {"a\xc3", "a" R}, /* truncated at the end */
        {"\xc3(", R "("}, /* cut short by ASCII */
        {"\xe2\x82", R},  /* a truncated sequence is one U+FFFD */
        {"\xe2\x82(", R "("},
        {"\xf0\x9f\x98", R},
        {"\xe1\x80\xc3\xa9", R "\xc3\xa9"},
        {"\xc0\xaf", R R}, /* overlong: C0 and C1 never lead */
        {"\xc1\xbf", R R},
        {"\xe0\x80\x80", R R R}, /* overlong three bytes */
        {"\xf0\x8f\xbf\xbf", R R R R},
        {"\xed\xa0\x80", R R R},       /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", R R R R}, /* past U+10FFFF */
        {"\xf5\x80", R R},
        {"ok\xff\xc3\xbc!", "ok" R "\xc3\xbc!"},
    };
    char want[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *in = cases[i].in, *w = cases[i].want;
        snprintf(want, sizeof(want), "\"%s\"", w);
        CU_ASSERT_STRING_EQUAL(written(in, strlen(in)), want);
        check_parses_to(in, strlen(in), w, strlen(w));
    }
}

/* The document as text, the buffer emptied. */
static const char *text_of(struct buf *b)
{
    static char out[1024];

    CU_ASSERT_FATAL(b->len < sizeof(out) && !buf_failed(b));
    memcpy(out, b->data, b->len);
    out[b->len] = '\0';
    b->len = 0;
    return out;
}

static void test_json_layout(void)
{
    struct buf b;
    struct jw w;

    buf_init(&b);
    jw_init(&w, &b);
    jw_object(&w, NULL);
    jw_end(&w);
    CU_ASSERT_STRING_EQUAL(text_of(&b), "{}");
    jw_array(&w, NULL);
    jw_end(&w);
    CU_ASSERT_STRING_EQUAL(text_of(&b), "[]");
    jw_object(&w, NULL);
    jw_cstring(&w, "s", "x");
    jw_object(&w, "empty");
    jw_end(&w);
    jw_array(&w, "a");
    jw_int(&w, NULL, 1);
    jw_array(&w, NULL);
    jw_real(&w, NULL, 0.5);
    jw_cstring(&w, NULL, "+Inf");
    jw_end(&w);
    jw_array(&w, NULL);
    jw_end(&w);
    jw_end(&w);
    jw_bool(&w, "t", true);
    jw_bool(&w, "f", false);
    jw_cstring(&w, "n", NULL);
    jw_cstring(&w, "k\"\n\xff", "v");
    jw_end(&w);
    CU_ASSERT_STRING_EQUAL(text_of(&b),
                           "{\n \"s\": \"x\",\n \"empty\": {},\n \"a\": [\n  1,\n  [\n"
                           "   0.5,\n   \"+Inf\"\n  ],\n  []\n ],\n \"t\": true,\n"
                           " \"f\": false,\n \"n\": null,\n \"k\\\"\\n" R "\": \"v\"\n}");
    buf_free(&b);
}

static void test_json_numbers(void)
{
    static const struct {
        double v;
        const char *want;
    } reals[] = {
        {0.1, "0.1"}, {0.1 + 0.2, "0.30000000000000004"}, {1, "1.0"}, {-3, "-3.0"},
        {0, "0.0"}, {-0.0, "-0.0"}, {1e21, "1e+21"}, {1.5e-7, "1.5e-07"},
        {9007199254740992.0, "9007199254740992.0"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {NAN, "\"NaN\""},
        {INFINITY, "\"+Inf\""}, {-INFINITY, "\"-Inf\""},
    };
    struct buf b;
    struct jw w;

    buf_init(&b);
    jw_init(&w, &b);
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        jw_real(&w, NULL, reals[i].v);
        const char *t = text_of(&b);
        CU_ASSERT_STRING_EQUAL(t, reals[i].want);
        json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
        CU_ASSERT(isfinite(reals[i].v) ? json_is_real(j) && json_real_value(j) == reals[i].v
                                       : json_is_string(j));
        json_decref(j);
    }
    static const struct {
        int64_t v;
        const char *want;
    } ints[] = {
        {0, "0"},
        {-1, "-1"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
        {(int64_t)UINT64_MAX, "-1"}, /* what a u64 past INT64_MAX becomes */
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        jw_int(&w, NULL, ints[i].v);
        const char *t = text_of(&b);
        CU_ASSERT_STRING_EQUAL(t, ints[i].want);
        json_t *j = json_loads(t, JSON_DECODE_ANY, NULL);
        CU_ASSERT(json_is_integer(j) && json_integer_value(j) == ints[i].v);
        json_decref(j);
    }
    buf_free(&b);
}

/* JW_DEPTH_MAX containers nest and close; one more fails the buffer. */
static void test_json_depth(void)
{
    struct buf b;
    struct jw w;

    buf_init(&b);
    jw_init(&w, &b);
    for (unsigned i = 0; i < JW_DEPTH_MAX; i++)
        jw_array(&w, NULL);
    jw_int(&w, NULL, 7);
    for (unsigned i = 0; i < JW_DEPTH_MAX; i++)
        jw_end(&w);
    CU_ASSERT_FALSE(buf_failed(&b));
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
    jw_end(&w); /* nothing open: nothing written */
    size_t len = b.len;
    CU_ASSERT_FALSE(buf_failed(&b));
    CU_ASSERT_EQUAL(b.len, len);
    for (unsigned i = 0; i <= JW_DEPTH_MAX; i++)
        jw_object(&w, NULL);
    CU_ASSERT_TRUE(buf_failed(&b));
    buf_free(&b);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_json_string_controls", test_json_string_controls},
        {"test_json_string_utf8", test_json_string_utf8},
        {"test_json_string_invalid", test_json_string_invalid},
        {"test_json_layout", test_json_layout},
        {"test_json_numbers", test_json_numbers},
        {"test_json_depth", test_json_depth},
    };
    int rc = T_RUN("json", tests);

    buf_free(&written_buf);
    return rc;
}
