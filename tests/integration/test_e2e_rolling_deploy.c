/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_rolling_deploy.c - a rolling deploy against a
 * real shmetricsd: an old and a new worker process (each its own client
 * after fork) define the same names differently, and both are served.
 *
 *   app_requests_total   counter, old [method], new [method, code] and a
 *                        new help; the new {method="GET",code=""} is the
 *                        old {method="GET"}
 *   app_latency_seconds  histogram, old buckets 0.25,1, new 0.5,1,5: the
 *                        label set both record keeps the old buckets (the
 *                        new samples counted into them, and counted as
 *                        mismatched), a new label set takes the new ones
 *   app_inflight         gauge, old SUM, new MAX: the series combines by
 *                        the mode it was made with
 *   app_jobs_total       counter (old) against a gauge (new): the gauge is
 *                        refused, every record of it counted and named
 *   app_arena_total      a third worker whose arena fills up, beyond a cap
 *                        of 12 series: both folds into __overflow__, each
 *                        counted by reason, the placeholder served
 *
 * Exact totals in /metrics and /debug; the exposition checked by the
 * Python Prometheus client's parsers (check_exposition.py, the OpenMetrics
 * one strict) and by promtool check metrics. Then SIGTERM (a checkpoint),
 * a new shmetricsd: every value continues, the definitions come back in
 * order (the newest help), and new samples of both definitions still land.
 * A missing tool is a failure, not a skip, as in test_e2e_exposition.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_gzip.h"
#include "t_util.h"

#define CONST_NAME "site"
#define CONST_VALUE "e2e"
#define CAP 12           /* --max-series-per-family */
#define ARENA_SERIES 200 /* series the arena worker records into, once each */
#define PY "/usr/bin/python3"

extern char **environ;

static struct t_daemon g_d;
static char g_ns[64];
static const char *const g_extra[] = {"--max-series-per-family", "12", "--arena-bytes", "4096",
                                      "--const-label", CONST_NAME "=" CONST_VALUE, NULL};

enum role { OLD, NEW, ARENA };

struct worker {
    pid_t pid;
    int cmd, rep; /* our ends: commands to it, answers from it */
};

/* ---- the workers ----------------------------------------------------------- */

struct old_set {
    struct shmet_series get, lat_a, jobs, inflight;
};

struct new_set {
    struct shmet_series get200, get_empty, post500, lat_a, lat_b, jobs, inflight;
};

static int old_define(struct shmet_client *c, struct old_set *s)
{
    static const double b[] = {0.25, 1};
    struct shmet_family *req, *lat, *jobs, *inf;
    const char *route[] = {"route", NULL};

    return shmet_counter(c, "app_requests_total", "Requests (old).",
                         (const char *[]){"method", NULL}, &req) ||
           shmet_histogram(c, "app_latency_seconds", "Latency.", route, b, 2, &lat) ||
           shmet_counter(c, "app_jobs_total", "Jobs.", NULL, &jobs) ||
           shmet_gauge(c, "app_inflight", "In flight.", NULL, SHMET_GAUGE_SUM, &inf) ||
           shmet_series_get(req, (const char *[]){"GET"}, &s->get) ||
           shmet_series_get(lat, (const char *[]){"/a"}, &s->lat_a) ||
           shmet_series_get(jobs, NULL, &s->jobs) || shmet_series_get(inf, NULL, &s->inflight);
}

static int new_define(struct shmet_client *c, struct new_set *s)
{
    static const double b[] = {0.5, 1, 5};
    struct shmet_family *req, *lat, *jobs, *inf;
    const char *route[] = {"route", NULL};

    return shmet_counter(c, "app_requests_total", "Requests (new).",
                         (const char *[]){"method", "code", NULL}, &req) ||
           shmet_histogram(c, "app_latency_seconds", "Latency.", route, b, 3, &lat) ||
           shmet_gauge(c, "app_jobs_total", "Jobs.", (const char *[]){"queue", NULL},
                       SHMET_GAUGE_SUM, &jobs) ||
           shmet_gauge(c, "app_inflight", "In flight.", NULL, SHMET_GAUGE_MAX, &inf) ||
           shmet_series_get(req, (const char *[]){"GET", "200"}, &s->get200) ||
           shmet_series_get(req, (const char *[]){"GET", ""}, &s->get_empty) ||
           shmet_series_get(req, (const char *[]){"POST", "500"}, &s->post500) ||
           shmet_series_get(lat, (const char *[]){"/a"}, &s->lat_a) ||
           shmet_series_get(lat, (const char *[]){"/b"}, &s->lat_b) ||
           shmet_series_get(jobs, (const char *[]){"q1"}, &s->jobs) ||
           shmet_series_get(inf, NULL, &s->inflight);
}

