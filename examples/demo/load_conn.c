/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/load_conn.c - the event loop of shmetrics-load: a poll() over
 * --connections non-blocking sockets, each with at most one request in
 * flight (keep-alive, no pipelining), and a signalfd. A connection is a
 * small state machine: IDLE -> (CONNECTING) -> WRITING -> READING -> IDLE.
 *
 * Errors are counted, never retried, with one exception that is not an
 * error: a reused keep-alive connection that the server closed before our
 * request reached it (EOF or reset with no byte of response) gets the
 * request once more on a fresh connection, as browsers do. The demo closes
 * idle connections only between requests, so this never counts a request
 * twice.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_min.h"
#include "load.h"

#define IN_MAX (1u << 20) /* largest response accepted */
#define PAUSE_MS 100      /* after an error, before the next request */

enum lstate { L_IDLE, L_CONNECTING, L_WRITING, L_READING, L_PAUSED };

struct lconn {
    int fd;
    enum lstate st;
    char req[LOAD_REQUEST_MAX];
    size_t req_len, req_off;
    int kind;
    char *in;
    size_t in_len, in_cap;
    uint64_t served;     /* responses read on this connection */
    bool retried;        /* the request in flight was resent once */
    int64_t start_us;    /* when the request in flight was begun */
    int64_t deadline_ms; /* the request in flight fails at this time; PAUSED ends */
};

struct loader {
    const struct load_config *cfg;
    struct load_stats *st;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct lconn *c;
    struct pollfd *pfds;
    int sigfd;
    uint64_t started; /* requests begun, resends excluded */
    uint64_t rng;
    int64_t t0_us;
    bool stopping; /* no new requests (signal, count or duration reached) */
    bool abort;    /* stop now (second signal, fatal error) */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int resolve(struct loader *l)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai;
    char buf[300];
    const char *host, *port;
    int rc;

    if (demo_http_split_hostport(l->cfg->target, buf, sizeof(buf), &host, &port) < 0) {
        snprintf(l->st->fatal, sizeof(l->st->fatal), "bad target '%s': expected HOST:PORT",
                 l->cfg->target);
        return -EINVAL;
    }
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(l->st->fatal, sizeof(l->st->fatal), "cannot resolve '%s': %s", l->cfg->target,
                 gai_strerror(rc));
        return -EADDRNOTAVAIL;
    }
    memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
    l->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static void lconn_close(struct lconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->in_len = 0;
}

/* The request in flight failed: count it, and rest a moment. The first
 * failure before any response means the target is not serving: fatal. */
static void lconn_fail(struct loader *l, struct lconn *c, const char *what, int err)
{
    l->st->errors++;
    if (l->st->responses == 0 && l->st->fatal[0] == '\0') {
        snprintf(l->st->fatal, sizeof(l->st->fatal), "%s %s: %s", what, l->cfg->target,
                 err ? strerror(err) : "no response");
        l->abort = true;
    }
    lconn_close(c);
    c->st = L_PAUSED;
    c->deadline_ms = now_us() / 1000 + PAUSE_MS;
}

static void lconn_connect(struct loader *l, struct lconn *c)
{
    int one = 1;

    c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        lconn_fail(l, c, "socket for", errno);
        return;
    }
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    l->st->connects++;
    c->served = 0;
    if (connect(c->fd, (struct sockaddr *)&l->addr, l->addrlen) == 0)
        c->st = L_WRITING;
    else if (errno == EINPROGRESS)
        c->st = L_CONNECTING;
    else
        lconn_fail(l, c, "cannot connect to", errno);
}

/* (Re)send the request in c->req, on a new connection if needed. */
static void lconn_send(struct loader *l, struct lconn *c)
{
    c->req_off = 0;
    c->in_len = 0;
    if (c->fd < 0)
        lconn_connect(l, c);
    else
        c->st = L_WRITING;
}

static void lconn_begin(struct loader *l, struct lconn *c)
{
    c->req_len = load_build_request(l->cfg, &l->rng, c->req, &c->kind);
    c->retried = false;
    c->start_us = now_us();
    c->deadline_ms = c->start_us / 1000 + l->cfg->timeout_ms;
    l->started++;
    lconn_send(l, c);
}

/* Closed under us before any byte of the response: resend once if the
 * connection had served before (a stale keep-alive), else fail. */
