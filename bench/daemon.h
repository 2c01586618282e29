/* SPDX-License-Identifier: MIT */
/*
 * bench/daemon.h - a live shmetricsd for the benchmarks: the binary
 * installed next to shmetrics-bench, started on a namespace of its own and
 * an ephemeral loopback port, asked over HTTP, and stopped.
 */
#ifndef SHMETRICS_BENCH_DAEMON_H
#define SHMETRICS_BENCH_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bench_daemon {
    pid_t pid;  /* 0: not running */
    int out_fd; /* its standard output, kept open so it never gets SIGPIPE */
    int port;   /* the port it listens on, 127.0.0.1 */
};

/* The totals of GET /debug's "aggregator" object. */
struct bench_daemon_totals {
    uint64_t samples; /* records applied */
    uint64_t dropped; /* ring-full and no-slot drops it has seen */
    uint64_t invalid; /* records it refused */
};

/*
 * bench_daemon_start - run shmetricsd from the directory of this executable
 * with --ns ns --listen 127.0.0.1:0 and the NULL-terminated extra
 * arguments; wait (up to 10 s) until it prints where it listens. Returns 0,
 * or a negative errno after printing why (its own message is on stderr).
 * bench_daemon_start_on - the same, with shmetricsd allowed on CPU cpu only
 * (-1: anywhere).
 */
int bench_daemon_start(struct bench_daemon *d, const char *ns, const char *const *extra);
int bench_daemon_start_on(struct bench_daemon *d, const char *ns, const char *const *extra,
                          int cpu);

/*
 * bench_daemon_get - GET path; on success *body is the response body
 * (NUL-terminated, free() it). Returns the HTTP status, or a negative errno.
 */
int bench_daemon_get(const struct bench_daemon *d, const char *path, char **body);

/* bench_daemon_totals - GET /debug and read the aggregator's totals.
 * Returns 0 or a negative errno. */
int bench_daemon_totals(const struct bench_daemon *d, struct bench_daemon_totals *out);

/* bench_daemon_stop - SIGTERM, wait (SIGKILL after 5 s). Returns its exit
 * status (0 after a clean stop), or -1 if it had to be killed. */
int bench_daemon_stop(struct bench_daemon *d);

#endif /* SHMETRICS_BENCH_DAEMON_H */