/* One round: every observation a dyadic fraction, so that sums are exact
 * whatever order the aggregator applies them in. */
static void old_round(const struct old_set *s)
{
    shmet_inc(s->get);
    shmet_observe(s->lat_a, 0.125);
    shmet_observe(s->lat_a, 3);
    shmet_inc(s->jobs);
    shmet_set(s->inflight, 3);
}

static void new_round(const struct new_set *s)
{
    shmet_inc(s->get200);
    shmet_inc(s->get_empty);
    shmet_add(s->post500, 2);
    shmet_observe(s->lat_a, 0.75);
    shmet_observe(s->lat_b, 3);
    shmet_set(s->jobs, 5);
    shmet_set(s->inflight, 4);
}

/* More series than the arena holds, and than the cap allows. */
static int arena_fill(struct shmet_client *c)
{
    struct shmet_family *f;
    struct shmet_series s;
    char v[16];
    const char *vals[] = {v, NULL};

    if (shmet_counter(c, "app_arena_total", "Arena.", (const char *[]){"k", NULL}, &f) != 0)
        return -1;
    for (int i = 0; i < ARENA_SERIES; i++) {
        snprintf(v, sizeof(v), "v%03d", i);
        if (shmet_series_get(f, vals, &s) != 0)
            return -1;
        shmet_inc(s);
    }
    return 0;
}

/* Define, answer 'k', then one round per 'r' (answered), exit on 'x' or EOF. */
static void worker_main(enum role role, int cmd, int rep)
{
    struct shmet_options o = {.ns = g_ns};
    struct shmet_client *c;
    struct old_set os;
    struct new_set ns;
    char b;

    if (shmet_open(&o, &c) != 0)
        _exit(1);
    if ((role == OLD && old_define(c, &os)) || (role == NEW && new_define(c, &ns)) ||
        (role == ARENA && arena_fill(c)))
        _exit(2);
    if (write(rep, "k", 1) != 1)
        _exit(3);
    while (read(cmd, &b, 1) == 1 && b == 'r') {
        if (role == OLD)
            old_round(&os);
        else if (role == NEW)
            new_round(&ns);
        if (write(rep, "k", 1) != 1)
            _exit(3);
    }
    shmet_close(c);
    _exit(0);
}

static void spawn(struct worker *w, enum role role)
{
    int cmd[2], rep[2];
    char b;

    CU_ASSERT_FATAL(pipe(cmd) == 0 && pipe(rep) == 0);
    fflush(NULL);
    w->pid = fork();
    CU_ASSERT_FATAL(w->pid >= 0);
    if (w->pid == 0) {
        close(cmd[1]);
        close(rep[0]);
        worker_main(role, cmd[0], rep[1]);
    }
    close(cmd[0]);
    close(rep[1]);
    w->cmd = cmd[1];
    w->rep = rep[0];
    CU_ASSERT_EQUAL_FATAL(read(w->rep, &b, 1), 1);
}

static void rounds(struct worker *w, int n)
{
    char b;

    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(write(w->cmd, "r", 1), 1);
        CU_ASSERT_EQUAL_FATAL(read(w->rep, &b, 1), 1);
    }
}

