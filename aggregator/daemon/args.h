/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/args.h - shmetricsd's command line: options, their defaults
 * and checks, and the --help text.
 */
#ifndef SHMETRICS_AGGREGATOR_ARGS_H
#define SHMETRICS_AGGREGATOR_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/expo.h"
#include "log.h"
#include "shm.h"

#define ARGS_LISTEN_DEFAULT "127.0.0.1:9477"
#define ARGS_MAX_SERIES_DEFAULT 10000u
#define ARGS_MAX_CONNS_DEFAULT 1024u
#define ARGS_DRAIN_MS_DEFAULT 1u
#define ARGS_TIMEOUT_MS_MIN 100u
#define ARGS_TIMEOUT_MS_MAX 3600000u

struct agg_args {
    const char *ns; /* NULL: $SHMETRICS_NS, else "default" */
    const char *listen;
    struct shmet__geometry geo;
    uint32_t drain_interval_ms;
    uint32_t max_series; /* per family */
    uint32_t max_conns;
    uint32_t head_timeout_ms;   /* first byte of a request head to its end */
    uint32_t idle_timeout_ms;   /* keep-alive: between requests */
    struct shmet__perm perm;    /* of a segment shmetricsd creates */
    const char *group;          /* --group as given, NULL: none */
    bool mode_set;              /* --mode given */
    struct const_label *consts; /* point into argv */
    size_t nconsts;
    enum log_level log_level;   /* --log-level, default info */
    bool help, version;
};

/* Parse argv. Returns 0, or -EINVAL after printing the mistake and a hint
 * to stderr (exit status 2). */
int args_parse(int argc, char **argv, struct agg_args *a);
void args_free(struct agg_args *a);

/* The --help text. */
void args_usage(FILE *f);

#endif /* SHMETRICS_AGGREGATOR_ARGS_H */