static void lconn_lost(struct loader *l, struct lconn *c, int err)
{
    if (c->served > 0 && c->in_len == 0 && !c->retried) {
        l->st->retries++;
        c->retried = true;
        lconn_close(c);
        lconn_send(l, c);
        return;
    }
    lconn_fail(l, c, "connection lost to", err);
}

static void lconn_write(struct loader *l, struct lconn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->req_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            lconn_lost(l, c, errno);
            return;
        }
    }
    l->st->sent++;
    c->st = L_READING;
}

static void lconn_connected(struct loader *l, struct lconn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        lconn_fail(l, c, "cannot connect to", err);
        return;
    }
    c->st = L_WRITING;
    lconn_write(l, c);
}

/* Bytes of body the response carries; -1: until EOF. */
static int64_t body_length(const struct lconn *c, const struct demo_http_response *r)
{
    if (r->status == 204 || r->status == 304 || r->status < 200 || strncmp(c->req, "HEAD ", 5) == 0)
        return 0;
    return r->h.has_length ? (int64_t)r->h.content_length : -1;
}

/* A complete response is in c->in: count it, and keep or close. */
static void lconn_done(struct loader *l, struct lconn *c, const struct demo_http_response *r,
                       bool keep)
{
    char pid[24] = "";

    if (r->h.worker.len > 0 && r->h.worker.len < sizeof(pid))
        memcpy(pid, r->h.worker.ptr, r->h.worker.len);
    load_stats_response(l->st, &l->rng, c->kind, r->status, strtol(pid, NULL, 10),
                        (uint64_t)(now_us() - c->start_us));
    c->served++;
    c->in_len = 0;
    c->st = L_IDLE;
    if (!keep || !l->cfg->keep_alive)
        lconn_close(c);
}

/* Parse what has arrived; eof: the server closed its side. */
static void lconn_parse(struct loader *l, struct lconn *c, bool eof)
{
    struct demo_http_response r;
    int rc = demo_http_parse_response(c->in, c->in_len, &r);

    if (rc < 0) {
        lconn_fail(l, c, "bad response from", EPROTO);
        return;
    }
    if (rc == 0) {
        if (eof)
            lconn_lost(l, c, 0);
        return;
    }
    int64_t body = body_length(c, &r);
    if (body < 0 && eof)
        lconn_done(l, c, &r, false);
    else if (body >= 0 && c->in_len >= r.h.head_len + (uint64_t)body)
        lconn_done(l, c, &r, demo_http_keep_alive(&r.h) && !eof);
    else if (eof)
        lconn_fail(l, c, "truncated response from", 0);
}

static void lconn_read(struct loader *l, struct lconn *c)
{
    bool eof = false;

    for (;;) {
        if (c->in_len == c->in_cap) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
            char *p = cap <= IN_MAX ? realloc(c->in, cap) : NULL;
            if (p == NULL) {
                lconn_fail(l, c, "response too large from", EMSGSIZE);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && c->in_len == 0) {
            lconn_lost(l, c, errno);
            return;
        }
        eof = true;
        break;
    }
    lconn_parse(l, c, eof);
}

/* May a new request begin now? Sets l->stopping once none ever will. */
static bool may_start(struct loader *l, int64_t now)
{
    const struct load_config *cfg = l->cfg;
    double elapsed = (double)(now - l->t0_us) / 1e6;

    if (cfg->requests > 0 && l->started >= cfg->requests)
        l->stopping = true;
    if (cfg->duration_s > 0 && elapsed >= cfg->duration_s)
        l->stopping = true;
    if (l->stopping || l->abort)
        return false;
    return cfg->rate <= 0 || (double)l->started < elapsed * cfg->rate + 1;
}

/* Begin requests on idle connections; returns how many are busy. */
static unsigned start_requests(struct loader *l)
{
    unsigned busy = 0;

    for (unsigned i = 0; i < l->cfg->connections; i++) {
        struct lconn *c = &l->c[i];
        if (c->st == L_IDLE && may_start(l, now_us()))
            lconn_begin(l, c);
        if (c->st == L_WRITING && c->req_off == 0)
            lconn_write(l, c);
        busy += c->st != L_IDLE && c->st != L_PAUSED;
    }
    return busy;
}