static void finish(struct worker *w)
{
    int st;

    CU_ASSERT_EQUAL(write(w->cmd, "x", 1), 1);
    close(w->cmd);
    close(w->rep);
    CU_ASSERT_EQUAL(waitpid(w->pid, &st, 0), w->pid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- what the daemon serves ------------------------------------------------ */

/* name{site="e2e"[,labels]} as the text format writes it. */
static const char *key(const char *name, const char *labels)
{
    static char k[512];

    snprintf(k, sizeof(k), "%s{" CONST_NAME "=\"" CONST_VALUE "\"%s%s}", name,
             labels[0] ? "," : "", labels);
    return k;
}

static double val(const struct t_samples *ss, const char *name, const char *labels)
{
    return t_samples_get(ss, key(name, labels));
}

/* What the old and new workers' rounds, and the arena worker, add up to;
 * the counts of refused and mismatched records, and of folds, are the
 * running daemon's own (its self-metrics start at 0). */
struct want {
    int r_old, r_new;     /* rounds recorded */
    double ovf_arena;     /* samples seen reaching __overflow__: arena full */
    double ovf_card;      /* ... and beyond the cap */
    double conflicts;     /* records of the refused gauge seen by this daemon */
    double mismatch_lat;  /* new /a observations seen by this daemon */
    double mismatch_inf;  /* new inflight sets seen by this daemon */
};

static void check_app(const struct t_samples *ss, const struct want *w)
{
    double o = w->r_old, n = w->r_new;

    CU_ASSERT_EQUAL(val(ss, "app_requests_total", "method=\"GET\""), o + n);
    CU_ASSERT_EQUAL(val(ss, "app_requests_total", "method=\"GET\",code=\"200\""), n);
    CU_ASSERT_EQUAL(val(ss, "app_requests_total", "method=\"POST\",code=\"500\""), 2 * n);
    CU_ASSERT_EQUAL(val(ss, "app_requests_total", "method=\"GET\",code=\"\""), -1);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/a\",le=\"0.25\""), o);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/a\",le=\"1\""), o + n);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/a\",le=\"+Inf\""), 2 * o + n);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/a\",le=\"0.5\""), -1);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_count", "route=\"/a\""), 2 * o + n);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_sum", "route=\"/a\""), o * 3.125 + n * 0.75);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/b\",le=\"0.5\""), 0);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/b\",le=\"1\""), 0);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/b\",le=\"5\""), n);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_bucket", "route=\"/b\",le=\"+Inf\""), n);
    CU_ASSERT_EQUAL(val(ss, "app_latency_seconds_sum", "route=\"/b\""), 3 * n);
    CU_ASSERT_EQUAL(val(ss, "app_jobs_total", ""), o);
    CU_ASSERT_EQUAL(val(ss, "app_inflight", ""), 7); /* SUM of 3 and 4 */
    for (int i = 0; i < ARENA_SERIES; i++) {
        char l[32];
        snprintf(l, sizeof(l), "k=\"v%03d\"", i);
        CU_ASSERT_EQUAL(val(ss, "app_arena_total", l), i < CAP ? 1 : -1);
    }
    CU_ASSERT_EQUAL(val(ss, "app_arena_total", "k=\"__overflow__\""), ARENA_SERIES - CAP);
}

static void check_self(const struct t_samples *ss, const struct want *w)
{
    const char *f_req = "family=\"app_requests_total\"", *f_arena = "family=\"app_arena_total\"";

    CU_ASSERT_EQUAL(val(ss, "shmetrics_invalid_records_total", "reason=\"family_conflict\""),
                    w->conflicts);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_invalid_records_total", "reason=\"reserved_value\""), 0);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_invalid_records_total", "reason=\"unknown_series\""), 0);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_family_conflicts_total",
                        "family=\"app_jobs_total\",type=\"gauge\""),
                    w->conflicts);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_family_definitions", f_req), 2);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_family_definitions", "family=\"app_latency_seconds\""), 2);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_family_definitions", "family=\"app_jobs_total\""), 1);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_definition_mismatch_samples_total",
                        "family=\"app_latency_seconds\""),
                    w->mismatch_lat);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_definition_mismatch_samples_total",
                        "family=\"app_inflight\""),
                    w->mismatch_inf);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_definition_mismatch_samples_total", f_req), 0);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_series", f_req), 3); /* the placeholder is none */
    CU_ASSERT_EQUAL(val(ss, "shmetrics_series", f_arena), CAP);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_overflow_samples_total",
                        "family=\"app_arena_total\",reason=\"arena\""),
                    w->ovf_arena);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_overflow_samples_total",
                        "family=\"app_arena_total\",reason=\"cardinality\""),
                    w->ovf_card);
    CU_ASSERT_EQUAL(val(ss, "shmetrics_overflow_samples_total",
                        "family=\"app_requests_total\",reason=\"arena\""),
                    0);
}

