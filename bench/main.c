/* SPDX-License-Identifier: MIT */
/*
 * bench/main.c - shmetrics-bench: command line and dispatch. Each
 * subcommand prints a human table and one `BENCH <name> <value> <unit>`
 * line per figure (stats.c). Benchmarks print figures; they never pass or
 * fail on speed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmetrics.h>

#include "agg.h"
#include "bench.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shmetrics-bench client [--runs N] [--samples N] [--lock-samples N]\n"
            "                              [--statsd-samples N] [--threads 1|2]\n"
            "                              [--ring-records N] [--consumer daemon|inproc]\n"
            "                              [--pin] [--smoke]\n"
            "       shmetrics-bench drain|scrape|e2e [OPTIONS]   (aggregator; --help each)\n"
            "       shmetrics-bench --help\n"
            "\n"
            "client    ns per shmet_inc, shmet_add and shmet_observe while a live\n"
            "          shmetricsd (the one next to this program, on a namespace and port\n"
            "          of its own) drains the rings, with 1 and 2 producer threads; in the\n"
            "          same runs, the same samples recorded by (a) atomics on one\n"
            "          shared-memory copy, (b) a robust process-shared mutex around a\n"
            "          label-keyed table in shared memory, (c) one StatsD UDP datagram\n"
            "          per sample to a loopback receiver; ratios baseline / shmetrics\n"
            "          within each run; per-call percentiles from timed batches of %d\n"
            "          calls; drops of every kind counted.\n"
            "\n"
            "  --runs N            repetitions, figures are medians over them (default 11)\n"
            "  --samples N         shmetrics and atomic calls per thread per run; k, M, G\n"
            "                      suffixes (default 4M)\n"
            "  --lock-samples N    locked-table calls per thread per run (default 1M)\n"
            "  --statsd-samples N  StatsD datagrams per thread per run (default 100k)\n"
            "  --threads 1|2       measure 1 producer thread, or 1 and then 2 (default 2)\n"
            "  --ring-records N    records per ring, a power of two (default 16384)\n"
            "  --consumer daemon|inproc\n"
            "                      who drains: shmetricsd (default), or an in-process\n"
            "                      thread that discards the records (the producer's cost\n"
            "                      alone)\n"
            "  --pin               producer thread i on CPU i, shmetricsd (or the\n"
            "                      in-process consumer) on the last CPU; default: where\n"
            "                      the scheduler puts them\n"
            "  --smoke             tiny sizes, for checking that it runs (3 runs, 200k,\n"
            "                      20k locked, 2k StatsD)\n"
            "  --help              this text\n"
            "\n"
            "Output: a table, then one line per figure: BENCH <name> <value> <unit>.\n",
            BENCH_BATCH);
}


static int parse_option(struct bench_opts *o, const char *opt, const char *val, bool *explicit_size)
{
    uint64_t v;

    if (bench_parse_count(val, &v) < 0 || v == 0)
        return -EINVAL;
    if (strcmp(opt, "--runs") == 0 && v <= 1000) {
        o->runs = (unsigned)v;
    } else if (strcmp(opt, "--samples") == 0 && v >= 64 && v <= (1ull << 40)) {
        o->samples = v;
    } else if (strcmp(opt, "--lock-samples") == 0 && v <= (1ull << 40)) {
        o->lock_samples = v;
    } else if (strcmp(opt, "--statsd-samples") == 0 && v <= (1ull << 40)) {
        o->statsd_samples = v;
    } else if (strcmp(opt, "--threads") == 0 && v <= 2) {
        o->threads = (unsigned)v;
        return 0;
    } else if (strcmp(opt, "--ring-records") == 0 && v <= UINT32_MAX) {
        o->ring_records = (uint32_t)v;
        return 0;
    } else {
        return -EINVAL;
    }
    *explicit_size = true;
    return 0;
}

static int parse_client(int argc, char **argv, struct bench_opts *o)
{
    bool explicit_size = false;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            o->smoke = true;
        } else if (strcmp(argv[i], "--pin") == 0) {
            o->pin = true;
        } else if (strcmp(argv[i], "--consumer") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "daemon") == 0 || strcmp(argv[i + 1], "inproc") == 0)) {
            o->consumer = argv[++i][0] == 'd' ? BENCH_CONSUMER_DAEMON : BENCH_CONSUMER_INPROC;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (i + 1 >= argc || parse_option(o, argv[i], argv[i + 1], &explicit_size) < 0) {
            fprintf(stderr, "shmetrics-bench: bad option '%s'\n", argv[i]);
            return -EINVAL;
        } else {
            i++;
        }
    }
    if (o->smoke && !explicit_size) {
        o->runs = 3;
        o->samples = 200000;
        o->lock_samples = 20000;
        o->statsd_samples = 2000;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {.runs = 11,
                           .samples = 4000000,
                           .lock_samples = 1000000,
                           .statsd_samples = 100000,
                           .threads = 2,
                           .ring_records = SHMET_DEFAULT_RING_RECORDS,
                           .consumer = BENCH_CONSUMER_DAEMON};

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "drain") == 0)
        return bench_drain_main(argc, argv);
    if (strcmp(argv[1], "scrape") == 0)
        return bench_scrape_main(argc, argv);
    if (strcmp(argv[1], "e2e") == 0)
        return bench_e2e_main(argc, argv);
    if (strcmp(argv[1], "client") != 0) {
        fprintf(stderr, "shmetrics-bench: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (parse_client(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    return bench_client(&o) == 0 ? 0 : 1;
}
