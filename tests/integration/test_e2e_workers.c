/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_workers.c - the whole pipeline under a
 * pre-fork load: a real shmetricsd, 8 forked worker processes of 2 threads
 * each recording known amounts through the client library (families and
 * series made before fork) into labelled counters, a SUM gauge, a MAX gauge
 * and a histogram, while this process scrapes /metrics. Every scrape is a
 * consistent snapshot (counters never go back, +Inf bucket == _count). Half
 * way, with every producer parked, /metrics holds exactly the totals of a
 * single-threaded oracle that replays the same plan; at the end, after the
 * workers exit, /metrics and /debug hold exactly the full totals, and the
 * gauges have lost the contributions of the producers that left.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_util.h"

#define NWORKERS 8
#define NTHREADS 2
#define NPRODUCERS (NWORKERS * NTHREADS)
#define NITER 8000 /* 6 records an iteration: 48000 a thread fit its 65536-record ring */
#define NROUTES 3
#define NCODES 2
#define NBOUNDS 4

static const char *const routes[NROUTES] = {"/a", "/b", "/c"};
static const char *const codes[NCODES] = {"200", "500"};
static const double bounds[NBOUNDS] = {0.25, 0.5, 1, 2.5};
static const char *const les[NBOUNDS + 1] = {"0.25", "0.5", "1", "2.5", "+Inf"};

static struct t_daemon g_d;

/* Made before fork, used by every worker thread. */
static struct {
    struct shmet_client *c;
    struct shmet_series req[NROUTES][NCODES], bytes, lat[NROUTES], busy, peak;
} g_m;

/* What producer k records in iteration i. */
struct step {
    int route, code;
    double bytes, obs;
};

static struct step plan(int k, int i)
{
    return (struct step){.route = (i + k) % NROUTES,
                         .code = i % 7 == 0,
                         .bytes = (double)(i % 10),
                         .obs = ((i + k) % 8) * 0.5}; /* exact in binary: sums are exact */
}

/* The expected totals of iterations [0, limit) of every producer,
 * replayed single-threaded. */
struct oracle {
    double req[NROUTES][NCODES], bytes;
    struct {
        double count, sum, le[NBOUNDS + 1]; /* cumulative */
    } lat[NROUTES];
};

static void oracle_build(struct oracle *o, int limit)
{
    memset(o, 0, sizeof(*o));
    for (int k = 0; k < NPRODUCERS; k++) {
        for (int i = 0; i < limit; i++) {
            struct step s = plan(k, i);
            o->req[s.route][s.code] += 1;
            o->bytes += s.bytes;
            o->lat[s.route].count += 1;
            o->lat[s.route].sum += s.obs;
            for (int b = 0; b <= NBOUNDS; b++)
                o->lat[s.route].le[b] += b == NBOUNDS || s.obs <= bounds[b];
        }
    }
}

/* ---- the workers --------------------------------------------------------- */

static pthread_barrier_t g_barrier;

static void record(int k, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct step s = plan(k, i);
        shmet_inc(g_m.req[s.route][s.code]);
        shmet_add(g_m.bytes, s.bytes);
        shmet_observe(g_m.lat[s.route], s.obs);
        shmet_add(g_m.busy, 1);
        shmet_add(g_m.busy, -1);
        shmet_set(g_m.peak, i);
    }
}

/* Each barrier is passed together with the worker's main thread. */
static void *producer_main(void *arg)
{
    int k = (int)(intptr_t)arg;

    record(k, 0, NITER / 2);
    pthread_barrier_wait(&g_barrier); /* first half recorded */
    pthread_barrier_wait(&g_barrier); /* go on */
    record(k, NITER / 2, NITER);
    shmet_add(g_m.busy, k + 1); /* this producer's contribution: k + 1 */
    shmet_set(g_m.peak, 1000 + k);
    pthread_barrier_wait(&g_barrier); /* all recorded */
    pthread_barrier_wait(&g_barrier); /* released: exit, retiring the slot */
    return NULL;
}

