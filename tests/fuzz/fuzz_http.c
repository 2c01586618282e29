/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_http.c - libFuzzer target for shmetricsd's request-head
 * parser, http_parse() (aggregator/http/http.c), and the Accept negotiation fed
 * from what it parsed (aggregator/http/negotiate.c). Whatever the bytes:
 *   - the result is a head length within the input and the 8 KiB limit,
 *     "need more" (only below the limit), or a refusal with one of the
 *     statuses the parser documents;
 *   - feeding the same bytes in pieces (cut where the input's first byte
 *     says) gives the same result as feeding them whole;
 *   - every string of a parsed request lies inside the input;
 *   - nothing reads outside the input (it sits in its own allocation of
 *     exactly its size, so AddressSanitizer sees any over-read).
 *
 * Input: one byte choosing the piece size (1 + byte % 64), then the bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(struct http_str s, const char *buf, size_t len)
{
    if (s.n == 0)
        return;
    if (s.p < buf || s.p + s.n > buf + len) {
        if (!(s.n == 1 && s.p[0] == '/')) /* the path "/" of an absolute-form target */
            abort();
    }
}

static void check_request(const struct http_request *r, const char *buf, size_t len, int rc)
{
    if (rc > HTTP_HEAD_MAX || (size_t)rc > len || r->status != 200 || r->minor > 1)
        abort();
    check_inside(r->method_name, buf, (size_t)rc);
    check_inside(r->target, buf, (size_t)rc);
    check_inside(r->path, buf, (size_t)rc);
    check_inside(r->host, buf, (size_t)rc);
    if (r->path.n == 0 || r->path.p[0] != '/' || r->method_name.n == 0)
        abort();
    for (uint8_t i = 0; i < r->naccept; i++)
        check_inside(r->accept[i], buf, (size_t)rc);
    for (uint8_t i = 0; i < r->naccept_encoding; i++)
        check_inside(r->accept_encoding[i], buf, (size_t)rc);
    (void)negotiate_format(r->accept, r->naccept);
    (void)negotiate_gzip(r->accept_encoding, r->naccept_encoding);
}

static void check_result(int rc, const struct http_request *r, size_t len)
{
    if (rc == 0 && len >= HTTP_HEAD_MAX)
        abort(); /* a full 8 KiB without an end must be refused */
    if (rc < 0 && (rc != -EBADMSG || (r->status != 400 && r->status != 411 && r->status != 413 &&
                                      r->status != 431 && r->status != 505)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_parser whole, pieces;
    struct http_request a, b;
    size_t step, len;
    char *buf;
    int ra, rb = 0;

    if (size < 1)
        return 0;
    step = 1 + data[0] % 64;
    len = size - 1;
    buf = malloc(len ? len : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, len);
    http_parser_init(&whole);
    ra = http_parse(&whole, buf, len, &a);
    check_result(ra, &a, len);
    if (ra > 0)
        check_request(&a, buf, len, ra);
    http_parser_init(&pieces);
    for (size_t n = 0; n < len && rb == 0;) {
        n = n + step < len ? n + step : len;
        rb = http_parse(&pieces, buf, n, &b);
    }
    if (len == 0)
        rb = http_parse(&pieces, buf, 0, &b);
    if (ra != rb || a.status != b.status)
        abort();
    free(buf);
    return 0;
}
