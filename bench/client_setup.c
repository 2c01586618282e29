/* SPDX-License-Identifier: MIT */
/*
 * bench/client_setup.c - what `shmetrics-bench client` runs against:
 * a segment of its own namespace drained by a live shmetricsd (or, with
 * --consumer inproc, by the in-process consumer), one counter and one
 * histogram series, our own view of the slots for pacing and drops, and
 * the three baselines. Teardown leaves no segment behind.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "client.h"

#define SETUP_REPORTED (-ECANCELED) /* a failure already explained on stderr */

static int results_alloc(struct results *r, unsigned runs, size_t lat_per_run)
{
    for (size_t i = 0; i < NFIG; i++)
        if ((r->fig[i] = calloc(runs, sizeof(double))) == NULL)
            return -ENOMEM;
    for (size_t i = 0; i < NLAT; i++)
        if ((r->lat[i] = calloc((size_t)runs * lat_per_run, sizeof(double))) == NULL)
            return -ENOMEM;
    r->lat_empty = calloc((size_t)runs * lat_per_run, sizeof(double));
    return r->lat_empty == NULL ? -ENOMEM : 0;
}

static void results_free(struct results *r)
{
    for (size_t i = 0; i < NFIG; i++)
        free(r->fig[i]);
    for (size_t i = 0; i < NLAT; i++)
        free(r->lat[i]);
    free(r->lat_empty);
}

static int ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)n : 1;
}

int bench_cpu_producer(const struct bench *b, unsigned i)
{
    return b->o->pin ? (int)(i % (unsigned)ncpus()) : -1;
}

int bench_cpu_consumer(const struct bench *b)
{
    return b->o->pin ? ncpus() - 1 : -1;
}

int bench_pin(pthread_t th, int cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return 0;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(th, sizeof(set), &set);
}

/* The segment, and the checkpoint shmetricsd writes beside it when it
 * stops (<segment dir>/shmetrics-state.<ns>, as shmtool rm knows it). */
static void remove_namespace(const char *ns)
{
    (void)shmet__seg_unlink(ns);
    (void)shmet__state_unlink(ns);
}

/* shmetricsd creates the segment with the benchmark's geometry. */
static int start_daemon(struct bench *b)
{
    char slots[16], ring[16];
    const char *extra[] = {"--slots", slots, "--ring-records", ring, "--drain-interval-ms",
                           "1",       NULL};

    snprintf(slots, sizeof(slots), "%u", BENCH_SLOTS);
    snprintf(ring, sizeof(ring), "%u", b->o->ring_records);
    signal(SIGPIPE, SIG_IGN); /* a daemon that dies mid-request is an error, not a signal */
    return bench_daemon_start_on(&b->daemon, b->ns, extra, bench_cpu_consumer(b));
}

/* The segment, one counter and one histogram series, our own mapping. */
static int setup_metrics(struct bench *b)
{
    struct shmet_options opt = {
        .ns = b->ns, .slots = BENCH_SLOTS, .ring_records = b->o->ring_records};
    bool daemon = b->o->consumer == BENCH_CONSUMER_DAEMON;
    struct shmet_family *fc, *fh;
    int rc;

    snprintf(b->ns, sizeof(b->ns), "bench_%d", (int)getpid());
    remove_namespace(b->ns); /* a leftover of a dead namesake */
    if (daemon && start_daemon(b) < 0) {
        fprintf(stderr, "shmetrics-bench: to measure without shmetricsd: --consumer inproc\n");
        return SETUP_REPORTED;
    }
    if ((rc = shmet_open(&opt, &b->cl)) < 0)
        return rc;
    if ((rc = shmet_counter(b->cl, "bench_requests_total", "", NULL, &fc)) < 0 ||
        (rc = shmet_histogram(b->cl, "bench_latency_seconds", "", NULL, NULL, 0, &fh)) < 0 ||
        (rc = shmet_series_get(fc, NULL, &b->inc)) < 0 ||
        (rc = shmet_series_get(fh, NULL, &b->obs)) < 0)
        return rc;
    if ((rc = shmet__seg_open(b->ns, NULL, daemon ? SHMET_SEG_RDONLY : 0, 0, &b->seg)) < 0)
        return rc;
    if (!daemon) {
        if ((rc = consumer_start(&b->cons, &b->seg)) < 0)
            return rc;
        b->cons_running = true;
        if ((rc = bench_pin(b->cons.th, bench_cpu_consumer(b))) < 0)
            return rc;
    }
    return 0;
}

