/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_sockets.c - see t_sockets.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "t_e2e.h"
#include "t_sockets.h"

const char t_healthz_close[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/* Sockets daemon d has open (its listener and connections), or -1. */
int t_daemon_sockets(const struct t_daemon *d)
{
    char dir[64], path[320], target[64];
    struct dirent *e;
    DIR *fds;
    int n = 0;

    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)d->pid);
    if ((fds = opendir(dir)) == NULL)
        return -1;
    while ((e = readdir(fds)) != NULL) {
        ssize_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        len = readlink(path, target, sizeof(target) - 1);
        n += len > 7 && strncmp(target, "socket:", 7) == 0;
    }
    closedir(fds);
    return n;
}

/* Wait until d holds exactly want sockets; the last count seen. */
int t_wait_sockets(const struct t_daemon *d, int want)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int n;

    while ((n = t_daemon_sockets(d)) != want && t_now_ms() < end)
        usleep(2000);
    return n;
}

/* 1: c is open with nothing to read; 0: closed (EOF or reset); 2: data. */
int t_conn_state(struct t_http *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);

    if (n > 0)
        return 2;
    return (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? 1 : 0;
}

/* Read one response; expect status and a closing connection after it. */
void t_expect_final(struct t_http *c, int status, bool head_only)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(t_http_read(c, &r, head_only), 0);
    CU_ASSERT_EQUAL(r.status, status);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Connection"), "close");
    t_resp_free(&r);
    CU_ASSERT_FALSE(t_http_fill(c)); /* then EOF: nothing more, no hang */
    CU_ASSERT_EQUAL(c->len, 0);
}

/* Connections c[from..to) are open and silent. */
int t_count_open(struct t_http *c, int from, int to)
{
    int n = 0;

    for (int i = from; i < to; i++)
        n += t_conn_state(&c[i]) == 1;
    return n;
}

/* Past the limit and the spare connections: closed with no answer. */
void t_expect_refused_unanswered(const struct t_daemon *d)
{
    struct t_http p;
    char b;
    ssize_t n;

    CU_ASSERT_EQUAL_FATAL(t_http_open(&p, d->port, 0), 0);
    (void)t_http_send(&p, t_healthz_close, strlen(t_healthz_close));
    n = recv(p.fd, &b, 1, 0); /* blocks at most 10 s (SO_RCVTIMEO) */
    CU_ASSERT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)); /* not EAGAIN: a hang */
    t_http_close(&p);
}

/*
 * With c[0..from) open on d, each counted as a normal connection (d has
 * no other), open c[from..max): the next client is answered 503. Then
 * take the spare connections, c[max..max + T_REJECT_SPARE): the next client
 * is closed unanswered. Every step waits until d has accepted what was
 * opened, so each connection lands where the step expects.
 */
void t_check_limit(const struct t_daemon *d, struct t_http *c, int from, int max)
{
    struct t_http probe;

    CU_ASSERT_EQUAL_FATAL(t_wait_sockets(d, 1 + from), 1 + from);
    for (int i = from; i < max; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d->port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_wait_sockets(d, 1 + max), 1 + max);
    CU_ASSERT_EQUAL_FATAL(t_http_open(&probe, d->port, 0), 0);
    CU_ASSERT_EQUAL(t_http_send(&probe, t_healthz_close, strlen(t_healthz_close)), 0);
    t_expect_final(&probe, 503, false);
    t_http_close(&probe);
    CU_ASSERT_EQUAL_FATAL(t_wait_sockets(d, 1 + max), 1 + max);
    for (int i = max; i < max + T_REJECT_SPARE; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d->port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_wait_sockets(d, 1 + max + T_REJECT_SPARE), 1 + max + T_REJECT_SPARE);
    t_expect_refused_unanswered(d);
    CU_ASSERT_EQUAL(t_count_open(c, 0, max + T_REJECT_SPARE), max + T_REJECT_SPARE);
}

