/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/main.c - shmetrics-bench: command line and dispatch. Each
 * subcommand prints a human table and one `BENCH <name> <value> <unit>`
 * line per figure (stats.c). Benchmarks print figures; they never pass or
 * fail on speed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmetrics.h>

#include "bench.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shmetrics-bench client [--runs N] [--samples N] [--threads 1|2]\n"
            "                              [--ring-records N] [--smoke]\n"
            "       shmetrics-bench --help\n"
            "\n"
            "client    ns per shmet_inc and shmet_observe while a consumer thread drains\n"
            "          the rings, against atomics on one shared-memory copy (1 and 2\n"
            "          threads) measured in the same runs; per-call percentiles from\n"
            "          timed batches of %d calls.\n"
            "\n"
            "  --runs N          repetitions, figures are medians over them (default 11)\n"
            "  --samples N       calls per thread per run; k, M, G suffixes (default 20M)\n"
            "  --threads 1|2     shmetrics producer threads (default 1); the baselines\n"
            "                    always use 1 and 2\n"
            "  --ring-records N  records per ring, a power of two (default 16384)\n"
            "  --smoke           tiny sizes, for checking that it runs (3 runs, 200k)\n"
            "  --help            this text\n"
            "\n"
            "Output: a table, then one line per figure: BENCH <name> <value> <unit>.\n",
            BENCH_BATCH);
}

/* A positive integer with an optional k, M or G suffix. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || v == 0)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        v *= 1000ull, end++;
    else if (*end == 'M')
        v *= 1000000ull, end++;
    else if (*end == 'G')
        v *= 1000000000ull, end++;
    if (*end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_option(struct bench_opts *o, const char *opt, const char *val, bool *explicit_size)
{
    uint64_t v;

    if (parse_count(val, &v) < 0)
        return -EINVAL;
    if (strcmp(opt, "--runs") == 0 && v <= 1000) {
        o->runs = (unsigned)v;
    } else if (strcmp(opt, "--samples") == 0 && v >= 64 && v <= (1ull << 40)) {
        o->samples = v;
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
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {
        .runs = 11, .samples = 20000000, .threads = 1, .ring_records = SHMET_DEFAULT_RING_RECORDS};

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
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
