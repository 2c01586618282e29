/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_big_scrape.c - expositions larger than the
 * body capacity a connection keeps (4 MiB): shmetricsd keeps one spare
 * buffer of that size between scrapes, swapped into plain replies and
 * used as gzip's input. Whatever the order of plain, gzip and OpenMetrics
 * scrapes on one or two connections, each body is complete and current:
 * the plain ones are byte-identical while nothing is recorded (apart from
 * shmetricsd's own shmetrics_* lines, which move with every scrape), the
 * gzip one inflates to the same text, and after more samples the next one
 * shows them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_gzip.h"
#include "t_util.h"

#define NSERIES 12000 /* histograms of 13 buckets: about 7.5 MiB of text */

static struct t_daemon g_d;
static struct shmet_client *g_c;
static struct shmet_series g_s[NSERIES];

static const char plain[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
static const char gzipped[] = "GET /metrics HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n";
static const char om[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n"
                         "Accept: application/openmetrics-text; version=1.0.0\r\n\r\n";

/* The body without shmetricsd's own lines, malloc'd. */
static char *own_lines_dropped(const char *body, size_t len)
{
    char *out = malloc(len + 1), *w = out;
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (memmem(p, n, "shmetrics_", 10) == NULL) {
            memcpy(w, p, n);
            w += n;
        }
        p += n;
    }
    *w = '\0';
    return out;
}

/* One request on c; the body (own lines dropped unless raw), malloc'd. */
static char *ask(struct t_http *c, const char *req, bool gz, size_t *raw_len)
{
    struct t_resp r;
    char *text;

    CU_ASSERT_FATAL(t_http_send(c, req, strlen(req)) == 0);
    CU_ASSERT_FATAL(t_http_read(c, &r, false) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    *raw_len = r.body_len;
    if (gz) {
        size_t n;
        char *big = t_gunzip(r.body, r.body_len, &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(big);
        CU_ASSERT(n > 0);
        *raw_len = n;
        text = own_lines_dropped(big, n);
        free(big);
    } else {
        text = own_lines_dropped(r.body, r.body_len);
    }
    t_resp_free(&r);
    return text;
}

static void record_all(double v)
{
    for (int i = 0; i < NSERIES; i++)
        shmet_observe(g_s[i], v + i);
}

static void test_big_scrape_buffers(void)
{
    struct t_http a, b;
    size_t n;

    CU_ASSERT_FATAL(t_http_open(&a, g_d.port, 0) == 0);
    CU_ASSERT_FATAL(t_http_open(&b, g_d.port, 0) == 0);
    record_all(0.5);
    char *p1 = ask(&a, plain, false, &n);
    CU_ASSERT(n > (4u << 20)); /* past what a connection keeps */
    char *g1 = ask(&a, gzipped, true, &n);
    char *p2 = ask(&a, plain, false, &n);
    char *o1 = ask(&a, om, false, &n);
    CU_ASSERT(n > (4u << 20) && strstr(o1, "# EOF\n") != NULL);
    char *p3 = ask(&b, plain, false, &n); /* the other connection */
    char *g2 = ask(&b, gzipped, true, &n);
    char *p4 = ask(&a, plain, false, &n);
    CU_ASSERT_STRING_EQUAL(g1, p1);
    CU_ASSERT_STRING_EQUAL(p2, p1);
    CU_ASSERT_STRING_EQUAL(p3, p1);
    CU_ASSERT_STRING_EQUAL(g2, p1);
    CU_ASSERT_STRING_EQUAL(p4, p1);
    CU_ASSERT(strstr(p1, "big_seconds_count{i=\"11999\"} 1\n") != NULL);
    CU_ASSERT(strstr(p1, "__overflow__") == NULL);

    record_all(1000); /* into the +Inf bucket: every series changes */
    char *g3 = ask(&b, gzipped, true, &n);
    char *p5 = ask(&a, plain, false, &n);
    CU_ASSERT_STRING_EQUAL(p5, g3);
    CU_ASSERT(strcmp(p5, p1) != 0);
    CU_ASSERT(strstr(p5, "big_seconds_count{i=\"11999\"} 2\n") != NULL);
    CU_ASSERT(strstr(p5, "big_seconds_bucket{i=\"0\",le=\"+Inf\"} 2\n") != NULL);
    CU_ASSERT(strstr(p5, "big_seconds_bucket{i=\"0\",le=\"10\"} 1\n") != NULL);

    char *all[] = {p1, g1, p2, o1, p3, g2, p4, g3, p5};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    t_http_close(&a);
    t_http_close(&b);
}

/* The producer: this process, NSERIES histogram series of one family. */
static int open_producer(const char *ns)
{
    static const double bounds[] = {0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10};
    const char *labels[] = {"i", NULL};
    struct shmet_options o = {.ns = ns};
    struct shmet_family *f;
    char v[16];

    if (shmet_open(&o, &g_c) != 0 ||
        shmet_histogram(g_c, "big_seconds", "Big.", labels, bounds, 13, &f) != 0)
        return -1;
    for (int i = 0; i < NSERIES; i++) {
        const char *values[] = {v, NULL};
        snprintf(v, sizeof(v), "%d", i);
        if (shmet_series_get(f, values, &g_s[i]) != 0)
            return -1;
    }
    return 0;
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_big_scrape_buffers", test_big_scrape_buffers},
    };
    /* Room for every definition and sample at once: nothing dropped. */
    static const char *const extra[] = {"--arena-bytes", "4194304", "--ring-records", "65536",
                                        "--max-series-per-family", "20000", NULL};
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "e2ebig"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    if (open_producer(ns) != 0) {
        fprintf(stderr, "test_e2e_big_scrape: could not make the series\n");
        rc = 1;
    } else {
        rc = T_RUN("e2e_big_scrape", tests);
    }
    shmet_close(g_c);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