static json_t *family(json_t *root, const char *name)
{
    json_t *f;
    size_t i;

    json_array_foreach(json_object_get(root, "families"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    }
    return NULL;
}

static json_int_t jint(json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *jstr(json_t *o, const char *field)
{
    const char *s = json_string_value(json_object_get(o, field));
    return s ? s : "";
}

/* The labels of definition i of f, comma-joined. */
static const char *def_labels(json_t *f, size_t i)
{
    static char out[128];
    json_t *l, *labels = json_object_get(json_array_get(json_object_get(f, "definitions"), i),
                                        "labels");
    size_t k;

    out[0] = '\0';
    json_array_foreach(labels, k, l)
    {
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", k ? "," : "",
                 json_string_value(l));
    }
    return out;
}

static void check_debug(json_t *root, const struct want *w)
{
    json_t *req = family(root, "app_requests_total"), *lat = family(root, "app_latency_seconds");
    json_t *jobs = family(root, "app_jobs_total"), *arena = family(root, "app_arena_total");

    CU_ASSERT_PTR_NOT_NULL_FATAL(req);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lat);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jobs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(arena);
    CU_ASSERT_EQUAL(jint(json_object_get(root, "aggregator"), "invalid_records_total"),
                    (json_int_t)w->conflicts);
    CU_ASSERT_STRING_EQUAL(jstr(req, "help"), "Requests (new).");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(req, "definitions")), 2);
    CU_ASSERT_STRING_EQUAL(def_labels(req, 0), "method");
    CU_ASSERT_STRING_EQUAL(def_labels(req, 1), "method,code");
    CU_ASSERT_STRING_EQUAL(
        jstr(json_array_get(json_object_get(req, "definitions"), 0), "help"), "Requests (old).");
    CU_ASSERT_EQUAL(jint(req, "series_count"), 3);
    json_t *get =
        t_debug_series(root, "app_requests_total", (const char *[]){"method", "GET", NULL});
    CU_ASSERT_EQUAL(json_number_value(json_object_get(get, "value")), w->r_old + w->r_new);
    CU_ASSERT_EQUAL(jint(get, "definition"), 0);
    CU_ASSERT_EQUAL(jint(lat, "definition_mismatch_samples"), (json_int_t)w->mismatch_lat);
    json_t *a = t_debug_series(root, "app_latency_seconds", (const char *[]){"route", "/a", NULL});
    json_t *bk = json_object_get(a, "buckets");
    CU_ASSERT_EQUAL(json_array_size(bk), 3); /* 0.25, 1, +Inf: its own */
    CU_ASSERT_EQUAL(json_number_value(json_array_get(json_array_get(bk, 0), 0)), 0.25);
    CU_ASSERT_EQUAL(jint(a, "count"), 2 * w->r_old + w->r_new);
    json_t *c = json_array_get(json_object_get(jobs, "conflicts"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(jobs, "conflicts")), 1);
    CU_ASSERT_STRING_EQUAL(jstr(c, "type"), "gauge");
    CU_ASSERT_STRING_EQUAL(jstr(c, "labels"), "queue");
    CU_ASSERT_EQUAL(jint(c, "definitions_refused"), 1);
    CU_ASSERT_EQUAL(jint(c, "records_refused"), (json_int_t)w->conflicts - 1);
    json_t *ovf = json_object_get(arena, "overflow_samples");
    CU_ASSERT_EQUAL(jint(ovf, "arena"), (json_int_t)w->ovf_arena);
    CU_ASSERT_EQUAL(jint(ovf, "cardinality"), (json_int_t)w->ovf_card);
    CU_ASSERT_EQUAL(jint(arena, "series_count"), CAP);
    json_t *p =
        t_debug_series(root, "app_arena_total", (const char *[]){"k", "__overflow__", NULL});
    CU_ASSERT(json_is_true(json_object_get(p, "overflow")));
    CU_ASSERT_EQUAL(json_number_value(json_object_get(p, "value")), ARENA_SERIES - CAP);
}

/* The samples the arena worker's producer could not define: its slot's
 * arena_dropped, from /debug. */
static double arena_dropped(int port)
{
    json_t *root = t_debug(port), *p;
    json_int_t n = 0;
    size_t i;

    json_array_foreach(json_object_get(root, "producers"), i, p)
    {
        n += jint(p, "arena_dropped");
    }
    json_decref(root);
    return (double)n;
}