static int setup_baselines(struct bench *b)
{
    int rc;

    if ((b->atomic = baseline_new()) == NULL || (b->lock = lock_table_new()) == NULL ||
        (b->statsd = statsd_new()) == NULL)
        return -ENOMEM;
    if ((rc = lock_table_owner_death_check(b->lock)) < 0)
        fprintf(stderr, "shmetrics-bench: the locked table did not recover from a dead owner\n");
    return rc;
}

struct bench *bench_new(const struct bench_opts *o)
{
    struct bench *b = calloc(1, sizeof(*b));
    int rc;

    if (b == NULL)
        return NULL;
    if (o->ring_records < 4 * BENCH_BATCH || o->ring_records > (1u << 24) ||
        (o->ring_records & (o->ring_records - 1)) != 0) {
        fprintf(stderr, "shmetrics-bench: --ring-records must be a power of two, %d to %u\n",
                4 * BENCH_BATCH, 1u << 24);
        free(b);
        return NULL;
    }
    b->o = o;
    b->daemon.out_fd = -1;
    b->chunk = o->ring_records / 2;
    b->nbatches = o->samples / BENCH_BATCH;
    if (b->nbatches > LAT_BATCHES_MAX)
        b->nbatches = LAT_BATCHES_MAX;
    if (b->nbatches == 0)
        b->nbatches = 1;
    rc = results_alloc(&b->r, o->runs, b->nbatches * MAX_THREADS);
    if (rc == 0)
        rc = setup_metrics(b);
    if (rc == 0)
        rc = setup_baselines(b);
    if (rc == 0)
        rc = bench_threads_start(b);
    if (rc < 0) {
        if (rc != SETUP_REPORTED)
            fprintf(stderr, "shmetrics-bench: setup failed: %s\n", shmet_strerror(rc));
        bench_free(b);
        return NULL;
    }
    b->threads_started = true;
    return b;
}

int bench_finish(struct bench *b)
{
    int rc = 0, st;

    bench_threads_stop(b); /* their exit retires their slots */
    b->threads_started = false;
    if (b->cons_running) {
        consumer_stop(&b->cons);
        b->cons_running = false;
        return 0;
    }
    /* /debug drains every ring first, so the totals hold every sample. */
    if ((rc = bench_daemon_totals(&b->daemon, &b->totals)) < 0)
        fprintf(stderr, "shmetrics-bench: GET /debug failed: %s\n", strerror(-rc));
    if ((st = bench_daemon_stop(&b->daemon)) != 0) {
        fprintf(stderr, "shmetrics-bench: shmetricsd exited with status %d\n", st);
        rc = rc < 0 ? rc : -ECHILD;
    }
    return rc;
}

void bench_free(struct bench *b)
{
    if (b->threads_started)
        bench_threads_stop(b);
    if (b->cons_running)
        consumer_stop(&b->cons);
    if (b->daemon.pid > 0)
        (void)bench_daemon_stop(&b->daemon);
    shmet_close(b->cl);
    if (b->seg.base != NULL)
        shmet__seg_close(&b->seg);
    if (b->ns[0] != '\0')
        remove_namespace(b->ns);
    baseline_free(b->atomic);
    lock_table_free(b->lock);
    statsd_free(b->statsd);
    results_free(&b->r);
    free(b);
}
