/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/test_shmtool_info.c - shmtool info, series, watch and check
 * against segments written by the real client (tools/shmtool/info.c,
 * series.c, watch.c, check.c): exact sample, drop and ring counts, owner
 * identity, definitions with hostile label values shown exactly (JSON)
 * and escaped (text), the refresh loop and its clean stop on signals, a
 * stale slot reported as a warning only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_consumer.h"
#include "t_shmtool.h"
#include "t_util.h"

#define RING 1024u
#define EVIL_VALUE "a\"b\\c\nd"           /* quote, backslash, newline */
#define EVIL_TEXT "a\\\"b\\\\c\\nd"       /* the same, escaped in text output */
#define UTF8_VALUE "\xc3\xa9\xe2\x9c\x93" /* U+00E9 U+2713 */

static struct shmet_client *open_client(const char *ns)
{
    struct shmet_options opt = {.ns = ns, .slots = 4, .ring_records = RING, .arena_bytes = 65536};
    struct shmet_client *c = NULL;

    CU_ASSERT_EQUAL_FATAL(shmet_open(&opt, &c), 0);
    return c;
}

/* A counter "t_requests_total{method="GET"}" of client c. */
static struct shmet_series requests(struct shmet_client *c)
{
    static const char *const labels[] = {"method", NULL};
    static const char *const values[] = {"GET"};
    struct shmet_family *f;
    struct shmet_series s;

    CU_ASSERT_EQUAL_FATAL(shmet_counter(c, "t_requests_total", "Requests.", labels, &f), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, values, &s), 0);
    return s;
}

/* Bytes of an arena entry: header, fixed part, strings, padded to 8. */
static uint64_t entry_size(size_t fixed, const char *const *strs, size_t n)
{
    uint64_t size = sizeof(struct shmet_abi_def) + fixed;

    for (size_t i = 0; i < n; i++)
        size += 4 + strlen(strs[i]);
    return (size + 7) & ~(uint64_t)7;
}

static json_t *info_json(const char *ns)
{
    struct t_out o;
    json_t *j;

    CU_ASSERT_EQUAL(t_tool(&o, "info", "--ns", ns, "--json", NULL), 0);
    j = t_out_json(&o);
    t_out_free(&o);
    return j;
}

static json_int_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    CU_ASSERT_PTR_NOT_NULL(v);
    if (!json_is_integer(v))
        fprintf(stderr, "key %s is not an integer\n", key);
    return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "(missing)";
}

static void test_info_json_counts_samples(void)
{
    static const char *const fam_strs[] = {"t_requests_total", "Requests.", "method"};
    static const char *const ovf_strs[] = {SHMET_OVERFLOW_VALUE};
    static const char *const get_strs[] = {"GET"};
    struct shmet_client *c;
    struct shmet_series s;
    json_t *j, *seg, *slots, *sl;
    char ns[64];

    t_ns(ns, sizeof(ns), "tool_info");
    c = open_client(ns);
    s = requests(c);
    for (int i = 0; i < 500; i++)
        shmet_inc(s);
    j = info_json(ns);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    seg = json_object_get(j, "segment");
    CU_ASSERT_STRING_EQUAL(jstr(seg, "ns"), ns);
    CU_ASSERT_EQUAL(jint(seg, "slots"), 4);
    CU_ASSERT_EQUAL(jint(seg, "ring_records"), RING);
    CU_ASSERT_EQUAL(jint(seg, "arena_bytes"), 65536);
    char abi[16];
    snprintf(abi, sizeof(abi), "%u.%u", SHMET_ABI_MAJOR, SHMET_ABI_MINOR);
    CU_ASSERT_STRING_EQUAL(jstr(seg, "abi"), abi);
    /* No shmetricsd marks it: what shmet_aggregator_attached() says too. */
    CU_ASSERT(json_is_false(json_object_get(seg, "aggregator_attached")));
    CU_ASSERT_EQUAL(shmet_aggregator_attached(c), 0);
    slots = json_object_get(j, "slots");
    CU_ASSERT_EQUAL_FATAL(json_array_size(slots), 1);
    sl = json_array_get(slots, 0);
    CU_ASSERT_STRING_EQUAL(jstr(sl, "state"), "active");
    CU_ASSERT_EQUAL(jint(sl, "pid"), getpid());
    CU_ASSERT_EQUAL(jint(sl, "tid"), shmet__gettid());
    CU_ASSERT_EQUAL(jint(sl, "generation"), 1);
    CU_ASSERT_EQUAL(jint(sl, "samples_total"), 500);
    CU_ASSERT_EQUAL(jint(sl, "dropped_total"), 0);
    /* 500 samples and 3 DEFINE records (family, __overflow__, GET). */
    CU_ASSERT_EQUAL(jint(sl, "ring_used"), 503);
    CU_ASSERT_EQUAL(jint(sl, "ring_capacity"), RING);
    CU_ASSERT_EQUAL((uint64_t)jint(sl, "arena_used"),
                    entry_size(sizeof(struct shmet_abi_def_family), fam_strs, 3) +
                        entry_size(0, ovf_strs, 1) + entry_size(0, get_strs, 1));
    CU_ASSERT_EQUAL(jint(sl, "arena_dropped"), 0);
    CU_ASSERT(json_is_true(json_object_get(sl, "alive")));
    /* The client holds its slot lock (tag-slot-lock): judged by it. */
    CU_ASSERT_STRING_EQUAL(jstr(sl, "liveness"), "lock");
    CU_ASSERT(json_is_integer(json_object_get(sl, "slot")));
    json_decref(j);
    shmet_close(c);
    t_ns_cleanup(ns);
}

