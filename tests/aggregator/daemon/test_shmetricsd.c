/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/daemon/test_shmetricsd.c - the shmetricsd binary over
 * loopback: every endpoint, content negotiation and gzip, HEAD, the error
 * statuses, keep-alive and pipelining, a sample recorded by this process
 * visible in the very next scrape, a producer's death noticed, stalled
 * clients that do not hold up others, the connection limit, SIGTERM, one
 * aggregator per namespace, io_uring refused by seccomp, and the command
 * line. The binary comes from $SHMETRICS_BIN_DIR.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_daemon.h"
#include "t_gzip.h"
#include "t_util.h"

#define PROM_ACCEPT                                                                                \
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"       \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

/* ACQUIRE: these tests only observe the segment; acquire pairs with the
 * releases of the slot state, head and tail (tag-ring-publish in abi.h). */
#define LOAD(p) atomic_load_explicit((p), memory_order_acquire)

static struct t_daemon g_d; /* shared by most tests */

static int get(const char *path, const char *extra_headers, struct t_resp *r)
{
    char req[4096];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n", path,
             extra_headers ? extra_headers : "");
    return t_roundtrip(g_d.port, req, r, false);
}

/* ---- endpoints ----------------------------------------------------------- */

static void test_shmetricsd_healthz(void)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(get("/healthz", NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "ok\n");
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Connection"), "close");
    t_resp_free(&r);
}

static void test_shmetricsd_index(void)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(get("/", NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Content-Type"), "text/html; charset=utf-8");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "href=\"metrics\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "href=\"debug\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "href=\"healthz\""));
    t_resp_free(&r);
}

static void test_shmetricsd_metrics_text(void)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(get("/metrics", NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Content-Type"),
                           "text/plain; version=0.0.4; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Vary"), "Accept, Accept-Encoding");
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Content-Encoding"), "");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "# TYPE shmetrics_build_info gauge\n"));
    /* The constant label comes first on every series. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.body, "shmetrics_build_info{host=\"t\",version=\"" SHMET_VERSION "\"} 1\n"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "# EOF"));
    t_resp_free(&r);
}

static void test_shmetricsd_metrics_openmetrics(void)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(get("/metrics", "Accept: " PROM_ACCEPT "\r\n", &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Content-Type"),
                           "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CU_ASSERT_TRUE(r.body_len > 6 && strcmp(r.body + r.body_len - 6, "# EOF\n") == 0);
    t_resp_free(&r);
}

/* The lines of an exposition that do not change between two scrapes: the
 * aggregator's own drain and scrape durations do. */
static char *stable_lines(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    while (*s != '\0') {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) + 1 : strlen(s);
        char line[4096];
        snprintf(line, sizeof(line), "%.*s", (int)n, s);
        if (strstr(line, "_duration_seconds") == NULL) {
            memcpy(o, s, n);
            o += n;
        }
        s += n;
    }
    *o = '\0';
    return out;
}

static void test_shmetricsd_metrics_gzip(void)
{
    struct t_resp id, gz;
    char *plain = NULL, *a, *b;
    size_t plain_len;

    CU_ASSERT_EQUAL_FATAL(get("/metrics", NULL, &id), 0);
    CU_ASSERT_EQUAL_FATAL(get("/metrics", "Accept-Encoding: gzip\r\n", &gz), 0);
    CU_ASSERT_EQUAL(gz.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&gz, "Content-Encoding"), "gzip");
    CU_ASSERT_STRING_EQUAL(t_header(&gz, "Content-Type"),
                           "text/plain; version=0.0.4; charset=utf-8");
    plain = t_gunzip(gz.body, gz.body_len, &plain_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    a = stable_lines(id.body);
    b = stable_lines(plain);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_TRUE(strlen(a) > 100);
    free(a);
    free(b);
    free(plain);
    t_resp_free(&id);
    t_resp_free(&gz);
}

