/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_http_limits.c - shmetricsd's own limits
 * against hostile clients, each on a daemon of its own (the shared one
 * of test_fault_http runs with timeouts too long to see):
 *   - with short --head-timeout-ms and --idle-timeout-ms, silent,
 *     dribbling, half-head and idle keep-alive connections are all closed
 *     by the server, without a reply;
 *   - a daemon whose RLIMIT_NOFILE cannot hold --max-connections lowers
 *     the limit, says so, and answers 503 past it, then closes unanswered
 *     past the spares: never a client left hanging in the backlog.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t_e2e.h"
#include "t_sockets.h"
#include "t_util.h"

#define NTIMEOUT 10 /* connections of each kind in the timeout test */
#define TIMEOUT_HEAD_MS "1000"
#define TIMEOUT_IDLE_MS "1500"

/* ---- timeouts ------------------------------------------------------------ */

enum slow_kind { SL_SILENT, SL_DRIBBLE, SL_HALF, SL_IDLE, SL_KINDS };

/* Open NTIMEOUT connections of each kind to d; the idle ones after one
 * answered keep-alive request. */
static void open_slow(struct t_daemon *d, struct t_http *c)
{
    static const char keep[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    struct t_resp r;

    for (int i = 0; i < SL_KINDS * NTIMEOUT; i++) {
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d->port, 0), 0);
        if (i / NTIMEOUT == SL_HALF)
            CU_ASSERT_EQUAL(t_http_send(&c[i], "GET / HTTP/1.1\r\n", 16), 0);
        if (i / NTIMEOUT != SL_IDLE)
            continue;
        CU_ASSERT_EQUAL(t_http_send(&c[i], keep, strlen(keep)), 0);
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c[i], &r, false), 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_STRING_EQUAL(t_header(&r, "Connection"), "keep-alive");
        t_resp_free(&r);
    }
}

static void test_fault_http_timeouts_close_slowloris(void)
{
    static const char slow_head[] = "GET / HTTP/1.1\r\nX-Slow: aaaa"; /* then 'a' forever */
    const char *extra[] = {"--head-timeout-ms", TIMEOUT_HEAD_MS, "--idle-timeout-ms",
                           TIMEOUT_IDLE_MS, NULL};
    struct t_http c[SL_KINDS * NTIMEOUT];
    uint64_t t0, closed_ms[SL_KINDS] = {0}, end;
    struct t_daemon d;
    bool alive[SL_KINDS * NTIMEOUT];
    int nopen = SL_KINDS * NTIMEOUT;
    char ns[64];

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "fhto"), extra), 0);
    open_slow(&d, c);
    t0 = t_now_ms();
    end = t0 + 3 * T_DEADLINE_MS; /* the timeouts are 1 and 1.5 s */
    for (int i = 0; i < nopen; i++)
        alive[i] = true;
    for (int round = 0; nopen > 0 && t_now_ms() < end; round++) {
        for (int i = 0; i < SL_KINDS * NTIMEOUT; i++) {
            if (!alive[i])
                continue;
            if (i / NTIMEOUT == SL_DRIBBLE) /* a byte every round, never a whole head */
                (void)t_http_send(&c[i], &slow_head[round < 24 ? round : 24], 1);
            if (t_conn_state(&c[i]) == 1)
                continue;
            CU_ASSERT_EQUAL(t_conn_state(&c[i]), 0); /* closed without a word */
            alive[i] = false;
            nopen--;
            closed_ms[i / NTIMEOUT] = t_now_ms() - t0;
        }
        usleep(100 * 1000);
    }
    CU_ASSERT_EQUAL(nopen, 0);
    printf("(closed after: silent %llu ms, dribbling %llu ms, half head %llu ms, idle %llu ms) ",
           (unsigned long long)closed_ms[SL_SILENT], (unsigned long long)closed_ms[SL_DRIBBLE],
           (unsigned long long)closed_ms[SL_HALF], (unsigned long long)closed_ms[SL_IDLE]);
    for (int i = 0; i < SL_KINDS * NTIMEOUT; i++)
        t_http_close(&c[i]);
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_ns_cleanup(ns);
}

/* ---- a low open-file limit ---------------------------------------------- */

/* A daemon whose RLIMIT_NOFILE cannot hold --max-connections (1024 by
 * default) lowers the limit, says so, and keeps its promise: 503 past it,
 * closed past the spares, never a client left hanging in the backlog
 * (before the fix, accept failed with EMFILE and clients waited). */
static void test_fault_http_nofile_below_max_connections(void)
{
    const char *extra[] = {"--slots", "8", NULL};
    const char *msg;
    struct t_daemon d;
    struct t_http *c;
    char ns[64], err[4096];
    int max = 0;

    t_daemon_nofile(256);
    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "fhnf"), extra), 0);
    t_daemon_nofile(0);
    msg = t_wait_line(d.err_fd, "serving at most ", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    /* (A daemon under valgrind sees a lower limit: valgrind keeps some.) */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--max-connections 1024 needs more open files than "
                                       "RLIMIT_NOFILE ("));
    max = atoi(msg + strlen("serving at most "));
    CU_ASSERT_FATAL(max >= 1 && max + T_REJECT_SPARE < 256);
    printf("(limit lowered to %d) ", max);
    c = calloc((size_t)max + T_REJECT_SPARE, sizeof(*c));
    t_check_limit(&d, c, 0, max);
    for (int i = 0; i < max + T_REJECT_SPARE; i++)
        t_http_close(&c[i]);
    free(c);
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_http_timeouts_close_slowloris", test_fault_http_timeouts_close_slowloris},
        {"test_fault_http_nofile_below_max_connections",
         test_fault_http_nofile_below_max_connections},
    };

    signal(SIGPIPE, SIG_IGN);
    return T_RUN("fault_http_limits", tests);
}
