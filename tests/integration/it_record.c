/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/it_record.c - a producer for the exposition checks of
 * test_e2e_exposition.sh: records well-named metrics of every type (four
 * gauge modes, histograms with chosen and default buckets) with tricky
 * label values and help texts (quotes, backslashes, newlines, tabs, UTF-8,
 * the empty string), writes what it recorded as JSON to the --expect file,
 * prints "ready" and stays alive (its gauge contributions count) until it
 * is killed.
 *
 * Usage: it_record --ns NAME --expect FILE
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmetrics.h>

#define MAX_BOUNDS 16

/* The Prometheus default buckets, which bounds NULL, 0 give. */
static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static const char *const tricky[] = {
    "say \"hi\"",       "back\\slash",  "two\nlines",        "tab\there",
    "ünïcödé ✓ 日本語", "ends with \\", "{braces}, a=\"b\"", "",
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

static struct shmet_client *g_c;
static json_t *g_expect; /* array of families */

static void die(const char *what, int rc)
{
    fprintf(stderr, "it_record: %s: %s\n", what, shmet_strerror(rc));
    exit(1);
}

/* The expected family: {name, type, help, samples: []}. */
static json_t *expect_family(const char *name, const char *type, const char *help)
{
    json_t *f =
        json_pack("{s:s, s:s, s:s, s:[]}", "name", name, "type", type, "help", help, "samples");

    json_array_append_new(g_expect, f);
    return json_object_get(f, "samples");
}

static json_t *labels_json(const char *const *names, const char *const *values)
{
    json_t *o = json_object();

    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        json_object_set_new(o, names[i], json_string(values[i]));
    return o;
}

static struct shmet_series series(struct shmet_family *f, const char *const *values)
{
    struct shmet_series s;
    int rc = shmet_series_get(f, values, &s);

    if (rc != 0)
        die("series", rc);
    return s;
}

static void counters(void)
{
    const char *labels[] = {"method", "path", NULL};
    const char *help = "Requests handled, by \"method\" and path.\nA second line \\ with a "
                       "backslash.";
    struct shmet_family *f;
    json_t *samples;
    int rc;

    if ((rc = shmet_counter(g_c, "app_requests_total", help, labels, &f)) != 0)
        die("app_requests_total", rc);
    samples = expect_family("app_requests_total", "counter", help);
    for (size_t i = 0; i < NTRICKY; i++) {
        const char *values[] = {"GET", tricky[i]};
        struct shmet_series s = series(f, values);
        for (size_t n = 0; n <= i; n++)
            shmet_inc(s);
        json_array_append_new(samples,
                              json_pack("{s:o, s:f}", "labels", labels_json(labels, values),
                                        "value", (double)(i + 1)));
    }
    const char *post[] = {"POST", "/upload"};
    shmet_add(series(f, post), 2.5);
    shmet_add(series(f, post), 0.25);
    json_array_append_new(
        samples, json_pack("{s:o, s:f}", "labels", labels_json(labels, post), "value", 2.75));

    if ((rc = shmet_counter(g_c, "app_processed_bytes_total", "Bytes processed.", NULL, &f)) != 0)
        die("app_processed_bytes_total", rc);
    struct shmet_series s = series(f, NULL);
    shmet_add(s, 1.5);
    shmet_add(s, 1e6);
    shmet_add(s, 0.125);
    samples = expect_family("app_processed_bytes_total", "counter", "Bytes processed.");
    json_array_append_new(samples, json_pack("{s:{}, s:f}", "labels", "value", 1.5 + 1e6 + 0.125));
}

/* One gauge family with one series per (value set last) in values[]. */
static void gauge(const char *name, const char *help, enum shmet_gauge_mode mode, const char *label,
                  const char *const *lvalues, const double *sets, size_t n)
{
    const char *labels[] = {label, NULL};
    struct shmet_family *f;
    json_t *samples;
    int rc;

    if ((rc = shmet_gauge(g_c, name, help, label ? labels : NULL, mode, &f)) != 0)
        die(name, rc);
    samples = expect_family(name, "gauge", help);
    for (size_t i = 0; i < n; i++) {
        const char *values[] = {label ? lvalues[i] : NULL};
        struct shmet_series s = series(f, label ? values : NULL);
        shmet_set(s, 1000); /* overwritten below */
        shmet_set(s, sets[i]);
        json_array_append_new(samples, json_pack("{s:o, s:f}", "labels",
                                                 labels_json(label ? labels : NULL, values),
                                                 "value", sets[i]));
    }
}

static void gauges(void)
{
    const char *rooms[] = {"küche", "a \"quoted\"\nroom"};
    const double temps[] = {-3.25, 21.5};
    const char *queues[] = {"mail\\out"};
    const double depth[] = {17};
    const double version[] = {42}, ratio[] = {0.125};

    gauge("app_temperature_celsius", "Temperature per room.", SHMET_GAUGE_SUM, "room", rooms, temps,
          2);
    gauge("app_queue_depth", "Deepest queue seen by any worker.", SHMET_GAUGE_MAX, "queue", queues,
          depth, 1);
    gauge("app_config_version", "Configuration version loaded last.", SHMET_GAUGE_LAST, NULL, NULL,
          version, 1);
    gauge("app_free_ratio", "Smallest free ratio of any worker.", SHMET_GAUGE_MIN, NULL, NULL,
          ratio, 1);
}

/* Observe obs[] into the series of f with values; expect the result. */
static void observe(struct shmet_family *f, json_t *samples, const char *const *labels,
                    const char *const *values, const double *bounds, size_t nb, const double *obs,
                    size_t nobs)
{
    struct shmet_series s = series(f, values);
    json_t *buckets = json_array();
    double sum = 0;

    for (size_t i = 0; i < nobs; i++) {
        shmet_observe(s, obs[i]);
        sum += obs[i]; /* in recording order, as the aggregator adds */
    }
    for (size_t b = 0; b <= nb; b++) {
        size_t cum = 0;
        for (size_t i = 0; i < nobs; i++)
            cum += b == nb || obs[i] <= bounds[b];
        json_array_append_new(
            buckets, json_pack("[o, I]", b == nb ? json_string("+Inf") : json_real(bounds[b]),
                               (json_int_t)cum));
    }
    json_array_append_new(samples,
                          json_pack("{s:o, s:I, s:f, s:o}", "labels", labels_json(labels, values),
                                    "count", (json_int_t)nobs, "sum", sum, "buckets", buckets));
}

static void histograms(void)
{
    const char *labels[] = {"method", "path", NULL};
    const double b1[] = {0.005, 0.01, 0.1, 1, 10}, o1[] = {0.001, 0.005, 0.02, 0.5, 0.5, 3, 20};
    const double b2[] = {100, 1000, 10000}, o2[] = {50, 500, 5000, 50000};
    const double o3[] = {0.3, 7, 0.0001};
    const char *v1[] = {"GET", tricky[0]}, *v2[] = {"GET", tricky[2]}, *v3[] = {"GET", tricky[4]};
    struct shmet_family *f;
    json_t *samples;
    int rc;

    if ((rc = shmet_histogram(g_c, "app_request_duration_seconds", "Request latency.", labels, b1,
                              5, &f)) != 0)
        die("app_request_duration_seconds", rc);
    samples = expect_family("app_request_duration_seconds", "histogram", "Request latency.");
    observe(f, samples, labels, v1, b1, 5, o1, 7);
    observe(f, samples, labels, v2, b1, 5, o1 + 2, 3);
    observe(f, samples, labels, v3, b1, 5, o1 + 5, 2);

    if ((rc = shmet_histogram(g_c, "app_payload_size_bytes", "Payload sizes.", NULL, b2, 3, &f)))
        die("app_payload_size_bytes", rc);
    samples = expect_family("app_payload_size_bytes", "histogram", "Payload sizes.");
    observe(f, samples, NULL, NULL, b2, 3, o2, 4);

    if ((rc = shmet_histogram(g_c, "app_job_duration_seconds", "Job durations (default buckets).",
                              NULL, NULL, 0, &f)))
        die("app_job_duration_seconds", rc);
    samples =
        expect_family("app_job_duration_seconds", "histogram", "Job durations (default buckets).");
    observe(f, samples, NULL, NULL, default_bounds, 11, o3, 3);
}

int main(int argc, char **argv)
{
    struct shmet_options o = {0};
    const char *expect = NULL;
    int rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ns") == 0)
            o.ns = argv[i + 1];
        else if (strcmp(argv[i], "--expect") == 0)
            expect = argv[i + 1];
    }
    if (o.ns == NULL || expect == NULL) {
        fprintf(stderr, "usage: it_record --ns NAME --expect FILE\n");
        return 2;
    }
    if ((rc = shmet_open(&o, &g_c)) != 0)
        die("shmet_open", rc);
    g_expect = json_array();
    counters();
    gauges();
    histograms();
    if (json_dump_file(g_expect, expect, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "it_record: cannot write %s: %s\n", expect, strerror(errno));
        return 1;
    }
    json_decref(g_expect);
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
