/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/http/test_http.c - aggregator/http/http.c: the request-head
 * parser on valid heads, pipelined heads, every refusal with its status,
 * the 8 KiB limit to the byte, heads fed one byte at a time (same result
 * as whole), and every input placed against a PROT_NONE guard page so that
 * a read past the given length faults; then the response-head builder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http/http.h"
#include "t_util.h"

#define PAGE 4096u
#define GUARD_BYTES (4 * PAGE) /* readable bytes before the guard page */

static char *g_map; /* GUARD_BYTES readable, then one PROT_NONE page */

/* Copy s[0, n) so that its last byte is the last readable byte. */
static const char *guarded(const char *s, size_t n)
{
    char *p = g_map + GUARD_BYTES - n;

    CU_ASSERT_FATAL(n <= GUARD_BYTES);
    memcpy(p, s, n);
    return p;
}

/* Parse s whole, against the guard page. */
static int parse(const char *s, size_t n, struct http_request *req)
{
    struct http_parser p;

    http_parser_init(&p);
    return http_parse(&p, guarded(s, n), n, req);
}

static int parse_str(const char *s, struct http_request *req)
{
    return parse(s, strlen(s), req);
}

/* Parse s fed one more byte at a time, each prefix against the guard. */
static int parse_bytewise(const char *s, size_t n, struct http_request *req)
{
    struct http_parser p;
    int rc = 0;

    http_parser_init(&p);
    for (size_t i = 1; i <= n; i++) {
        rc = http_parse(&p, guarded(s, i), i, req);
        if (rc != 0)
            return rc;
    }
    return rc;
}

static bool str_is(struct http_str s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

/* The status a head is refused with (0: not refused). */
static int refused(const char *s, size_t n)
{
    struct http_request req;
    int rc = parse(s, n, &req);

    return rc == -EBADMSG ? req.status : 0;
}

static int refused_str(const char *s)
{
    return refused(s, strlen(s));
}

/* ---- valid heads --------------------------------------------------------- */

static void test_http_parse_simple_get(void)
{
    const char *s = "GET /metrics HTTP/1.1\r\nHost: localhost:9477\r\nUser-Agent: t\r\n\r\n";
    struct http_request req;

    CU_ASSERT_EQUAL(parse_str(s, &req), (int)strlen(s));
    CU_ASSERT_EQUAL(req.status, 200);
    CU_ASSERT_EQUAL(req.method, HTTP_GET);
    CU_ASSERT_TRUE(str_is(req.method_name, "GET"));
    CU_ASSERT_TRUE(str_is(req.path, "/metrics"));
    CU_ASSERT_TRUE(str_is(req.host, "localhost:9477"));
    CU_ASSERT_EQUAL(req.minor, 1);
    CU_ASSERT_TRUE(req.keep_alive);
    CU_ASSERT_EQUAL(req.naccept, 0);
}

static void test_http_parse_head_query_http10(void)
{
    const char *s = "HEAD /metrics?name=x HTTP/1.0\r\n\r\n";
    struct http_request req;

    CU_ASSERT_EQUAL(parse_str(s, &req), (int)strlen(s));
    CU_ASSERT_EQUAL(req.method, HTTP_HEAD);
    CU_ASSERT_TRUE(str_is(req.target, "/metrics?name=x"));
    CU_ASSERT_TRUE(str_is(req.path, "/metrics"));
    CU_ASSERT_EQUAL(req.minor, 0);
    CU_ASSERT_FALSE(req.keep_alive); /* HTTP/1.0 closes by default; Host optional */
}

static void test_http_parse_connection_tokens(void)
{
    struct http_request req;

    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
    CU_ASSERT_TRUE(req.keep_alive);
    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &req) > 0);
    CU_ASSERT_FALSE(req.keep_alive);
    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, Close\r\n\r\n", &req) >
                   0);
    CU_ASSERT_FALSE(req.keep_alive);
    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", &req) > 0);
    CU_ASSERT_TRUE(req.keep_alive);
    CU_ASSERT_TRUE(
        parse_str("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", &req) >
        0);
    CU_ASSERT_FALSE(req.keep_alive);
}

