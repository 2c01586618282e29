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

#include "t_daemon.h"

/* Generous: a slow or loaded machine (or a daemon under valgrind, see
 * t_scale()) must not fail a test. */
#define T_DEADLINE_MS (10000 * t_scale())

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
/* GET /debug and parse it; NULL on failure. json_decref() the result. */
json_t *t_debug(int port);
/* The series of family name in a /debug document whose labels are exactly
 * the NULL-terminated name, value pairs in kv (NULL: no labels). */
json_t *t_debug_series(json_t *root, const char *name, const char *const *kv);

/* Slots of namespace ns in state FREE, or -1 when it cannot be read. */
int t_free_slots(const char *ns);

/* Spawn a program from $SHMETRICS_BIN_DIR with args (NULL-terminated,
 * argv[0] included) and capture its stdout into a malloc'd string; the
 * wait status in *status. NULL on failure. */
char *t_run_capture(const char *const *argv, int *status);

#endif /* SHMETRICS_TESTS_T_E2E_H */
