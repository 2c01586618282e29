/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_e2e.h - helpers for the end-to-end suites, on top of
 * t_daemon.h (which starts shmetricsd and speaks HTTP): scrape /metrics
 * and parse the text format into "name{labels}" -> value samples, fetch
 * /debug as JSON and find a series in it, count a segment's free slots,
 * and poll with a deadline instead of sleeping fixed times.
 */
#ifndef SHMETRICS_TESTS_T_E2E_H
#define SHMETRICS_TESTS_T_E2E_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "t_daemon.h"

/* Generous: a slow or loaded machine (or a daemon under valgrind, see
 * t_scale()) must not fail a test. */
#define T_DEADLINE_MS (10000 * t_scale())

/* 1 in a sanitizer build (gcc defines __SANITIZE_*__, clang answers
 * __has_feature), where suites that fork thousands of processes may scale
 * their counts down, saying so. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define T_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define T_SANITIZED 1
#endif
#endif
#ifndef T_SANITIZED
#define T_SANITIZED 0
#endif

/* One sample line of the text format: key is everything before the last
 * space ("name{a=\"x\"}" exactly as rendered), v the value. */
struct t_sample {
    char *key;
    double v;
};

struct t_samples {
    struct t_sample *s;
    size_t n, cap;
};

/* Parse a text-format body (comments skipped). 0, or -1 on a malformed
 * sample line. */
int t_samples_parse(const char *body, struct t_samples *out);
void t_samples_free(struct t_samples *ss);
/* The value of key; false when there is no such sample. */
bool t_samples_find(const struct t_samples *ss, const char *key, double *v);
/* The value of key, or -1 when absent (for exact comparisons of values
 * that are never negative). */
double t_samples_get(const struct t_samples *ss, const char *key);

/* GET path on connection c (keep-alive); 0 and r filled when the status is
 * 200, else -1. */
int t_get(struct t_http *c, const char *path, struct t_resp *r);
/* GET /metrics (text 0.0.4) on a new connection and parse it. 0 or -1. */
int t_scrape(int port, struct t_samples *out);
/* The value of one sample in a new scrape; -1 when absent, -2 when the
 * scrape failed. */
double t_scrape_value(int port, const char *key);
/* Scrape until key has the value want (T_DEADLINE_MS at most); the last
 * value seen (-1 absent, -2 scrape failed). */
double t_wait_value(int port, const char *key, double want);
/* GET /debug and parse it; NULL on failure. json_decref() the result. */
json_t *t_debug(int port);
/* The series of family name in a /debug document whose labels are exactly
 * the NULL-terminated name, value pairs in kv (NULL: no labels). */
json_t *t_debug_series(json_t *root, const char *name, const char *const *kv);

/* Slots of namespace ns in state FREE, or -1 when it cannot be read. */
int t_free_slots(const char *ns);
/* The same in a segment already mapped (shm.h). */
struct shmet__seg;
int t_free_slots_of(const struct shmet__seg *seg);
/* Wait up to T_DEADLINE_MS until all n slots of ns are free; true if so,
 * else false after describing the other slots on stderr. */
bool t_wait_all_free(const char *ns, int n);

/* A number of /debug's "aggregator" object (samples_total, dropped_total,
 * invalid_records_total, series, ...); -1 when absent or on failure. */
double t_debug_aggregator(int port, const char *field);

/* The value in kB of a field of /proc/<pid>/status ("VmRSS", "RssAnon"),
 * or -1. */
long t_proc_status_kb(pid_t pid, const char *field);

/* Spawn a program from $SHMETRICS_BIN_DIR with args (NULL-terminated,
 * argv[0] included) and capture its stdout into a malloc'd string; the
 * wait status in *status. NULL on failure. */
char *t_run_capture(const char *const *argv, int *status);

#endif /* SHMETRICS_TESTS_T_E2E_H */