/* Report c on fd, then wait for EOF on gate. */
static void report_and_wait(int fd, char c, int gate)
{
    char b;

    if (write(fd, &c, 1) != 1)
        _exit(3);
    while (read(gate, &b, 1) > 0)
        ;
}

/* Record half, report 'h' on report_fd and wait for EOF on go_fd; record
 * the rest, report 'd' and stay alive (gauges count) until EOF on
 * release_fd, then exit normally. */
static void worker_main(int w, int report_fd, int go_fd, int release_fd)
{
    pthread_t th[NTHREADS];

    pthread_barrier_init(&g_barrier, NULL, NTHREADS + 1);
    for (int t = 0; t < NTHREADS; t++)
        if (pthread_create(&th[t], NULL, producer_main, (void *)(intptr_t)(w * NTHREADS + t)))
            _exit(2);
    pthread_barrier_wait(&g_barrier);
    report_and_wait(report_fd, 'h', go_fd);
    pthread_barrier_wait(&g_barrier);
    pthread_barrier_wait(&g_barrier);
    report_and_wait(report_fd, 'd', release_fd);
    pthread_barrier_wait(&g_barrier);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    exit(0);
}

/* ---- checks on one scrape ------------------------------------------------ */

static const char *req_key(char *buf, size_t len, int r, int c)
{
    snprintf(buf, len, "it_requests_total{route=\"%s\",code=\"%s\"}", routes[r], codes[c]);
    return buf;
}

static const char *lat_key(char *buf, size_t len, int r, const char *suffix, int b)
{
    if (b < 0)
        snprintf(buf, len, "it_latency_seconds_%s{route=\"%s\"}", suffix, routes[r]);
    else
        snprintf(buf, len, "it_latency_seconds_bucket{route=\"%s\",le=\"%s\"}", routes[r], les[b]);
    return buf;
}

static bool is_monotonic_family(const char *key)
{
    return strncmp(key, "it_requests_total", 17) == 0 || strncmp(key, "it_bytes_total", 14) == 0 ||
           strncmp(key, "it_latency_seconds", 18) == 0;
}

/* Counters, buckets, sums and counts never go back, nor disappear. */
static int regressions(const struct t_samples *prev, const struct t_samples *cur)
{
    int bad = 0;

    for (size_t i = 0; i < prev->n; i++) {
        double v;
        if (!is_monotonic_family(prev->s[i].key))
            continue;
        if (!t_samples_find(cur, prev->s[i].key, &v) || v < prev->s[i].v) {
            fprintf(stderr, "%s went from %.17g to %.17g\n", prev->s[i].key, prev->s[i].v, v);
            bad++;
        }
    }
    return bad;
}

/* In one scrape each histogram is a snapshot: buckets cumulative and the
 * +Inf bucket equal to _count. */
static int inconsistencies(const struct t_samples *ss)
{
    char key[256];
    int bad = 0;

    for (int r = 0; r < NROUTES; r++) {
        double last = 0, v, count;
        if (!t_samples_find(ss, lat_key(key, sizeof(key), r, "count", -1), &count))
            continue; /* not recorded yet */
        for (int b = 0; b <= NBOUNDS; b++) {
            if (!t_samples_find(ss, lat_key(key, sizeof(key), r, NULL, b), &v) || v < last)
                bad++;
            last = v;
        }
        bad += last != count;
    }
    return bad;
}

static void check_totals(const struct t_samples *ss, const struct oracle *o)
{
    char key[256];

    for (int r = 0; r < NROUTES; r++) {
        for (int c = 0; c < NCODES; c++)
            CU_ASSERT_EQUAL(t_samples_get(ss, req_key(key, sizeof(key), r, c)), o->req[r][c]);
        CU_ASSERT_EQUAL(t_samples_get(ss, lat_key(key, sizeof(key), r, "count", -1)),
                        o->lat[r].count);
        CU_ASSERT_EQUAL(t_samples_get(ss, lat_key(key, sizeof(key), r, "sum", -1)), o->lat[r].sum);
        for (int b = 0; b <= NBOUNDS; b++)
            CU_ASSERT_EQUAL(t_samples_get(ss, lat_key(key, sizeof(key), r, NULL, b)),
                            o->lat[r].le[b]);
    }
    CU_ASSERT_EQUAL(t_samples_get(ss, "it_bytes_total"), o->bytes);
}