static void test_info_full_ring_then_dead(void)
{
    struct shmet_client *c;
    struct shmet_series s;
    json_t *j, *sl;
    struct t_out o;
    char ns[64], pid[32];

    t_ns(ns, sizeof(ns), "tool_infofull");
    c = open_client(ns);
    s = requests(c);
    for (int i = 0; i < 2000; i++)
        shmet_inc(s);
    j = info_json(ns);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    sl = json_array_get(json_object_get(j, "slots"), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sl);
    /* Nobody drains: the ring holds 3 DEFINE records and RING - 3 samples. */
    CU_ASSERT_EQUAL(jint(sl, "samples_total"), RING - 3);
    CU_ASSERT_EQUAL(jint(sl, "dropped_total"), 2000 - (RING - 3));
    CU_ASSERT_EQUAL(jint(sl, "ring_used"), RING);
    json_decref(j);

    CU_ASSERT_EQUAL(t_tool(&o, "info", "--ns", ns, NULL), 0);
    snprintf(pid, sizeof(pid), " %d ", (int)getpid());
    CU_ASSERT(t_has(o.out, "active"));
    CU_ASSERT(t_has(o.out, pid));
    CU_ASSERT(t_has(o.out, "1024/1024"));
    CU_ASSERT(t_has(o.out, "1 of 4 slots in use"));
    t_out_free(&o);

    shmet_close(c); /* retires the slot: DEAD until a consumer frees it */
    j = info_json(ns);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    sl = json_array_get(json_object_get(j, "slots"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(sl, "state"), "dead");
    CU_ASSERT_EQUAL(jint(sl, "samples_total"), RING - 3);
    json_decref(j);
    t_ns_cleanup(ns);
}

/* Families of three types; series with hostile label values. */
static void define_evil(struct shmet_client *c)
{
    static const char *const labels[] = {"path", "code", NULL};
    static const char *const evil[] = {EVIL_VALUE, UTF8_VALUE};
    static const char *const esc[] = {"\x1b[2J", "x"};
    static const double bounds[] = {0.1, 0.5, 1.0};
    struct shmet_family *f, *h, *g;
    struct shmet_series s;

    CU_ASSERT_EQUAL_FATAL(
        shmet_counter(c, "t_esc_total", "Help with \"quotes\", \\ and\nnewline.", labels, &f), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, evil, &s), 0);
    shmet_inc(s);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(f, esc, &s), 0);
    shmet_inc(s);
    CU_ASSERT_EQUAL_FATAL(shmet_histogram(c, "t_lat_seconds", "Latency.", NULL, bounds, 3, &h), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(h, NULL, &s), 0);
    shmet_observe(s, 0.2);
    CU_ASSERT_EQUAL_FATAL(shmet_gauge(c, "t_inflight", "In flight.", NULL, SHMET_GAUGE_MAX, &g), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(g, NULL, &s), 0);
    shmet_set(s, 3);
}