static void test_shmetricsd_debug_json(void)
{
    struct t_resp r;
    json_error_t err;
    json_t *doc, *seg, *agg;

    CU_ASSERT_EQUAL_FATAL(get("/debug", NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Content-Type"), "application/json");
    doc = json_loads(r.body, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    seg = json_object_get(doc, "segment");
    agg = json_object_get(doc, "aggregator");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(seg, "ns")), g_d.ns);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(seg, "slots")), 8);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(seg, "abi"));
    CU_ASSERT_PTR_NOT_NULL(json_object_get(seg, "ring_records"));
    CU_ASSERT_PTR_NOT_NULL(json_object_get(seg, "arena_bytes"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(agg, "pid")), g_d.pid);
    CU_ASSERT_TRUE(json_is_number(json_object_get(agg, "uptime_seconds")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(agg, "samples_total")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(agg, "dropped_total")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(agg, "invalid_records_total")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(agg, "families")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(agg, "series")));
    CU_ASSERT_TRUE(json_is_array(json_object_get(doc, "producers")));
    CU_ASSERT_TRUE(json_is_array(json_object_get(doc, "families")));
    json_decref(doc);
    t_resp_free(&r);
}

static void test_shmetricsd_head_has_no_body(void)
{
    struct t_http c;
    struct t_resp h, g;
    const char *req = "HEAD /metrics HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_send(&c, req, strlen(req)), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &h, true), 0);
    CU_ASSERT_EQUAL(h.status, 200);
    CU_ASSERT_STRING_EQUAL(t_header(&h, "Content-Encoding"), "gzip");
    CU_ASSERT_TRUE(strtoull(t_header(&h, "Content-Length"), NULL, 10) > 0);
    /* No body bytes: what follows the head is the next response. */
    CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &g, false), 0);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_STRING_EQUAL(g.body, "ok\n");
    CU_ASSERT_FALSE(t_http_fill(&c)); /* then EOF */
    CU_ASSERT_EQUAL(c.len, 0);
    t_resp_free(&h);
    t_resp_free(&g);
    t_http_close(&c);
}

/* ---- errors -------------------------------------------------------------- */

static int status_of(const char *req)
{
    struct t_resp r;
    int st = -1;

    if (t_roundtrip(g_d.port, req, &r, false) == 0)
        st = r.status;
    t_resp_free(&r);
    return st;
}

static void test_shmetricsd_error_statuses(void)
{
    struct t_resp r;
    char *big = malloc(9000);

    CU_ASSERT_EQUAL(status_of("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"), 404);
    CU_ASSERT_EQUAL(status_of("GET /metricsx HTTP/1.1\r\nHost: t\r\n\r\n"), 404);
    CU_ASSERT_EQUAL(status_of("DELETE /metrics HTTP/1.1\r\nHost: t\r\n\r\n"), 405);
    CU_ASSERT_EQUAL(status_of("GARBAGE\r\n\r\n"), 400);
    CU_ASSERT_EQUAL(status_of("GET / HTTP/1.1\r\n\r\n"), 400); /* no Host */
    CU_ASSERT_EQUAL(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
    CU_ASSERT_EQUAL(status_of("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd"), 413);
    CU_ASSERT_EQUAL(status_of("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\n\r\n"),
                    411);
    CU_ASSERT_EQUAL_FATAL(
        t_roundtrip(g_d.port, "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r,
                    false),
        0);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Allow"), "GET, HEAD");
    t_resp_free(&r);
    /* A head over 8 KiB, with more bytes behind it than the server reads. */
    memset(big, 'x', 9000);
    memcpy(big, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ", 32);
    memcpy(big + 8995, "\r\n\r\n", 5);
    CU_ASSERT_EQUAL(status_of(big), 431);
    free(big);
}

/* ---- connections --------------------------------------------------------- */

static void test_shmetricsd_keep_alive(void)
{
    struct t_http c;
    struct t_resp a, b;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_send(&c, req, strlen(req)), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &a, false), 0);
    CU_ASSERT_STRING_EQUAL(t_header(&a, "Connection"), "keep-alive");
    CU_ASSERT_EQUAL_FATAL(t_http_send(&c, req, strlen(req)), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &b, false), 0);
    CU_ASSERT_EQUAL(a.status, 200);
    CU_ASSERT_EQUAL(b.status, 200);
    t_resp_free(&a);
    t_resp_free(&b);
    t_http_close(&c);
}

