/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_sockets.h - what the hostile-HTTP suites
 * (test_fault_http, test_fault_http_limits) need beyond t_daemon.h: the
 * sockets a daemon holds (from /proc), the state of a client connection
 * without blocking, a final answer followed by the close, and the
 * connection limit checked from the inside out (503, then closed
 * unanswered, never a hang).
 */
#ifndef SHMETRICS_TESTS_T_SOCKETS_H
#define SHMETRICS_TESTS_T_SOCKETS_H

#include <stdbool.h>

#include "t_daemon.h"

#define T_REJECT_SPARE 32 /* LOOP_REJECT_SPARE in aggregator/daemon/loop.h */

extern const char t_healthz_close[]; /* GET /healthz, Connection: close */

/* Sockets daemon d has open (its listener and connections), or -1. */
int t_daemon_sockets(const struct t_daemon *d);
/* Wait until d holds exactly want sockets; the last count seen. */
int t_wait_sockets(const struct t_daemon *d, int want);
/* 1: c is open with nothing to read; 0: closed (EOF or reset); 2: data. */
int t_conn_state(struct t_http *c);
/* How many of c[from..to) are open and silent. */
int t_count_open(struct t_http *c, int from, int to);
/* Read one response; expect status and a closing connection after it. */
void t_expect_final(struct t_http *c, int status, bool head_only);
/* Past the limit and the spare connections: closed with no answer. */
void t_expect_refused_unanswered(const struct t_daemon *d);
/*
 * With c[0..from) open on d, each counted as a normal connection (d has
 * no other), open c[from..max): the next client is answered 503. Then
 * take the spare connections, c[max..max + T_REJECT_SPARE): the next
 * client is closed unanswered. Every step waits until d has accepted what
 * was opened, so each connection lands where the step expects.
 */
void t_check_limit(const struct t_daemon *d, struct t_http *c, int from, int max);

#endif /* SHMETRICS_TESTS_T_SOCKETS_H */
