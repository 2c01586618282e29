/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/daemon/t_daemon.h - helpers for tests that run the shmetricsd
 * binary: start it (from $SHMETRICS_BIN_DIR) on an ephemeral port and find
 * the port in its "listening on" line, stop it, read what it printed; and
 * a small blocking HTTP/1.1 client that keeps unread bytes between
 * responses, so that keep-alive and pipelining can be checked.
 *
 * SHMETRICS_DAEMON_WRAPPER, when set, is a command (words separated by
 * spaces) that every spawned shmetricsd runs under, e.g. "valgrind
 * --tool=memcheck ...": the same suites then check the daemon for memory
 * errors. Deadlines are multiplied by t_scale() so the slower daemon is
 * waited for, never failed for its speed.
 */
#ifndef SHMETRICS_TESTS_T_DAEMON_H
#define SHMETRICS_TESTS_T_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct t_daemon {
    pid_t pid;
    int port;
    int out_fd, err_fd; /* its stdout and stderr */
    char ns[64];
};

#define T_WRAPPER_ENV "SHMETRICS_DAEMON_WRAPPER"

uint64_t t_now_ms(void); /* CLOCK_MONOTONIC */
/* 1, or 10 when the daemon runs under $SHMETRICS_DAEMON_WRAPPER: a factor
 * for every deadline and bound on how long the daemon may take. */
unsigned t_scale(void);
const char *t_bin_path(void);

/* Fork and exec shmetricsd with args (NULL-terminated, without argv[0]);
 * seccomp: make io_uring_setup fail with EPERM in the child first (exit 77
 * when seccomp is unavailable). 0 or -1. */
int t_spawn(struct t_daemon *d, const char *const *args, bool seccomp);
/* RLIMIT_NOFILE (soft and hard) of the daemons spawned from now on;
 * 0: what this process has. */
void t_daemon_nofile(unsigned n);
/* Spawn with --ns ns --listen 127.0.0.1:0 and extra, and wait for its
 * "listening on" line (d->port). 0, or -1 when it did not start. */
int t_start(struct t_daemon *d, const char *ns, const char *const *extra);
/* t_spawn() never under $SHMETRICS_DAEMON_WRAPPER: for a daemon the test
 * will SIGKILL, of which memcheck would leave a log without a summary. */
int t_spawn_unwrapped(struct t_daemon *d, const char *const *args);
/* t_start() listening on listen ("127.0.0.1:PORT") instead of port 0;
 * wrapped false: through t_spawn_unwrapped(). 0, or -1 when it did not
 * print its "listening on" line in time. */
int t_start_on(struct t_daemon *d, const char *ns, const char *listen, const char *const *extra,
               bool wrapped);
/* Wait up to ms (times t_scale()) for it to exit: its wait status, or -1. */
int t_wait_exit(struct t_daemon *d, int ms);
/* SIGTERM, SIGKILL after 5 s (times t_scale()), close the pipes. The wait
 * status or -1. */
int t_stop(struct t_daemon *d);
/* Read fd (the daemon's stdout or stderr) into buf until a whole line
 * holding needle has arrived: its start in buf, or NULL at EOF or after
 * 10 s (times t_scale()). */
const char *t_wait_line(int fd, const char *needle, char *buf, size_t len);
/* Read fd to its end (the writer has exited) into buf, NUL-terminated. */
void t_read_all(int fd, char *buf, size_t len);
/* t_stop(), keeping what the daemon wrote to stderr in err. */
int t_stop_stderr(struct t_daemon *d, char *err, size_t len);

struct t_http {
    int fd;
    char *in; /* received, not yet consumed */
    size_t len, cap;
};

struct t_resp {
    int status;
    char head[8192];
    char *body;
    size_t body_len;
};

/* Connect to 127.0.0.1:port (rcvbuf > 0: that SO_RCVBUF); 10 s timeouts. */
int t_http_open(struct t_http *c, int port, int rcvbuf);
void t_http_close(struct t_http *c);
int t_http_send(struct t_http *c, const char *s, size_t n);
/* Receive more; false on EOF, error or timeout. */
bool t_http_fill(struct t_http *c);
/* Read one response (a HEAD response has no body). 0 or -1. */
int t_http_read(struct t_http *c, struct t_resp *r, bool head_only);
/* The value of header name in r, "" when absent (a static buffer). */
const char *t_header(const struct t_resp *r, const char *name);
void t_resp_free(struct t_resp *r);
/* One request on a new connection. */
int t_roundtrip(int port, const char *req, struct t_resp *r, bool head_only);

#endif /* SHMETRICS_TESTS_T_DAEMON_H */
