/* SPDX-License-Identifier: MIT */
/*
 * tests/demo/test_demo_http.c - the demo's request parser and route table
 * (examples/demo/http_min.c, routes.c): every prefix of a valid request is
 * "incomplete", never an error; garbage is refused as early as it can be
 * told; bounds hold; and the endpoint label of any path is one of the
 * fixed templates. Inputs sit against a guard page, so a read past the end
 * faults; random inputs run under the sanitizers in CI.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_min.h"
#include "routes.h"
#include "t_util.h"

static char *page; /* two pages, the second inaccessible */
static size_t pagesz;

/* Copy s (n bytes) so that it ends where the guard page begins. */
static const char *guarded(const void *s, size_t n)
{
    CU_ASSERT_FATAL(n <= pagesz);
    memcpy(page + pagesz - n, s, n);
    return page + pagesz - n;
}

static int parse_req(const char *s, size_t n, struct demo_http_request *r)
{
    return demo_http_parse_request(guarded(s, n), n, r);
}

static void test_demo_http_parse_request_complete(void)
{
    static const char req[] = "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                              "Connection: close\r\nX-Other:  v \r\n\r\nhello";
    struct demo_http_request r;

    CU_ASSERT_EQUAL(parse_req(req, sizeof(req) - 1, &r), 1);
    CU_ASSERT_EQUAL(r.h.head_len, sizeof(req) - 1 - 5);
    CU_ASSERT(r.method.len == 4 && memcmp(r.method.ptr, "POST", 4) == 0);
    CU_ASSERT(r.target.len == 9 && memcmp(r.target.ptr, "/echo?x=1", 9) == 0);
    CU_ASSERT(r.h.has_length && r.h.content_length == 5);
    CU_ASSERT_EQUAL(r.h.minor, 1);
    CU_ASSERT(r.h.conn_close && !demo_http_keep_alive(&r.h));
}

/* Every strict prefix of a valid head is 0 (need more), never an error. */
static void test_demo_http_parse_request_prefixes(void)
{
    static const char req[] = "GET /users/42 HTTP/1.0\nHost: a\r\nConnection: keep-alive\n\n";
    struct demo_http_request r;

    for (size_t n = 0; n < sizeof(req) - 1; n++)
        CU_ASSERT_EQUAL(parse_req(req, n, &r), 0);
    CU_ASSERT_EQUAL(parse_req(req, sizeof(req) - 1, &r), 1);
    CU_ASSERT(r.h.minor == 0 && r.h.conn_keep_alive && demo_http_keep_alive(&r.h));
}

static void test_demo_http_parse_request_garbage(void)
{
    static const char *const bad[] = {
        "GARBAGE\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "GET x HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo-Colon\r\n\r\n",
        "GET / HTTP/1.1\r\n Folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
        "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n",
    };
    struct demo_http_request r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(parse_req(bad[i], strlen(bad[i]), &r), -EBADMSG);
    /* Told early: a TLS hello, a bad first line before the head ends. */
    CU_ASSERT_EQUAL(parse_req("\x16\x03\x01", 3, &r), -EBADMSG);
    CU_ASSERT_EQUAL(parse_req("GET / HTTP/9.9\r\nHost: a\r\n", 25, &r), -EBADMSG);
    CU_ASSERT_EQUAL(parse_req("GET /", 5, &r), 0);
}

static void test_demo_http_parse_request_too_large(void)
{
    static char big[DEMO_HTTP_HEAD_MAX + 64];
    struct demo_http_request r;

    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof(big) - 5);
    CU_ASSERT_EQUAL(demo_http_parse_request(big, sizeof(big), &r), -EMSGSIZE);
    CU_ASSERT_EQUAL(demo_http_parse_request(big, DEMO_HTTP_HEAD_MAX - 1, &r), 0);
}

static void test_demo_http_parse_response(void)
{
    static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-Worker: 77\r\n"
                               "\r\nabc";
    struct demo_http_response r;
    const char *p = guarded(resp, sizeof(resp) - 1);

    CU_ASSERT_EQUAL(demo_http_parse_response(p, sizeof(resp) - 1, &r), 1);
    CU_ASSERT_EQUAL(r.status, 404);
    CU_ASSERT(r.h.content_length == 3 && r.h.worker.len == 2);
    p = guarded("HTTP/1.1 20", 11);
    CU_ASSERT_EQUAL(demo_http_parse_response(p, 11, &r), 0);
    p = guarded("HTTP/1.1 2x0 OK\r\n\r\n", 19);
    CU_ASSERT_EQUAL(demo_http_parse_response(p, 19, &r), -EBADMSG);
}