static void test_shmetricsd_pipelining(void)
{
    struct t_http c;
    struct t_resp r[3];
    const char *req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_send(&c, req, strlen(req)), 0); /* one write */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &r[i], false), 0);
    CU_ASSERT_EQUAL(r[0].status, 200);
    CU_ASSERT_STRING_EQUAL(r[0].body, "ok\n");
    CU_ASSERT_EQUAL(r[1].status, 404);
    CU_ASSERT_EQUAL(r[2].status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r[2].body, "shmetrics_build_info"));
    CU_ASSERT_STRING_EQUAL(t_header(&r[2], "Connection"), "close");
    for (int i = 0; i < 3; i++)
        t_resp_free(&r[i]);
    t_http_close(&c);
}

/* ---- samples ------------------------------------------------------------- */

/* The value of the sample line starting with prefix ("name{...} "), or -1. */
static double sample_value(const char *body, const char *prefix)
{
    const char *p = body;

    while ((p = strstr(p, prefix)) != NULL) {
        if (p == body || p[-1] == '\n')
            return strtod(p + strlen(prefix), NULL);
        p++;
    }
    return -1;
}

static double scrape_value(const char *prefix)
{
    struct t_resp r;
    double v = -2;

    if (get("/metrics", NULL, &r) == 0)
        v = sample_value(r.body, prefix);
    t_resp_free(&r);
    return v;
}

static void test_shmetricsd_sample_visible_in_next_scrape(void)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_client *c;
    struct shmet_family *f;
    struct shmet_series s;
    const char *labels[] = {"route", NULL}, *values[] = {"/x", NULL};
    double total = 0;

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_counter(c, "t_hits_total", "Hits.", labels, &f), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, values, &s), 0);
    for (int round = 1; round <= 5; round++) {
        for (int i = 0; i < round * 100; i++)
            shmet_inc(s);
        shmet_add(s, 0.5);
        total += round * 100 + 0.5;
        /* No waiting: the scrape drains before it renders. */
        CU_ASSERT_EQUAL(scrape_value("t_hits_total{host=\"t\",route=\"/x\"} "), total);
    }
    shmet_close(c);
}