static void test_http_parse_bare_lf_and_leading_empty_lines(void)
{
    const char *lf = "GET /healthz HTTP/1.1\nHost: a\n\n";
    const char *lead = "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_request req;

    CU_ASSERT_EQUAL(parse_str(lf, &req), (int)strlen(lf));
    CU_ASSERT_TRUE(str_is(req.path, "/healthz"));
    CU_ASSERT_TRUE(str_is(req.host, "a"));
    CU_ASSERT_EQUAL(parse_str(lead, &req), (int)strlen(lead)); /* the empty lines count */
    CU_ASSERT_TRUE(str_is(req.path, "/"));
}

static void test_http_parse_absolute_form(void)
{
    struct http_request req;

    CU_ASSERT_TRUE(parse_str("GET http://h:9477/metrics?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", &req) >
                   0);
    CU_ASSERT_TRUE(str_is(req.path, "/metrics"));
    CU_ASSERT_TRUE(parse_str("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", &req) > 0);
    CU_ASSERT_TRUE(str_is(req.path, "/"));
    CU_ASSERT_TRUE(parse_str("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n", &req) > 0);
    CU_ASSERT_TRUE(str_is(req.path, "/"));
}

static void test_http_parse_fields(void)
{
    const char *s = "GET / HTTP/1.1\r\nhOsT:x\r\nACCEPT:   text/plain ;q=0.5 \t\r\n"
                    "Accept: application/openmetrics-text\r\naccept-encoding: gzip\r\n"
                    "X-Empty:\r\nContent-Length: 0\r\n\r\n";
    struct http_request req;

    CU_ASSERT_EQUAL(parse_str(s, &req), (int)strlen(s));
    CU_ASSERT_TRUE(str_is(req.host, "x"));
    CU_ASSERT_EQUAL_FATAL(req.naccept, 2);
    CU_ASSERT_TRUE(str_is(req.accept[0], "text/plain ;q=0.5")); /* OWS trimmed at both ends */
    CU_ASSERT_TRUE(str_is(req.accept[1], "application/openmetrics-text"));
    CU_ASSERT_EQUAL_FATAL(req.naccept_encoding, 1);
    CU_ASSERT_TRUE(str_is(req.accept_encoding[0], "gzip"));
    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 0\r\n\r\n", &req) >
                   0);
}

