/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/it_hold.c - a producer that lives a while: records
 * half of its samples, prints "half" and holds for --hold-ms (long enough
 * for the aggregator's liveness checks to judge it alive, more than once),
 * records the other half, prints "done" and exits. While it runs, its
 * gauge contribution is 1. The PID-namespace tests run it in a namespace
 * of its own, or beside an aggregator that is in one.
 *
 * Records, per sample: it_hold_ops_total += 1, it_hold_seconds observes
 * 0.25. Gauge it_hold_workers (SUM) = 1 from the start.
 *
 * Usage: it_hold --ns NAME --count N --hold-ms MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shmetrics.h>

static void die(const char *what, int rc)
{
    fprintf(stderr, "it_hold: %s: %s\n", what, shmet_strerror(rc));
    exit(1);
}

struct series {
    struct shmet_series ops, secs, workers;
};

static void define(struct shmet_client *c, struct series *s)
{
    static const double bounds[] = {0.1, 0.5, 1};
    struct shmet_family *f;
    int rc;

    if ((rc = shmet_counter(c, "it_hold_ops_total", "Samples.", NULL, &f)) < 0 ||
        (rc = shmet_series_get(f, NULL, &s->ops)) < 0)
        die("counter", rc);
    if ((rc = shmet_histogram(c, "it_hold_seconds", "Observations.", NULL, bounds, 3, &f)) < 0 ||
        (rc = shmet_series_get(f, NULL, &s->secs)) < 0)
        die("histogram", rc);
    if ((rc = shmet_gauge(c, "it_hold_workers", "Live workers.", NULL, SHMET_GAUGE_SUM, &f)) < 0 ||
        (rc = shmet_series_get(f, NULL, &s->workers)) < 0)
        die("gauge", rc);
}

static void record(const struct series *s, long n)
{
    for (long i = 0; i < n; i++) {
        shmet_inc(s->ops);
        shmet_observe(s->secs, 0.25);
        /* Stay far below what a drain keeps up with, even a slow one (a
         * sanitizer build on a loaded machine): the test is about
         * liveness, not about a full ring. */
        if (i % 128 == 127) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

int main(int argc, char **argv)
{
    struct shmet_options o = {0};
    struct shmet_client *c;
    struct series s;
    long count = 0, hold_ms = 0;
    int rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ns") == 0)
            o.ns = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            count = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--hold-ms") == 0)
            hold_ms = atol(argv[i + 1]);
    }
    if (o.ns == NULL || count <= 0 || hold_ms < 0) {
        fprintf(stderr, "usage: it_hold --ns NAME --count N --hold-ms MS\n");
        return 2;
    }
    if ((rc = shmet_open(&o, &c)) < 0)
        die("shmet_open", rc);
    define(c, &s);
    shmet_set(s.workers, 1);
    record(&s, count / 2);
    printf("half\n");
    fflush(stdout);
    struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    record(&s, count - count / 2);
    printf("done\n");
    fflush(stdout);
    shmet_close(c);
    return 0;
}