/* Random bytes and mutations of a valid request: results stay in range,
 * nothing reads past the input (the guard page). */
static void test_demo_http_parse_request_random(void)
{
    static const char seed[] = "GET /slow?ms=5 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
    char buf[256];
    unsigned s = 12345;
    struct demo_http_request r;

    for (int i = 0; i < 200000; i++) {
        size_t n = (size_t)(rand_r(&s) % (int)sizeof(buf));
        if (i & 1) {
            for (size_t k = 0; k < n; k++)
                buf[k] = (char)rand_r(&s);
        } else {
            n = sizeof(seed) - 1;
            memcpy(buf, seed, n);
            for (int k = rand_r(&s) % 4; k >= 0; k--)
                buf[rand_r(&s) % (int)n] = (char)rand_r(&s);
        }
        int rc = parse_req(buf, n, &r);
        CU_ASSERT(rc == 1 || rc == 0 || rc == -EBADMSG);
        if (rc == 1)
            CU_ASSERT(r.h.head_len <= n);
    }
}

static int endpoint_of(const char *method, const char *target)
{
    char req[512];
    char scratch[ROUTE_SCRATCH];
    struct demo_http_request r;
    struct route_result res;

    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n\r\n", method, target);
    CU_ASSERT_FATAL(demo_http_parse_request(req, strlen(req), &r) == 1);
    route_dispatch(&r, "", 0, 10, scratch, &res);
    return res.endpoint;
}

static void test_route_endpoint_templates(void)
{
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/42"), EP_USER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/abc"), EP_USER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/%34%32"), EP_USER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/42?x=1"), EP_USER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/"), EP_OTHER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/users/1/2"), EP_OTHER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/usersX"), EP_OTHER);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/slow?ms=1"), EP_SLOW);
    CU_ASSERT_EQUAL(endpoint_of("POST", "/"), EP_ROOT); /* 405, still "/" */
    CU_ASSERT_EQUAL(endpoint_of("GET", "/healthz"), -1);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/metrics"), -1);
    CU_ASSERT_EQUAL(endpoint_of("GET", "/favicon.ico"), -1);
    CU_ASSERT_EQUAL(endpoint_of("OPTIONS", "*"), EP_OTHER);
    CU_ASSERT_EQUAL(demo_method_of((struct demo_http_str){"BREW", 4}), M_OTHER);
}

static void test_route_dispatch_statuses(void)
{
    static const struct {
        const char *method, *target;
        int status;
        unsigned delay;
    } cases[] = {
        {"GET", "/", 200, 0},
        {"HEAD", "/", 200, 0},
        {"GET", "/users/7", 200, 0},
        {"GET", "/users/7x", 404, 0},
        {"GET", "/missing", 404, 0},
        {"GET", "/error", 500, 0},
        {"GET", "/slow", 200, 10},
        {"GET", "/slow?ms=99999", 200, ROUTE_SLOW_MAX_MS},
        {"GET", "/slow?a=1&ms=3", 200, 3},
        {"GET", "/slow?ms=", 400, 0},
        {"GET", "/echo", 405, 0},
        {"DELETE", "/users/1", 405, 0},
    };
    char req[256], scratch[ROUTE_SCRATCH];
    struct demo_http_request r;
    struct route_result res;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n\r\n", cases[i].method, cases[i].target);
        CU_ASSERT_FATAL(demo_http_parse_request(req, strlen(req), &r) == 1);
        route_dispatch(&r, "", 0, 10, scratch, &res);
        CU_ASSERT_EQUAL(res.status, cases[i].status);
        CU_ASSERT_EQUAL(res.delay_ms, cases[i].delay);
    }
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_demo_http_parse_request_complete", test_demo_http_parse_request_complete},
        {"test_demo_http_parse_request_prefixes", test_demo_http_parse_request_prefixes},
        {"test_demo_http_parse_request_garbage", test_demo_http_parse_request_garbage},
        {"test_demo_http_parse_request_too_large", test_demo_http_parse_request_too_large},
        {"test_demo_http_parse_response", test_demo_http_parse_response},
        {"test_demo_http_parse_request_random", test_demo_http_parse_request_random},
        {"test_route_endpoint_templates", test_route_endpoint_templates},
        {"test_route_dispatch_statuses", test_route_dispatch_statuses},
    };

    pagesz = (size_t)sysconf(_SC_PAGESIZE);
    page = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || mprotect(page + pagesz, pagesz, PROT_NONE) != 0)
        return 1;
    return T_RUN("demo_http", tests);
}