static void test_http_parse_other_methods(void)
{
    struct http_request req;

    CU_ASSERT_TRUE(parse_str("POST /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(req.method, HTTP_OTHER);
    CU_ASSERT_TRUE(str_is(req.method_name, "POST"));
    CU_ASSERT_TRUE(parse_str("get / HTTP/1.1\r\nHost: a\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(req.method, HTTP_OTHER); /* methods are case-sensitive */
    CU_ASSERT_TRUE(parse_str("GETX / HTTP/1.1\r\nHost: a\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(req.method, HTTP_OTHER);
}

static void test_http_parse_http12_as_11(void)
{
    struct http_request req;

    CU_ASSERT_TRUE(parse_str("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(req.minor, 1);
}

/* ---- incomplete and pipelined -------------------------------------------- */

static void test_http_parse_incomplete(void)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_request req;

    for (size_t n = 0; n < strlen(s); n++)
        CU_ASSERT_EQUAL(parse(s, n, &req), 0);
}

static void test_http_parse_pipelined(void)
{
    const char *a = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    const char *b = "HEAD /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    char both[256];
    struct http_parser p;
    struct http_request req;
    const char *g;
    size_t n = (size_t)snprintf(both, sizeof(both), "%s%sGET /partial", a, b);
    int rc;

    g = guarded(both, n);
    http_parser_init(&p);
    rc = http_parse(&p, g, n, &req);
    CU_ASSERT_EQUAL_FATAL(rc, (int)strlen(a));
    CU_ASSERT_TRUE(str_is(req.path, "/healthz"));
    g += rc;
    n -= (size_t)rc;
    http_parser_init(&p);
    rc = http_parse(&p, g, n, &req);
    CU_ASSERT_EQUAL_FATAL(rc, (int)strlen(b));
    CU_ASSERT_EQUAL(req.method, HTTP_HEAD);
    CU_ASSERT_TRUE(str_is(req.host, "b"));
    CU_ASSERT_FALSE(req.keep_alive);
    http_parser_init(&p);
    CU_ASSERT_EQUAL(http_parse(&p, g + rc, n - (size_t)rc, &req), 0); /* the third is partial */
}

/* ---- refusals ------------------------------------------------------------ */

struct refusal {
    const char *head;
    int status;
};

static void test_http_parse_refusals(void)
{
    static const struct refusal cases[] = {
        {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400}, /* two spaces */
        {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400}, /* trailing space */
        {"GET /\r\nHost: a\r\n\r\n", 400},           /* HTTP/0.9 */
        {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400}, /* leading space */
        {"GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/11\r\nHost: a\r\n\r\n", 400},
        {"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / http/1.1\r\nHost: a\r\n\r\n", 400}, /* the version is case-sensitive */
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/3.0\r\n\r\n", 505},
        {"GET metrics HTTP/1.1\r\nHost: a\r\n\r\n", 400}, /* not origin-form */
        {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET ftp://h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},         /* not a token */
        {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400}, /* raw UTF-8 in the target */
        {"GET / HTTP/1.1\r\n\r\n", 400},                    /* HTTP/1.1 without Host */
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400}, /* obs-fold */
        {"GET / HTTP/1.1\r\nHost: a\r\n\tX: c\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400}, /* space before the colon */
        {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX(: y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400}, /* bare CR */
        {"GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400}, /* DEL */
        {"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", 400},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400}, /* TLS, refused at once */
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 413},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
         400},
        {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = refused_str(cases[i].head);
        if (got != cases[i].status)
            fprintf(stderr, "case %zu: got %d, want %d\n", i, got, cases[i].status);
        CU_ASSERT_EQUAL(got, cases[i].status);
        got = 0;
        struct http_request req;
        if (parse_bytewise(cases[i].head, strlen(cases[i].head), &req) == -EBADMSG)
            got = req.status;
        CU_ASSERT_EQUAL(got, cases[i].status);
    }
}

static void test_http_parse_too_many_list_lines(void)
{
    char s[2048];
    size_t n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: a\r\n");

    for (int i = 0; i < HTTP_LIST_MAX; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "Accept: text/plain\r\n");
    memcpy(s + n, "\r\n", 3);
    CU_ASSERT_EQUAL(refused(s, n + 2), 0);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "Accept: text/plain\r\n\r\n");
    CU_ASSERT_EQUAL(refused(s, n), 400);
}

/* A refused head is refused early: the rest never needs to arrive. */
static void test_http_parse_refuses_early(void)
{
    struct http_request req;

    CU_ASSERT_EQUAL(parse_str("\x16\x03", &req), -EBADMSG);
    CU_ASSERT_EQUAL(parse_str("GET / HTTP/2.0\r\n", &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 505);
    CU_ASSERT_EQUAL(parse_str("GET / HTTP/1.1\r\nX: \x01", &req), -EBADMSG);
    CU_ASSERT_EQUAL(parse_str("GET / HTTP/1.1\r\n x", &req), -EBADMSG);
}

/* Once refused, the parser keeps its answer. */
static void test_http_parse_refusal_sticks(void)
{
    const char *s = "GET / HTTP/9.9\r\nHost: a\r\n\r\n";
    struct http_parser p;
    struct http_request req;
    const char *g = guarded(s, strlen(s));

    http_parser_init(&p);
    CU_ASSERT_EQUAL(http_parse(&p, g, strlen(s), &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 505);
    CU_ASSERT_EQUAL(http_parse(&p, g, strlen(s), &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 505);
}

/* ---- the 8 KiB limit ----------------------------------------------------- */

/* A valid head of exactly n bytes, padded by one long field. */
static char *head_of(size_t n)
{
    const char *pre = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Pad: ";
    char *s = malloc(n + 1);
    size_t p = strlen(pre);

    CU_ASSERT_FATAL(s != NULL && n > p + 4);
    memcpy(s, pre, p);
    memset(s + p, 'x', n - p - 4);
    memcpy(s + n - 4, "\r\n\r\n", 5);
    return s;
}

static void test_http_parse_head_limit(void)
{
    struct http_request req;
    char *ok = head_of(HTTP_HEAD_MAX), *big = head_of(HTTP_HEAD_MAX + 1);
    char *more = malloc(HTTP_HEAD_MAX + 100);

    CU_ASSERT_EQUAL(parse(ok, HTTP_HEAD_MAX, &req), HTTP_HEAD_MAX);
    CU_ASSERT_EQUAL(parse(big, HTTP_HEAD_MAX + 1, &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 431);
    /* Refused as soon as 8192 bytes hold no end of head. */
    CU_ASSERT_EQUAL(parse(big, HTTP_HEAD_MAX, &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 431);
    CU_ASSERT_EQUAL(parse(big, HTTP_HEAD_MAX - 1, &req), 0);
    /* A full-size head followed by the next request's bytes. */
    memcpy(more, ok, HTTP_HEAD_MAX);
    memcpy(more + HTTP_HEAD_MAX, "GET / HTTP/1.1\r\n", 16);
    CU_ASSERT_EQUAL(parse(more, HTTP_HEAD_MAX + 16, &req), HTTP_HEAD_MAX);
    /* A request line alone longer than the limit. */
    memset(more, 'a', HTTP_HEAD_MAX + 100);
    memcpy(more, "GET /", 5);
    CU_ASSERT_EQUAL(parse(more, HTTP_HEAD_MAX + 100, &req), -EBADMSG);
    CU_ASSERT_EQUAL(req.status, 431);
    free(ok);
    free(big);
    free(more);
}

/* ---- byte at a time ------------------------------------------------------ */

static void same_result(const char *s, size_t n)
{
    struct http_request a, b;
    int ra = parse(s, n, &a), rb = parse_bytewise(s, n, &b);

    CU_ASSERT_EQUAL(ra, rb);
    CU_ASSERT_EQUAL(a.status, b.status);
    if (ra > 0 && rb > 0) {
        CU_ASSERT_EQUAL(a.method, b.method);
        CU_ASSERT_EQUAL(a.minor, b.minor);
        CU_ASSERT_EQUAL(a.keep_alive, b.keep_alive);
        CU_ASSERT_EQUAL(a.path.n, b.path.n);
        CU_ASSERT_EQUAL(a.naccept, b.naccept);
        CU_ASSERT_EQUAL(a.naccept_encoding, b.naccept_encoding);
        CU_ASSERT_EQUAL(a.host.n, b.host.n);
    }
}

static void test_http_parse_bytewise_same_result(void)
{
    static const char *const heads[] = {
        ("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n"
         "Accept-Encoding: gzip\r\n\r\n"),
        "\r\n\r\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "\x16\x03\x01",
    };
    char *ok = head_of(HTTP_HEAD_MAX), *big = head_of(HTTP_HEAD_MAX + 1);

    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        same_result(heads[i], strlen(heads[i]));
    same_result(ok, HTTP_HEAD_MAX);
    same_result(big, HTTP_HEAD_MAX + 1);
    free(ok);
    free(big);
}

/* ---- responses ----------------------------------------------------------- */

static void test_http_response_head_fields(void)
{
    struct http_response r = {.status = 405,
                              .minor = 1,
                              .content_type = "text/plain",
                              .content_length = 23,
                              .close = true,
                              .allow = "GET, HEAD"};
    struct buf b;

    buf_init(&b);
    CU_ASSERT_EQUAL(http_response_head(&r, &b), 0);
    buf_char(&b, '\0');
    CU_ASSERT_STRING_EQUAL(b.data, "HTTP/1.1 405 Method Not Allowed\r\nServer: shmetricsd\r\n"
                                   "Content-Type: text/plain\r\nContent-Length: 23\r\n"
                                   "Allow: GET, HEAD\r\nConnection: close\r\n\r\n");
    buf_free(&b);
}

static void test_http_response_head_metrics(void)
{
    struct http_response r = {.status = 200,
                              .minor = 0,
                              .content_type = "text/x",
                              .content_encoding = "gzip",
                              .content_length = 0,
                              .vary = true,
                              .date = 784111777};
    struct buf b;

    buf_init(&b);
    CU_ASSERT_EQUAL(http_response_head(&r, &b), 0);
    buf_char(&b, '\0');
    CU_ASSERT_STRING_EQUAL(b.data, "HTTP/1.0 200 OK\r\nServer: shmetricsd\r\n"
                                   "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                   "Content-Type: text/x\r\nContent-Encoding: gzip\r\n"
                                   "Content-Length: 0\r\nVary: Accept, Accept-Encoding\r\n"
                                   "Connection: keep-alive\r\n\r\n");
    buf_free(&b);
}

static void test_http_reason_known_and_unknown(void)
{
    CU_ASSERT_STRING_EQUAL(http_reason(431), "Request Header Fields Too Large");
    CU_ASSERT_STRING_EQUAL(http_reason(503), "Service Unavailable");
    CU_ASSERT_STRING_EQUAL(http_reason(299), "Unknown");
}

static void test_http_str_ieq_cases(void)
{
    CU_ASSERT_TRUE(http_str_ieq("Keep-ALIVE", 10, "keep-alive"));
    CU_ASSERT_FALSE(http_str_ieq("keep-aliv", 9, "keep-alive"));
    CU_ASSERT_FALSE(http_str_ieq("keep-alives", 11, "keep-alive"));
    CU_ASSERT_TRUE(http_str_ieq("", 0, ""));
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_http_parse_simple_get", test_http_parse_simple_get},
        {"test_http_parse_head_query_http10", test_http_parse_head_query_http10},
        {"test_http_parse_connection_tokens", test_http_parse_connection_tokens},
        {"test_http_parse_bare_lf_and_leading_empty_lines",
         test_http_parse_bare_lf_and_leading_empty_lines},
        {"test_http_parse_absolute_form", test_http_parse_absolute_form},
        {"test_http_parse_fields", test_http_parse_fields},
        {"test_http_parse_other_methods", test_http_parse_other_methods},
        {"test_http_parse_http12_as_11", test_http_parse_http12_as_11},
        {"test_http_parse_incomplete", test_http_parse_incomplete},
        {"test_http_parse_pipelined", test_http_parse_pipelined},
        {"test_http_parse_refusals", test_http_parse_refusals},
        {"test_http_parse_too_many_list_lines", test_http_parse_too_many_list_lines},
        {"test_http_parse_refuses_early", test_http_parse_refuses_early},
        {"test_http_parse_refusal_sticks", test_http_parse_refusal_sticks},
        {"test_http_parse_head_limit", test_http_parse_head_limit},
        {"test_http_parse_bytewise_same_result", test_http_parse_bytewise_same_result},
        {"test_http_response_head_fields", test_http_response_head_fields},
        {"test_http_response_head_metrics", test_http_response_head_metrics},
        {"test_http_reason_known_and_unknown", test_http_reason_known_and_unknown},
        {"test_http_str_ieq_cases", test_http_str_ieq_cases},
    };
    int rc;

    g_map =
        mmap(NULL, GUARD_BYTES + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_map == MAP_FAILED || mprotect(g_map + GUARD_BYTES, PAGE, PROT_NONE) != 0)
        return 1;
    rc = T_RUN("http", tests);
    munmap(g_map, GUARD_BYTES + PAGE);
    return rc;
}
