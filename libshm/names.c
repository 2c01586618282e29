/* SPDX-License-Identifier: MIT */
/*
 * libshm/names.c - the naming rules shared by the client (which refuses bad
 * names with -EINVAL) and every reader of the segment (which refuses bad
 * definitions as invalid input): Prometheus metric and label names, UTF-8
 * label values and help text, histogram bucket bounds; and the decimal
 * numbers of command-line flags (shmetricsd, shmtool).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "shm.h"

static bool is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool reserved_prefix(const char *s, size_t n)
{
    return n >= 2 && s[0] == '_' && s[1] == '_';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*, not starting with "__". */
bool shmet__metric_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SHMET_NAME_MAX || reserved_prefix(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha_(s[i]) || s[i] == ':' || (i > 0 && is_digit(s[i]))))
            return false;
    return true;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "le". */
bool shmet__label_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SHMET_NAME_MAX || reserved_prefix(s, n))
        return false;
    if (n == 2 && s[0] == 'l' && s[1] == 'e')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha_(s[i]) || (i > 0 && is_digit(s[i]))))
            return false;
    return true;
}

/* Length of the UTF-8 sequence starting with byte b, 0 if b cannot start
 * one. Overlong forms, surrogates and code points above U+10FFFF are
 * refused by the range checks in shmet__utf8_ok(). */
static size_t utf8_len(unsigned char b)
{
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef)
        return 3;
    if (b >= 0xf0 && b <= 0xf4)
        return 4;
    return 0;
}

/* Well-formed UTF-8 without NUL bytes. */
bool shmet__utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p[i]);
        if (len == 0 || len > n - i || p[i] == 0)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3 && ((p[i] == 0xe0 && p[i + 1] < 0xa0) || (p[i] == 0xed && p[i + 1] >= 0xa0)))
            return false; /* overlong, or a UTF-16 surrogate */
        if (len == 4 && ((p[i] == 0xf0 && p[i + 1] < 0x90) || (p[i] == 0xf4 && p[i + 1] >= 0x90)))
            return false; /* overlong, or above U+10FFFF */
        i += len;
    }
    return true;
}

bool shmet__help_ok(const char *s, size_t n)
{
    return n <= SHMET_HELP_MAX && shmet__utf8_ok(s, n);
}

/* Finite and strictly increasing; at most SHMET_BOUNDS_MAX. */
int shmet__bounds_check(const double *b, size_t n)
{
    if (n > SHMET_BOUNDS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(b[i]))
            return -EINVAL;
        if (i > 0 && !(b[i] > b[i - 1]))
            return -EINVAL;
    }
    return 0;
}

bool shmet__u64_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return false; /* strtoull would take a sign or blanks */
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}