/* The timer drains without any scrape, also after it has backed off. */
static void test_shmetricsd_timer_drains_without_scrape(void)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_client *c;
    struct shmet_family *f;
    struct shmet_series s;
    struct shmet__seg seg;
    struct shmet_abi_slot *sl = NULL;
    uint64_t t0, head = 0, tail = 0;

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_counter(c, "t_timer_total", "Timer.", NULL, &f), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, NULL, &s), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(g_d.ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    usleep(300 * 1000); /* idle: the drain interval is at its longest */
    shmet_inc(s);       /* claims this thread's slot */
    for (uint32_t i = 0; i < seg.slots; i++) {
        struct shmet_abi_slot *x = shmet__slot(&seg, i);
        if (LOAD(&x->state) == SHMET_SLOT_ACTIVE && LOAD(&x->pid) == getpid() &&
            LOAD(&x->tid) == shmet__gettid())
            sl = x;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(sl);
    t0 = t_now_ms();
    while (t_now_ms() - t0 < 2000 * t_scale()) {
        head = LOAD(&sl->head);
        tail = LOAD(&sl->tail);
        if (head == tail)
            break;
        usleep(1000);
    }
    CU_ASSERT_EQUAL(head, tail);
    CU_ASSERT_TRUE(t_now_ms() - t0 < 500 * t_scale()); /* one idle interval is 4 ms */
    printf("(drained in %llu ms) ", (unsigned long long)(t_now_ms() - t0));
    shmet__seg_close(&seg);
    shmet_close(c);
}

/* A producer killed with SIGKILL: its slot is freed, its gauge contribution
 * leaves, its counter stays. */
static void test_shmetricsd_producer_death_noticed(void)
{
    int ready[2];
    char b;
    pid_t child;
    uint64_t t0;
    double g = -1;

    CU_ASSERT_FATAL(pipe(ready) == 0);
    child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        struct shmet_options o = {.ns = g_d.ns};
        struct shmet_client *c;
        struct shmet_family *fg, *fc;
        struct shmet_series sg, sc;
        if (shmet_open(&o, &c) != 0 ||
            shmet_gauge(c, "t_inflight", "In flight.", NULL, SHMET_GAUGE_SUM, &fg) != 0 ||
            shmet_counter(c, "t_done_total", "Done.", NULL, &fc) != 0 ||
            shmet_series_get(fg, NULL, &sg) != 0 || shmet_series_get(fc, NULL, &sc) != 0)
            _exit(1);
        shmet_set(sg, 5);
        shmet_add(sc, 3);
        (void)!write(ready[1], "r", 1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    CU_ASSERT_EQUAL_FATAL(read(ready[0], &b, 1), 1);
    close(ready[0]);
    CU_ASSERT_EQUAL(scrape_value("t_inflight{host=\"t\"} "), 5);
    usleep(100 * 1000); /* let a timer drain watch the new producer */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    t0 = t_now_ms();
    while (t_now_ms() - t0 < 3000 * t_scale() && (g = scrape_value("t_inflight{host=\"t\"} ")) != 0)
        usleep(10 * 1000);
    CU_ASSERT_EQUAL(g, 0);
    printf("(death noticed in %llu ms) ", (unsigned long long)(t_now_ms() - t0));
    CU_ASSERT_EQUAL(scrape_value("t_done_total{host=\"t\"} "), 3);
}

/* A client that sends half a head and one that never reads its (large)
 * reply hold up neither draining nor other clients. */
static void test_shmetricsd_stalled_clients_do_not_block(void)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_client *c;
    struct shmet_family *f;
    const char *labels[] = {"k", NULL};
    const char *req = "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    struct t_http slow, lazy;
    struct t_resp r;
    uint64_t t0;

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_histogram(c, "t_big_seconds", "Big.", labels, NULL, 0, &f), 0);
    for (int i = 0; i < 2000; i++) {
        char v[32];
        const char *values[] = {v, NULL};
        struct shmet_series s;
        snprintf(v, sizeof(v), "value-%05d", i);
        CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, values, &s), 0);
        shmet_observe(s, i * 0.001);
    }
    CU_ASSERT_EQUAL_FATAL(t_http_open(&slow, g_d.port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_send(&slow, "GET /metrics HT", 15), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_open(&lazy, g_d.port, 4096), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_send(&lazy, req, strlen(req)), 0);
    usleep(200 * 1000); /* the lazy reply fills the socket buffers */
    t0 = t_now_ms();
    CU_ASSERT_EQUAL_FATAL(get("/healthz", NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(t_now_ms() - t0 < 1000 * t_scale());
    t_resp_free(&r);
    /* The lazy client now reads all of its reply, intact. */
    CU_ASSERT_EQUAL_FATAL(t_http_read(&lazy, &r, false), 0);
    CU_ASSERT_TRUE(r.body_len > 1000000);
    CU_ASSERT_EQUAL(strlen(r.body), r.body_len);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "t_big_seconds_count{host=\"t\",k=\"value-01999\"} 1\n"));
    t_resp_free(&r);
    /* The slow client finishes its head and is answered. */
    CU_ASSERT_EQUAL_FATAL(t_http_send(&slow, "TP/1.1\r\nHost: t\r\n\r\n", 20), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_read(&slow, &r, false), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    t_resp_free(&r);
    t_http_close(&slow);
    t_http_close(&lazy);
    shmet_close(c);
}

/* ---- own daemons --------------------------------------------------------- */

static void test_shmetricsd_max_connections_503(void)
{
    const char *extra[] = {"--max-connections", "2", NULL};
    const char *req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    struct t_daemon d;
    struct t_http c[4];
    struct t_resp r;
    char ns[64];

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "aggmax"), extra), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d.port, 0), 0);
        CU_ASSERT_EQUAL_FATAL(t_http_send(&c[i], req, strlen(req)), 0);
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c[i], &r, false), 0);
        CU_ASSERT_EQUAL(r.status, i < 2 ? 200 : 503);
        if (i == 2)
            CU_ASSERT_STRING_EQUAL(t_header(&r, "Connection"), "close");
        t_resp_free(&r);
    }
    t_http_close(&c[0]); /* room again, once the server sees the close */
    for (int tries = 0; tries < 100; tries++) {
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[3], d.port, 0), 0);
        CU_ASSERT_EQUAL_FATAL(t_http_send(&c[3], req, strlen(req)), 0);
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c[3], &r, false), 0);
        t_http_close(&c[3]);
        t_resp_free(&r);
        if (r.status == 200)
            break;
        usleep(10 * 1000);
    }
    CU_ASSERT_EQUAL(r.status, 200);
    t_http_close(&c[1]);
    t_http_close(&c[2]);
    t_stop(&d);
    t_ns_cleanup(ns);
}