static double jnum(json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);

    return json_is_number(v) ? json_number_value(v) : -1;
}

static void check_debug_histogram(json_t *root, int r, const struct oracle *o)
{
    const char *kv[] = {"route", routes[r], NULL};
    json_t *s = t_debug_series(root, "it_latency_seconds", kv), *bk, *pair;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(jnum(s, "count"), o->lat[r].count);
    CU_ASSERT_EQUAL(jnum(s, "sum"), o->lat[r].sum);
    bk = json_object_get(s, "buckets");
    CU_ASSERT_EQUAL_FATAL(json_array_size(bk), NBOUNDS + 1);
    for (i = 0; (pair = json_array_get(bk, i)) != NULL; i++) {
        json_t *le = json_array_get(pair, 0);
        if (i < NBOUNDS) {
            CU_ASSERT_EQUAL(json_number_value(le), bounds[i]);
        } else {
            CU_ASSERT_STRING_EQUAL(json_string_value(le) ? json_string_value(le) : "", "+Inf");
        }
        CU_ASSERT_EQUAL(json_number_value(json_array_get(pair, 1)), o->lat[r].le[i]);
    }
}

static void check_debug(const struct oracle *o)
{
    json_t *root = t_debug(g_d.port), *agg;

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    for (int r = 0; r < NROUTES; r++) {
        for (int c = 0; c < NCODES; c++) {
            const char *kv[] = {"route", routes[r], "code", codes[c], NULL};
            CU_ASSERT_EQUAL(jnum(t_debug_series(root, "it_requests_total", kv), "value"),
                            o->req[r][c]);
        }
        check_debug_histogram(root, r, o);
    }
    CU_ASSERT_EQUAL(jnum(t_debug_series(root, "it_bytes_total", NULL), "value"), o->bytes);
    agg = json_object_get(root, "aggregator");
    CU_ASSERT_EQUAL(jnum(agg, "dropped_total"), 0);
    CU_ASSERT_EQUAL(jnum(agg, "invalid_records_total"), 0);
    json_decref(root);
}

/* ---- the test ------------------------------------------------------------ */

static int families_open(void)
{
    struct shmet_options opt = {.ns = g_d.ns};
    const char *rc_labels[] = {"route", "code", NULL}, *r_labels[] = {"route", NULL};
    struct shmet_family *req, *bytes, *lat, *busy, *peak;

    if (shmet_open(&opt, &g_m.c) != 0 ||
        shmet_counter(g_m.c, "it_requests_total", "Requests.", rc_labels, &req) != 0 ||
        shmet_counter(g_m.c, "it_bytes_total", "Bytes.", NULL, &bytes) != 0 ||
        shmet_histogram(g_m.c, "it_latency_seconds", "Latency.", r_labels, bounds, NBOUNDS, &lat) !=
            0 ||
        shmet_gauge(g_m.c, "it_busy", "Busy.", NULL, SHMET_GAUGE_SUM, &busy) != 0 ||
        shmet_gauge(g_m.c, "it_peak", "Peak.", NULL, SHMET_GAUGE_MAX, &peak) != 0 ||
        shmet_series_get(bytes, NULL, &g_m.bytes) != 0 ||
        shmet_series_get(busy, NULL, &g_m.busy) != 0 ||
        shmet_series_get(peak, NULL, &g_m.peak) != 0)
        return -1;
    for (int r = 0; r < NROUTES; r++) {
        const char *rv[] = {routes[r], NULL};
        if (shmet_series_get(lat, rv, &g_m.lat[r]) != 0)
            return -1;
        for (int c = 0; c < NCODES; c++) {
            const char *v[] = {routes[r], codes[c], NULL};
            if (shmet_series_get(req, v, &g_m.req[r][c]) != 0)
                return -1;
        }
    }
    return 0;
}

/* Scrape while the workers record, until each has reported once more on
 * report_fd (at least 3 scrapes). */