/* ---- the exposition, checked by the reference parsers and promtool --------- */

static json_t *counter(const char *name, const char *help)
{
    return json_pack("{s:s, s:s, s:s, s:[]}", "name", name, "type", "counter", "help", help,
                     "samples");
}

static void add(json_t *fam, json_t *sample)
{
    json_array_append_new(json_object_get(fam, "samples"), sample);
}

/* What check_exposition.py must find among the app_ families. */
static json_t *expectation(const struct want *w)
{
    double o = w->r_old, n = w->r_new;
    json_t *req = counter("app_requests_total", "Requests (new).");
    json_t *jobs = counter("app_jobs_total", "Jobs.");
    json_t *arena = counter("app_arena_total", "Arena.");
    json_t *lat = json_pack("{s:s, s:s, s:s, s:[]}", "name", "app_latency_seconds", "type",
                            "histogram", "help", "Latency.", "samples");
    json_t *inf = json_pack("{s:s, s:s, s:s, s:[{s:{}, s:f}]}", "name", "app_inflight", "type",
                            "gauge", "help", "In flight.", "samples", "labels", "value", 7.0);

    add(req, json_pack("{s:{s:s}, s:f}", "labels", "method", "GET", "value", o + n));
    add(req,
        json_pack("{s:{s:s, s:s}, s:f}", "labels", "method", "GET", "code", "200", "value", n));
    add(req, json_pack("{s:{s:s, s:s}, s:f}", "labels", "method", "POST", "code", "500", "value",
                       2 * n));
    add(jobs, json_pack("{s:{}, s:f}", "labels", "value", o));
    add(lat, json_pack("{s:{s:s}, s:[[f,f],[f,f],[s,f]], s:f, s:f}", "labels", "route", "/a",
                       "buckets", 0.25, o, 1.0, o + n, "+Inf", 2 * o + n, "count", 2 * o + n,
                       "sum", o * 3.125 + n * 0.75));
    add(lat, json_pack("{s:{s:s}, s:[[f,f],[f,f],[f,f],[s,f]], s:f, s:f}", "labels", "route", "/b",
                       "buckets", 0.5, 0.0, 1.0, 0.0, 5.0, n, "+Inf", n, "count", n, "sum",
                       3 * n));
    for (int i = 0; i < CAP; i++) {
        char v[16];
        snprintf(v, sizeof(v), "v%03d", i);
        add(arena, json_pack("{s:{s:s}, s:f}", "labels", "k", v, "value", 1.0));
    }
    add(arena, json_pack("{s:{s:s}, s:f}", "labels", "k", "__overflow__", "value",
                         (double)(ARENA_SERIES - CAP)));
    return json_pack("[o, o, o, o, o]", req, jobs, arena, lat, inf);
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* GET /metrics with the headers given; body (decoded with gunzip when
 * unzip) into DIR/name.txt, head into DIR/name.hdr. */
static void fetch(const char *dir, const char *name, const char *headers, bool unzip)
{
    char req[1024], file[64];
    struct t_resp r;
    size_t len = 0;

    snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n",
             headers);
    CU_ASSERT_EQUAL_FATAL(t_roundtrip(g_d.port, req, &r, false), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    snprintf(file, sizeof(file), "%s.hdr", name);
    put_file(dir, file, r.head, strlen(r.head));
    snprintf(file, sizeof(file), "%s%s", name, strcmp(name, "raw") == 0 ? ".gz" : ".txt");
    if (unzip) {
        char *plain = t_gunzip(r.body, r.body_len, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
        put_file(dir, file, plain, len);
        free(plain);
    } else {
        put_file(dir, file, r.body, r.body_len);
    }
    t_resp_free(&r);
}

/* Run argv (PATH searched), stdin from in (or /dev/null); its wait status. */
static int run_tool(const char *const *argv, const char *in)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = -1;

    fflush(NULL);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static void check_exposition(const struct want *w)
{
    static const char *const accept_om =
        "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";
    const char *checker = getenv("CHECK_EXPOSITION");
    char dir[] = "/tmp/shmet_rolling_XXXXXX", om_gz[512], text_path[600];

    CU_ASSERT_PTR_NOT_NULL_FATAL(checker);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    json_t *want = expectation(w);
    char *expect = json_dumps(want, JSON_REAL_PRECISION(17));
    json_decref(want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(expect);
    put_file(dir, "expect.json", expect, strlen(expect));
    free(expect);
    snprintf(om_gz, sizeof(om_gz), "%sAccept-Encoding: gzip\r\n", accept_om);
    fetch(dir, "text", "", false);
    fetch(dir, "om", accept_om, false);
    fetch(dir, "text_gz", "Accept-Encoding: gzip\r\n", true);
    fetch(dir, "om_gz", om_gz, true);
    fetch(dir, "raw", "Accept-Encoding: gzip\r\n", false);
    int st = run_tool((const char *const[]){PY, checker, dir, CONST_NAME, CONST_VALUE, NULL}, NULL);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(text_path, sizeof(text_path), "%s/text.txt", dir);
    st = run_tool((const char *const[]){"promtool", "check", "metrics", NULL}, text_path);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        fprintf(stderr, "promtool check metrics: wait status %d (text in %s)\n", st, dir);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The files stay for a look when anything failed. */
    const char *names[] = {"expect.json", "text.txt", "text.hdr", "om.txt", "om.hdr",
                           "text_gz.txt", "text_gz.hdr", "om_gz.txt", "om_gz.hdr", "raw.gz",
                           "raw.hdr"};
    for (size_t i = 0; CU_get_number_of_failures() == 0 && i < sizeof(names) / sizeof(*names);
         i++) {
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    if (CU_get_number_of_failures() == 0)
        rmdir(dir);
    else
        fprintf(stderr, "exposition files kept in %s\n", dir);
}

/* ---- the test ---------------------------------------------------------------- */

static void check_all(struct want *w)
{
    struct t_samples ss;

    CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &ss), 0);
    check_app(&ss, w);
    check_self(&ss, w);
    t_samples_free(&ss);
    json_t *root = t_debug(g_d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    check_debug(root, w);
    json_decref(root);
    check_exposition(w);
}

static void test_e2e_rolling_deploy_then_restart(void)
{
    struct worker old, neu, arena;
    struct want w = {0};
    char err[16384];

    spawn(&old, OLD);
    rounds(&old, 10);
    /* the scrape drains: the old definitions are the first ones */
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, key("app_requests_total", "method=\"GET\"")), 10);
    spawn(&neu, NEW);
    rounds(&neu, 10);
    spawn(&arena, ARENA);
    w = (struct want){.r_old = 10, .r_new = 10, .ovf_arena = arena_dropped(g_d.port)};
    CU_ASSERT(w.ovf_arena > 0 && w.ovf_arena < ARENA_SERIES - CAP);
    w.ovf_card = ARENA_SERIES - CAP - w.ovf_arena; /* the rest of the 188 folded */
    /* family, its __overflow__ and q1 series, ten sets */
    w.conflicts = 1 + 2 + 10;
    w.mismatch_lat = w.mismatch_inf = 10;
    check_all(&w);
    finish(&arena);

    /* A graceful stop writes the checkpoint; the refusal was told once. */
    int st = t_stop_stderr(&g_d, err, sizeof(err));
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "family app_jobs_total defined as gauge [queue]: refused, "
                                       "it is already counter []"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "family app_requests_total: new definition counter "
                                       "[method,code]"));
    CU_ASSERT_EQUAL_FATAL(t_start(&g_d, g_ns, g_extra), 0);

    /* Everything continues. The new daemon reads the arenas from the
     * start: the gauge is refused again (definition and series), its
     * samples were consumed by the one before. */
    w.conflicts = 3;
    w.mismatch_lat = w.mismatch_inf = 0;
    w.ovf_arena = w.ovf_card = 0; /* the placeholder keeps its 188; the counts are this daemon's */
    check_all(&w);

    /* New samples of both definitions still land. */
    rounds(&old, 5);
    rounds(&neu, 5);
    w.r_old = w.r_new = 15;
    w.conflicts = 3 + 5;
    w.mismatch_lat = w.mismatch_inf = 5;
    check_all(&w);
    finish(&old);
    finish(&neu);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_e2e_rolling_deploy_then_restart", test_e2e_rolling_deploy_then_restart},
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(g_ns, sizeof(g_ns), "e2erd"), g_extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("e2e_rolling_deploy", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(g_ns);
    return rc;
}