static void test_shmetricsd_sigterm_exits_zero(void)
{
    struct t_daemon d;
    struct t_http idle;
    struct shmet__seg seg;
    char ns[64];
    uint64_t t0;
    int st;

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "aggterm"), NULL), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_open(&idle, d.port, 0), 0); /* an idle keep-alive connection */
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    CU_ASSERT_EQUAL(LOAD(&seg.hdr->aggregator_pid), d.pid);
    CU_ASSERT_NOT_EQUAL(LOAD(&seg.hdr->heartbeat_ns), 0);
    t0 = t_now_ms();
    kill(d.pid, SIGTERM);
    st = t_wait_exit(&d, 3000);
    CU_ASSERT_TRUE(t_now_ms() - t0 < 1000 * t_scale());
    CU_ASSERT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(LOAD(&seg.hdr->aggregator_pid), 0);
    CU_ASSERT_FALSE(t_http_fill(&idle)); /* closed */
    t_http_close(&idle);
    shmet__seg_close(&seg);
    d.pid = 0;
    t_stop(&d);
    t_ns_cleanup(ns);
}

static void test_shmetricsd_second_instance_refused(void)
{
    struct t_daemon d;
    char err[4096], want[256];
    int st;

    CU_ASSERT_EQUAL(t_start(&d, g_d.ns, NULL), -1);
    st = t_wait_exit(&d, 5000);
    CU_ASSERT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
    t_read_all(d.err_fd, err, sizeof(err));
    snprintf(want, sizeof(want), "another shmetricsd (pid %d) already serves namespace %s",
             (int)g_d.pid, g_d.ns);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    d.pid = 0;
    t_stop(&d);
}

static void test_shmetricsd_io_uring_refused(void)
{
    const char *args[] = {"--ns", g_d.ns, "--listen", "127.0.0.1:0", NULL};
    struct t_daemon d;
    char err[4096];
    int st;

    CU_ASSERT_EQUAL_FATAL(t_spawn(&d, args, true), 0);
    st = t_wait_exit(&d, 5000);
    CU_ASSERT_FATAL(st >= 0 && WIFEXITED(st));
    if (WEXITSTATUS(st) != 77) { /* 77: no seccomp here */
        CU_ASSERT_EQUAL(WEXITSTATUS(st), 1);
        t_read_all(d.err_fd, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "io_uring"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "seccomp"));
    }
    d.pid = 0;
    t_stop(&d);
}