static json_t *find(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e)
    {
        const char *v = json_string_value(json_object_get(e, key));
        if (v != NULL && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

static void check_families(json_t *fams)
{
    json_t *f = find(fams, "name", "t_esc_total"), *b;

    CU_ASSERT_EQUAL(json_array_size(fams), 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(jstr(f, "type"), "counter");
    CU_ASSERT_STRING_EQUAL(jstr(f, "help"), "Help with \"quotes\", \\ and\nnewline.");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "labels")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(f, "labels"), 1)),
                           "code");
    f = find(fams, "name", "t_lat_seconds");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(jstr(f, "type"), "histogram");
    b = json_object_get(f, "buckets");
    CU_ASSERT_EQUAL_FATAL(json_array_size(b), 3);
    CU_ASSERT_EQUAL(json_real_value(json_array_get(b, 0)), 0.1);
    CU_ASSERT_EQUAL(json_real_value(json_array_get(b, 2)), 1.0);
    f = find(fams, "name", "t_inflight");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(jstr(f, "type"), "gauge");
    CU_ASSERT_STRING_EQUAL(jstr(f, "gauge_mode"), "max");
}

static bool is_evil(json_t *s)
{
    json_t *l = json_object_get(s, "labels");
    const char *p = json_string_value(json_object_get(l, "path"));
    const char *c = json_string_value(json_object_get(l, "code"));

    return p && c && strcmp(p, EVIL_VALUE) == 0 && strcmp(c, UTF8_VALUE) == 0;
}

static void check_series(json_t *sers)
{
    size_t i, evil = 0, overflow = 0;
    json_t *s;

    json_array_foreach(sers, i, s)
    {
        json_t *v = json_object_get(s, "values");
        if (strcmp(jstr(s, "family_name"), "t_esc_total") != 0)
            continue;
        if (is_evil(s)) {
            evil++;
            CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(v, 0)), EVIL_VALUE);
        }
        overflow += strcmp(json_string_value(json_array_get(v, 0)), SHMET_OVERFLOW_VALUE) == 0;
    }
    CU_ASSERT_EQUAL(evil, 1);
    CU_ASSERT_EQUAL(overflow, 1);
    /* 3 for t_esc_total (__overflow__ + 2); a family without labels has
     * one series, which is also its overflow series: 1 each. */
    CU_ASSERT_EQUAL(json_array_size(sers), 5);
}

static void test_series_json_exact_values(void)
{
    struct shmet_client *c;
    json_t *j, *sl, *ours;
    struct t_out o;
    char ns[64], slot[16], other[16];

    t_ns(ns, sizeof(ns), "tool_series");
    c = open_client(ns);
    define_evil(c);
    CU_ASSERT_EQUAL(t_tool(&o, "series", "--ns", ns, "--json", NULL), 0);
    j = t_out_json(&o);
    t_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL_FATAL(json_array_size(json_object_get(j, "slots")), 1);
    sl = json_array_get(json_object_get(j, "slots"), 0);
    CU_ASSERT_EQUAL(jint(sl, "pid"), getpid());
    CU_ASSERT_EQUAL(json_array_size(json_object_get(sl, "invalid")), 0);
    check_families(json_object_get(sl, "families"));
    check_series(json_object_get(sl, "series"));

    /* --slot: ours lists the same; another (free) one lists nothing. */
    snprintf(slot, sizeof(slot), "%lld", (long long)jint(sl, "slot"));
    snprintf(other, sizeof(other), "%lld", (long long)((jint(sl, "slot") + 1) % 4));
    json_decref(j);
    CU_ASSERT_EQUAL(t_tool(&o, "series", "--ns", ns, "--slot", slot, "--json", NULL), 0);
    j = t_out_json(&o);
    t_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    ours = json_array_get(json_object_get(j, "slots"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(ours, "series")), 5);
    json_decref(j);
    CU_ASSERT_EQUAL(t_tool(&o, "series", "--ns", ns, "--slot", other, "--json", NULL), 0);
    j = t_out_json(&o);
    t_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    ours = json_array_get(json_object_get(j, "slots"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(ours, "state"), "free");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(ours, "series")), 0);
    json_decref(j);
    shmet_close(c);
    t_ns_cleanup(ns);
}

