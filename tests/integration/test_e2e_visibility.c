/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_visibility.c - a scrape sees a sample
 * recorded just before it, with no waiting: 200 rounds in which a forked
 * worker records (counter, SUM gauge, histogram) and tells this process,
 * which at once scrapes /metrics on a keep-alive connection and must see
 * the exact running totals; then the same in one process, recording and
 * scraping from the same thread.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_util.h"

#define NROUNDS 200

static struct t_daemon g_d;

struct rec {
    struct shmet_client *c;
    struct shmet_series hits, level, size;
};

static int rec_open(struct rec *r, const char *prefix)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_family *fh, *fl, *fs;
    const char *labels[] = {"who", NULL}, *values[] = {prefix, NULL};
    static const double bounds[] = {100};

    if (shmet_open(&o, &r->c) != 0 ||
        shmet_counter(r->c, "it_hits_total", "Hits.", labels, &fh) != 0 ||
        shmet_gauge(r->c, "it_level", "Level.", labels, SHMET_GAUGE_SUM, &fl) != 0 ||
        shmet_histogram(r->c, "it_size", "Size.", labels, bounds, 1, &fs) != 0 ||
        shmet_series_get(fh, values, &r->hits) != 0 ||
        shmet_series_get(fl, values, &r->level) != 0 || shmet_series_get(fs, values, &r->size) != 0)
        return -1;
    return 0;
}

/* Round k: hits += k, level = k, one observation of k. */
static void rec_round(struct rec *r, int k)
{
    shmet_add(r->hits, k);
    shmet_set(r->level, k);
    shmet_observe(r->size, k);
}

/* The scrape after round k shows the running totals of rounds 1..k. */
static int check_round(struct t_http *c, const char *who, int k)
{
    char key[128];
    struct t_resp r;
    struct t_samples ss;
    int bad = 0;
    double tri = (double)k * (k + 1) / 2;

    if (t_get(c, "/metrics", &r) < 0)
        return 1;
    if (t_samples_parse(r.body, &ss) < 0) {
        t_resp_free(&r);
        return 1;
    }
    t_resp_free(&r);
    snprintf(key, sizeof(key), "it_hits_total{who=\"%s\"}", who);
    bad += t_samples_get(&ss, key) != tri;
    snprintf(key, sizeof(key), "it_level{who=\"%s\"}", who);
    bad += t_samples_get(&ss, key) != k;
    snprintf(key, sizeof(key), "it_size_count{who=\"%s\"}", who);
    bad += t_samples_get(&ss, key) != k;
    snprintf(key, sizeof(key), "it_size_sum{who=\"%s\"}", who);
    bad += t_samples_get(&ss, key) != tri;
    snprintf(key, sizeof(key), "it_size_bucket{who=\"%s\",le=\"100\"}", who);
    bad += t_samples_get(&ss, key) != (k < 100 ? k : 100);
    t_samples_free(&ss);
    if (bad)
        fprintf(stderr, "%s: round %d not visible\n", who, k);
    return bad;
}

static void test_e2e_scrape_sees_other_process_sample(void)
{
    int go[2], done[2], st, bad = 0;
    struct t_http c;
    pid_t pid;
    char b;

    CU_ASSERT_FATAL(pipe(go) == 0 && pipe(done) == 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct rec r;
        close(go[1]); /* EOF on go if this process dies early */
        close(done[0]);
        if (rec_open(&r, "worker") != 0)
            _exit(1);
        for (int k = 1; k <= NROUNDS; k++) {
            rec_round(&r, k);
            if (write(done[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
                _exit(2);
        }
        _exit(0);
    }
    close(go[0]);
    close(done[1]); /* EOF on done if the worker fails */
    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    for (int k = 1; k <= NROUNDS; k++) {
        CU_ASSERT_EQUAL_FATAL(read(done[0], &b, 1), 1);
        bad += check_round(&c, "worker", k); /* no sleep, no retry */
        CU_ASSERT_EQUAL_FATAL(write(go[1], "g", 1), 1);
    }
    CU_ASSERT_EQUAL(bad, 0);
    t_http_close(&c);
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(go[1]);
    close(done[0]);
}

static void test_e2e_scrape_sees_own_sample(void)
{
    struct rec r;
    struct t_http c;
    int bad = 0;

    CU_ASSERT_EQUAL_FATAL(rec_open(&r, "self"), 0);
    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    for (int k = 1; k <= NROUNDS; k++) {
        rec_round(&r, k);
        bad += check_round(&c, "self", k);
    }
    CU_ASSERT_EQUAL(bad, 0);
    t_http_close(&c);
    shmet_close(r.c);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_e2e_scrape_sees_other_process_sample", test_e2e_scrape_sees_other_process_sample},
        {"test_e2e_scrape_sees_own_sample", test_e2e_scrape_sees_own_sample},
    };
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "e2ev"), NULL) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("e2e_visibility", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