/* Run shmetricsd with args; its exit status, and its stdout/stderr. */
static int run_cli(const char *const *args, char *out, char *err, size_t len)
{
    struct t_daemon d;
    int st;

    CU_ASSERT_EQUAL_FATAL(t_spawn(&d, args, false), 0);
    st = t_wait_exit(&d, 5000);
    t_read_all(d.out_fd, out, len);
    t_read_all(d.err_fd, err, len);
    d.pid = 0;
    t_stop(&d);
    return (st >= 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static void test_shmetricsd_command_line(void)
{
    static const char *const bad[][3] = {
        {"--nope", NULL},
        {"--slots", "0"},
        {"--slots", "3x"},
        {"--ring-records", "1000"},
        {"--listen", "127.0.0.1"},
        {"--listen", "::1:80"},
        {"--ns", "a/b"},
        {"--const-label", "__x=1"},
        {"--const-label", "le=1"},
        {"--const-label", "novalue"},
        {"--const-label", "a=\xff"},
        {"--drain-interval-ms", "0"},
        {"--max-connections", ""},
        {"--head-timeout-ms", "99"},
        {"--idle-timeout-ms", "3600001"},
        {"stray", NULL},
        {"--ns", NULL},
    };
    const char *help[] = {"--help", NULL}, *version[] = {"--version", NULL};
    static char out[16384], err[16384];

    CU_ASSERT_EQUAL(run_cli(help, out, err, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Usage: shmetricsd [OPTION]..."));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--max-series-per-family N"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--head-timeout-ms N"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--idle-timeout-ms N"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Exit status:"));
    CU_ASSERT_EQUAL(run_cli(version, out, err, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, SHMET_VERSION));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(run_cli(bad[i], out, err, sizeof(out)), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "Try 'shmetricsd --help'"));
    }
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_shmetricsd_healthz", test_shmetricsd_healthz},
        {"test_shmetricsd_index", test_shmetricsd_index},
        {"test_shmetricsd_metrics_text", test_shmetricsd_metrics_text},
        {"test_shmetricsd_metrics_openmetrics", test_shmetricsd_metrics_openmetrics},
        {"test_shmetricsd_metrics_gzip", test_shmetricsd_metrics_gzip},
        {"test_shmetricsd_debug_json", test_shmetricsd_debug_json},
        {"test_shmetricsd_head_has_no_body", test_shmetricsd_head_has_no_body},
        {"test_shmetricsd_error_statuses", test_shmetricsd_error_statuses},
        {"test_shmetricsd_keep_alive", test_shmetricsd_keep_alive},
        {"test_shmetricsd_pipelining", test_shmetricsd_pipelining},
        {"test_shmetricsd_sample_visible_in_next_scrape",
         test_shmetricsd_sample_visible_in_next_scrape},
        {"test_shmetricsd_timer_drains_without_scrape",
         test_shmetricsd_timer_drains_without_scrape},
        {"test_shmetricsd_producer_death_noticed", test_shmetricsd_producer_death_noticed},
        {"test_shmetricsd_stalled_clients_do_not_block",
         test_shmetricsd_stalled_clients_do_not_block},
        {"test_shmetricsd_max_connections_503", test_shmetricsd_max_connections_503},
        {"test_shmetricsd_sigterm_exits_zero", test_shmetricsd_sigterm_exits_zero},
        {"test_shmetricsd_second_instance_refused", test_shmetricsd_second_instance_refused},
        {"test_shmetricsd_io_uring_refused", test_shmetricsd_io_uring_refused},
        {"test_shmetricsd_command_line", test_shmetricsd_command_line},
    };
    const char *extra[] = {"--slots", "8", "--const-label", "host=t", NULL};
    char ns[64];
    int rc, st;

    signal(SIGPIPE, SIG_IGN);
    if (access(t_bin_path(), X_OK) != 0) {
        fprintf(stderr, "%s: not found; set SHMETRICS_BIN_DIR\n", t_bin_path());
        return 77;
    }
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "agg"), extra) != 0) {
        fprintf(stderr, "shmetricsd did not start\n");
        return 1;
    }
    rc = T_RUN("shmetricsd", tests);
    /* The shared daemon must stop cleanly too (under ASan: without leaks). */
    kill(g_d.pid, SIGTERM);
    if ((st = t_wait_exit(&g_d, 5000)) < 0) {
        kill(g_d.pid, SIGKILL);
        waitpid(g_d.pid, NULL, 0);
    }
    g_d.pid = 0;
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        static char err[65536];
        t_read_all(g_d.err_fd, err, sizeof(err));
        fprintf(stderr, "shmetricsd exited with status %#x:\n%s\n", st, err);
        rc = 1;
    }
    t_stop(&g_d);
    t_ns_cleanup(ns);
    return rc;
}