/* Milliseconds until the next deadline or rate slot, -1 for none. */
static int next_timeout(const struct loader *l, int64_t now)
{
    int64_t next = INT64_MAX, now_ms = now / 1000;

    for (unsigned i = 0; i < l->cfg->connections; i++)
        if (l->c[i].st != L_IDLE && l->c[i].deadline_ms < next)
            next = l->c[i].deadline_ms;
    if (l->cfg->rate > 0 && !l->stopping)
        next = next < now_ms + 5 ? next : now_ms + 5; /* next rate slot: poll finely */
    if (l->cfg->duration_s > 0 && !l->stopping) {
        int64_t end = (l->t0_us + (int64_t)(l->cfg->duration_s * 1e6)) / 1000 + 1;
        next = next < end ? next : end;
    }
    if (next == INT64_MAX)
        return -1;
    return next <= now_ms ? 0 : (int)(next - now_ms > 60000 ? 60000 : next - now_ms);
}

static void on_signal(struct loader *l)
{
    struct signalfd_siginfo si;

    while (read(l->sigfd, &si, sizeof(si)) > 0)
        ;
    if (l->stopping)
        l->abort = true; /* second signal: do not wait for responses */
    l->stopping = true;
}

static void handle(struct loader *l)
{
    int64_t now_ms = now_us() / 1000;

    if (l->pfds[0].revents)
        on_signal(l);
    for (unsigned i = 0; i < l->cfg->connections; i++) {
        struct lconn *c = &l->c[i];
        short re = l->pfds[1 + i].revents;
        if (re && c->st == L_CONNECTING)
            lconn_connected(l, c);
        else if (re && c->st == L_WRITING)
            lconn_write(l, c);
        else if (re && c->st == L_READING)
            lconn_read(l, c);
        if (c->st == L_PAUSED && now_ms >= c->deadline_ms)
            c->st = L_IDLE;
        else if (c->st != L_IDLE && c->st != L_PAUSED && now_ms >= c->deadline_ms)
            lconn_fail(l, c, "timed out waiting for", ETIMEDOUT);
    }
}

static void build_pollset(struct loader *l)
{
    l->pfds[0] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
    for (unsigned i = 0; i < l->cfg->connections; i++) {
        struct lconn *c = &l->c[i];
        short ev = c->st == L_READING                              ? POLLIN
                   : (c->st == L_CONNECTING || c->st == L_WRITING) ? POLLOUT
                                                                   : 0;
        l->pfds[1 + i] = (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
    }
}

static int loader_init(struct loader *l, const struct load_config *cfg, struct load_stats *st)
{
    sigset_t set;

    memset(l, 0, sizeof(*l));
    l->cfg = cfg;
    l->st = st;
    l->rng = cfg->seed ? cfg->seed : 1;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    l->c = calloc(cfg->connections, sizeof(*l->c));
    l->pfds = calloc(cfg->connections + 1, sizeof(*l->pfds));
    if (l->sigfd < 0 || l->c == NULL || l->pfds == NULL) {
        snprintf(st->fatal, sizeof(st->fatal), "cannot start: %s", strerror(errno));
        return -ENOMEM;
    }
    for (unsigned i = 0; i < cfg->connections; i++)
        l->c[i].fd = -1;
    return resolve(l);
}

static void loader_free(struct loader *l)
{
    for (unsigned i = 0; l->c != NULL && i < l->cfg->connections; i++) {
        lconn_close(&l->c[i]);
        free(l->c[i].in);
    }
    free(l->c);
    free(l->pfds);
    if (l->sigfd >= 0)
        close(l->sigfd);
}

int load_run(const struct load_config *cfg, struct load_stats *st)
{
    struct loader l;
    int rc = loader_init(&l, cfg, st);

    l.t0_us = now_us();
    while (rc == 0 && !l.abort) {
        unsigned busy = start_requests(&l);
        if (busy == 0 && l.stopping)
            break;
        build_pollset(&l);
        if (poll(l.pfds, cfg->connections + 1, next_timeout(&l, now_us())) < 0 && errno != EINTR) {
            rc = -errno;
            snprintf(st->fatal, sizeof(st->fatal), "poll: %s", strerror(errno));
            break;
        }
        handle(&l);
    }
    st->elapsed_s = (double)(now_us() - l.t0_us) / 1e6;
    loader_free(&l);
    return rc;
}