static void scrape_while_recording(int report_fd)
{
    struct t_samples prev = {0}, cur;
    uint64_t end = t_now_ms() + 60000;
    int nreports = 0, nscrapes = 0;
    char b[NWORKERS];
    ssize_t n;

    while (nreports < NWORKERS || nscrapes < 3) {
        CU_ASSERT_FATAL(t_now_ms() < end);
        CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &cur), 0);
        CU_ASSERT_EQUAL(regressions(&prev, &cur), 0);
        CU_ASSERT_EQUAL(inconsistencies(&cur), 0);
        t_samples_free(&prev);
        prev = cur;
        nscrapes++;
        while (nreports < NWORKERS && (n = read(report_fd, b, NWORKERS - nreports)) > 0)
            nreports += (int)n;
    }
    t_samples_free(&prev);
    printf("(%d scrapes) ", nscrapes);
}

static void check_scrape(const struct oracle *o, double busy, double peak)
{
    struct t_samples ss;

    CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &ss), 0);
    check_totals(&ss, o);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "it_busy"), busy);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "it_peak"), peak);
    t_samples_free(&ss);
}

/* The pipes between this process and the workers: each reports on report
 * and waits for EOF on go, then on release. */
struct gates {
    int report[2], go[2], release[2];
};

static int spawn_workers(pid_t *pids, struct gates *g)
{
    if (pipe(g->report) != 0 || pipe(g->go) != 0 || pipe(g->release) != 0)
        return -1;
    fflush(NULL); /* the children exit() and would flush copies */
    for (int w = 0; w < NWORKERS; w++) {
        if ((pids[w] = fork()) < 0)
            return -1;
        if (pids[w] == 0) {
            close(g->report[0]);
            close(g->go[1]);
            close(g->release[1]);
            worker_main(w, g->report[1], g->go[0], g->release[0]);
        }
    }
    close(g->report[1]);
    close(g->go[0]);
    close(g->release[0]);
    return fcntl(g->report[0], F_SETFL, O_NONBLOCK);
}

static void test_e2e_workers_exact_totals(void)
{
    static struct oracle half, full;
    struct gates g;
    pid_t pids[NWORKERS];
    uint64_t end;
    double busy = -1;
    json_t *root;
    int st;

    oracle_build(&half, NITER / 2);
    oracle_build(&full, NITER);
    CU_ASSERT_EQUAL_FATAL(families_open(), 0);
    CU_ASSERT_EQUAL_FATAL(spawn_workers(pids, &g), 0);

    /* Half way, every producer waits: exactly the first half is there. */
    scrape_while_recording(g.report[0]);
    check_scrape(&half, 0, NITER / 2 - 1);
    close(g.go[1]);

    /* All recorded, every producer alive: gauges count them all. */
    scrape_while_recording(g.report[0]);
    check_scrape(&full, NPRODUCERS * (NPRODUCERS + 1) / 2, 1000 + NPRODUCERS - 1);
    root = t_debug(g_d.port);
    CU_ASSERT_EQUAL(jnum(t_debug_series(root, "it_busy", NULL), "producers"), NPRODUCERS);
    json_decref(root);

    /* Release them; they exit normally. */
    close(g.release[1]);
    for (int w = 0; w < NWORKERS; w++) {
        CU_ASSERT_EQUAL(waitpid(pids[w], &st, 0), pids[w]);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    close(g.report[0]);

    /* Gone: their gauge contributions left with them, counters stayed. */
    end = t_now_ms() + T_DEADLINE_MS;
    while (t_now_ms() < end && (busy = t_scrape_value(g_d.port, "it_busy")) != 0)
        usleep(10 * 1000);
    CU_ASSERT_EQUAL(busy, 0);
    check_scrape(&full, 0, -1); /* MAX of no producer: absent */
    check_debug(&full);
    shmet_close(g_m.c);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_e2e_workers_exact_totals", test_e2e_workers_exact_totals},
    };
    const char *extra[] = {"--slots", "32", "--ring-records", "65536", NULL};
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "e2ew"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("e2e_workers", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