static void test_series_text_escapes(void)
{
    struct shmet_client *c;
    struct t_out o;
    char ns[64];

    t_ns(ns, sizeof(ns), "tool_seriestext");
    c = open_client(ns);
    define_evil(c);
    CU_ASSERT_EQUAL(t_tool(&o, "series", "--ns", ns, NULL), 0);
    CU_ASSERT(t_has(o.out, "t_esc_total{path=\"" EVIL_TEXT "\",code=\"" UTF8_VALUE "\"}"));
    CU_ASSERT(t_has(o.out, "t_esc_total{path=\"\\x1b[2J\",code=\"x\"}"));
    CU_ASSERT(t_has(o.out, "help \"Help with \\\"quotes\\\", \\\\ and\\nnewline.\""));
    CU_ASSERT(t_has(o.out, "t_lat_seconds  labels: none  buckets: 0.1, 0.5, 1, +Inf"));
    CU_ASSERT(t_has(o.out, "t_inflight  labels: none  mode: max"));
    CU_ASSERT(strchr(o.out, '\x1b') == NULL); /* no raw escape reaches the terminal */
    t_out_free(&o);
    shmet_close(c);
    t_ns_cleanup(ns);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_watch_count(void)
{
    struct shmet_client *c;
    struct t_out o;
    char ns[64], pid[32];

    t_ns(ns, sizeof(ns), "tool_watch");
    c = open_client(ns);
    shmet_inc(requests(c));
    CU_ASSERT_EQUAL(t_tool(&o, "watch", "--ns", ns, "--count", "3", "--interval", "0.05", NULL), 0);
    CU_ASSERT_EQUAL(count(o.out, "SAMPLES/S"), 3);
    snprintf(pid, sizeof(pid), " %d ", (int)getpid());
    CU_ASSERT(t_has(o.out, pid));
    CU_ASSERT(t_has(o.out, "1 of 4 slots in use, 0.0 samples/s, 0.0 drops/s"));
    CU_ASSERT(strchr(o.out, '\x1b') == NULL); /* not a terminal: no clear screen */
    t_out_free(&o);
    shmet_close(c);
    t_ns_cleanup(ns);
}

/* Whether the file at path holds needle yet. */
static bool file_has(const char *path, const char *needle)
{
    char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The signal goes once the first frame is out (watch sets its handlers up
 * before drawing), however long the start took on a loaded machine. */
static void watch_until(int sig)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    const char *args[] = {"watch", "--ns", NULL, "--interval", "0.05", NULL};
    struct shmet_client *c;
    struct t_bg bg;
    struct t_out o;
    char ns[64];

    t_ns(ns, sizeof(ns), "tool_watchsig");
    args[2] = ns;
    c = open_client(ns);
    shmet_inc(requests(c));
    CU_ASSERT_EQUAL_FATAL(t_tool_start(&bg, args), 0);
    for (int i = 0; i < 3000 && !file_has(bg.out_path, "SAMPLES/S"); i++)
        nanosleep(&pause, NULL);
    kill(bg.pid, sig);
    CU_ASSERT_EQUAL(t_tool_wait(&bg, 5000, &o), 0);
    CU_ASSERT(t_has(o.out, "SAMPLES/S"));
    t_out_free(&o);
    shmet_close(c);
    t_ns_cleanup(ns);
}

static void test_watch_stops_on_sigterm(void)
{
    watch_until(SIGTERM);
}

static void test_watch_stops_on_sigint(void)
{
    watch_until(SIGINT);
}

/* A child records, then exits without retiring its slot: the slot stays
 * ACTIVE with a dead owner. check warns, but it is not corruption. */
static void test_check_clean_and_stale(void)
{
    struct shmet_client *c;
    struct shmet_series s;
    struct t_out o;
    json_t *j, *p;
    char ns[64], want[128];
    pid_t child;

    t_ns(ns, sizeof(ns), "tool_stale");
    c = open_client(ns);
    s = requests(c);
    shmet_inc(s);
    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", ns, NULL), 0);
    CU_ASSERT(t_has(o.out, ": ok, no problems in the header and 4 slots"));
    t_out_free(&o);
    child = fork();
    if (child == 0) {
        shmet_inc(s);
        _exit(0); /* no atexit handlers: the slot is not retired */
    }
    CU_ASSERT_EQUAL_FATAL(waitpid(child, NULL, 0), child);
    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", ns, NULL), 0);
    snprintf(want, sizeof(want), ": warning: stale: owner pid %d ", (int)child);
    CU_ASSERT(t_has(o.out, want));
    CU_ASSERT(t_has(o.out, "0 errors, 1 warning (no corruption)"));
    t_out_free(&o);
    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", ns, "--json", NULL), 0);
    j = t_out_json(&o);
    t_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT(json_is_true(json_object_get(j, "ok")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "problems")), 1);
    p = json_array_get(json_object_get(j, "problems"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(p, "severity"), "warning");
    CU_ASSERT(json_is_integer(json_object_get(p, "slot")));
    json_decref(j);
    shmet_close(c);
    t_ns_cleanup(ns);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Child: record as fast as possible for secs, defining new series now
 * and then (arena appends), then retire its slot. */
static void produce(struct shmet_client *c, double secs)
{
    static const char *const labels[] = {"v", NULL};
    struct shmet_family *f;
    struct shmet_series s;
    double end = now_s() + secs;
    char v[16];
    const char *vals[] = {v};

    if (shmet_counter(c, "t_live_total", "Live.", labels, &f) != 0)
        _exit(1);
    for (unsigned i = 0; now_s() < end; i++) {
        snprintf(v, sizeof(v), "v%u", (i / 64) % 300);
        if (shmet_series_get(f, vals, &s) != 0)
            _exit(1);
        for (int k = 0; k < 64; k++)
            shmet_inc(s);
    }
    shmet_close(c);
    _exit(0);
}

/* Child: drain every ring continuously for secs, as the aggregator does. */
static void consume(const char *ns, double secs)
{
    struct shmet__seg seg;
    struct t_consumer *tc;
    double end = now_s() + secs;

    if (shmet__seg_open(ns, NULL, 0, 0, &seg) != 0)
        _exit(1);
    tc = t_consumer_new(&seg);
    while (now_s() < end)
        t_consumer_drain(tc);
    _exit(0);
}

/* check reads a segment that a producer and a consumer keep changing:
 * every snapshot must pass (no false corruption from a moving slot). */
static void test_check_live_segment_no_false_alarm(void)
{
    struct shmet_client *c;
    pid_t prod, cons;
    struct t_out o;
    int st = 0, checks = 0;
    char ns[64];

    t_ns(ns, sizeof(ns), "tool_live");
    c = open_client(ns);
    prod = fork();
    if (prod == 0)
        produce(c, 1.5);
    cons = fork();
    if (cons == 0)
        consume(ns, 1.5);
    while (waitpid(prod, &st, WNOHANG) == 0) {
        CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", ns, NULL), 0);
        CU_ASSERT_STRING_EQUAL(o.err, "");
        if (o.status != 0)
            fprintf(stderr, "%s", o.out);
        t_out_free(&o);
        checks++;
    }
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT(checks >= 3);
    CU_ASSERT_EQUAL(waitpid(cons, &st, 0), cons);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    shmet_close(c);
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_info_json_counts_samples", test_info_json_counts_samples},
        {"test_info_full_ring_then_dead", test_info_full_ring_then_dead},
        {"test_series_json_exact_values", test_series_json_exact_values},
        {"test_series_text_escapes", test_series_text_escapes},
        {"test_watch_count", test_watch_count},
        {"test_watch_stops_on_sigterm", test_watch_stops_on_sigterm},
        {"test_watch_stops_on_sigint", test_watch_stops_on_sigint},
        {"test_check_clean_and_stale", test_check_clean_and_stale},
        {"test_check_live_segment_no_false_alarm", test_check_live_segment_no_false_alarm},
    };

    if (t_shmtool_path() == NULL) {
        fprintf(stderr, "SHMETRICS_BIN_DIR does not hold shmtool; skipped\n");
        return 77;
    }
    return T_RUN("shmtool_info", tests);
}
