/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/worker.c - one worker process: a poll() loop over the shared
 * listening socket, its own connections and a signalfd. Each connection is
 * a small state machine, one request at a time (keep-alive and pipelining
 * fall out of it): READ until a complete request is buffered, answer it
 * (DELAY first for /slow, so a slow request never blocks the others), then
 * WRITE the response and go back to READ.
 *
 * A request is recorded when its answer is ready, before the first byte of
 * the response is sent: a client that has read a response can count on
 * the metrics of that request being in the segment already.
 *
 * SIGTERM or SIGINT: stop accepting, close idle connections, finish the
 * requests in flight, retire the metrics slot and exit 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo.h"

#define IN_CAP (DEMO_HTTP_HEAD_MAX + ROUTE_BODY_MAX) /* one request, head and body */
#define RESP_HEAD_MAX 512
#define ACCEPT_PAUSE_MS 100 /* after EMFILE and the like */
#define TURN_RECHECK_MS 10  /* not our turn to accept: look again this soon */

enum conn_state { CS_READ, CS_DELAY, CS_WRITE, CS_CLOSED };

/* The request being answered, for the metrics. */
struct pending {
    int method;
    int endpoint; /* -1: not recorded */
    int status;
    int64_t start_ns;
    size_t req_bytes;
};

struct conn {
    int fd;
    enum conn_state state;
    bool close_after; /* close once the response is sent */
    bool eof;         /* the peer has shut down its side */
    char *in;         /* IN_CAP bytes */
    size_t in_len;
    char *out;
    size_t out_len, out_off, out_cap;
    int64_t deadline_ms; /* READ, WRITE: closed if not done by then */
    int64_t wake_ms;     /* DELAY: the response goes at this time */
    struct pending rq;
};

struct worker {
    const struct demo_config *cfg;
    struct demo_metrics *m;
    struct demo_balance *bal;
    unsigned index; /* this worker's entry in bal */
    int lfd;        /* -1 once stopping */
    int sigfd;      /* SIGTERM, SIGINT */
    bool stopping;
    int64_t accept_resume_ms; /* no accepting before this (after an error) */
    bool turn_wait;           /* not our turn to accept: wake soon to look again */
    pid_t pid;
    struct conn **conns;
    size_t nconns;
    struct pollfd *pfds;
    char scratch[ROUTE_SCRATCH];
};

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CS_CLOSED;
}

static void conn_free(struct conn *c)
{
    free(c->in);
    free(c->out);
    free(c);
}

static int out_reserve(struct conn *c, size_t need)
{
    if (need <= c->out_cap)
        return 0;
    char *p = realloc(c->out, need);
    if (p == NULL)
        return -ENOMEM;
    c->out = p;
    c->out_cap = need;
    return 0;
}

/* Status line and headers, then the body unless head_only (HEAD). */
static int build_response(struct worker *w, struct conn *c, const struct route_result *res,
                          bool head_only)
{
    char head[RESP_HEAD_MAX];
    char length[48] = "";

    if (res->status != 204)
        snprintf(length, sizeof(length), "Content-Length: %zu\r\n", res->body_len);
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nServer: shmetrics-demo\r\nContent-Type: %s\r\n"
                     "%sX-Worker: %d\r\nConnection: %s\r\n\r\n",
                     res->status, demo_http_reason(res->status), res->ctype, length, (int)w->pid,
                     c->close_after ? "close" : "keep-alive");
    size_t body = head_only ? 0 : res->body_len;

    if (n < 0 || (size_t)n >= sizeof(head) || out_reserve(c, (size_t)n + body) < 0)
        return -ENOMEM;
    memcpy(c->out, head, (size_t)n);
    if (body > 0)
        memcpy(c->out + n, res->body, body);
    c->out_len = (size_t)n + body;
    c->out_off = 0;
    return 0;
}

/* The response is due: record the request, then start sending. */
static void conn_finish(struct worker *w, struct conn *c)
{
    const struct pending *p = &c->rq;

    if (p->endpoint >= 0)
        demo_metrics_end(w->m, p->method, p->endpoint, p->status,
                         (double)(demo_now_ns() - p->start_ns) / 1e9, p->req_bytes, c->out_len);
    c->state = CS_WRITE;
    c->deadline_ms = demo_now_ms() + w->cfg->timeout_ms;
}

/* Answer the request at the head of c->in (req_bytes long; consumed here). */
static void conn_answer(struct worker *w, struct conn *c, int method,
                        const struct route_result *res, size_t req_bytes)
{
    c->rq = (struct pending){method, res->endpoint, res->status, demo_now_ns(), req_bytes};
    if (w->stopping)
        c->close_after = true;
    if (build_response(w, c, res, method == M_HEAD) < 0) {
        conn_close(c);
        return;
    }
    if (res->endpoint >= 0)
        demo_metrics_begin(w->m, res->endpoint);
    req_bytes = req_bytes < c->in_len ? req_bytes : c->in_len;
    memmove(c->in, c->in + req_bytes, c->in_len - req_bytes);
    c->in_len -= req_bytes;
    if (res->delay_ms > 0) {
        /* Rounded up to the next whole millisecond, so the answer never
         * goes before delay_ms have passed since the request was read. */
        c->state = CS_DELAY;
        c->wake_ms = (c->rq.start_ns + (int64_t)res->delay_ms * 1000000 + 999999) / 1000000;
    } else {
        conn_finish(w, c);
    }
}

/* A request refused before routing: answer status, then close. */
static void conn_refuse(struct worker *w, struct conn *c, int method, int endpoint, int status)
{
    struct route_result res = {
        .status = status, .endpoint = endpoint, .ctype = "text/plain; charset=utf-8"};

    snprintf(w->scratch, sizeof(w->scratch), "%s\n", demo_http_reason(status));
    res.body = w->scratch;
    res.body_len = strlen(res.body);
    c->close_after = true;
    conn_answer(w, c, method, &res, c->in_len);
}

/* READ: answer the buffered request if it is complete. Returns true when
 * the state changed (answered or closed). */
static bool conn_process(struct worker *w, struct conn *c)
{
    struct demo_http_request rq;
    int rc = demo_http_parse_request(c->in, c->in_len, &rq);

    if (rc == 0) {
        if (c->eof)
            conn_close(c);
        return c->state != CS_READ;
    }
    if (rc < 0) {
        conn_refuse(w, c, M_OTHER, EP_OTHER, rc == -EMSGSIZE ? 431 : 400);
        return true;
    }
    int method = demo_method_of(rq.method);
    if (rq.h.chunked || rq.h.content_length > ROUTE_BODY_MAX ||
        rq.h.head_len + rq.h.content_length > IN_CAP) {
        conn_refuse(w, c, method, route_endpoint(rq.target), rq.h.chunked ? 501 : 413);
        return true;
    }
    size_t total = rq.h.head_len + (size_t)rq.h.content_length;
    if (c->in_len < total) {
        if (c->eof)
            conn_close(c);
        return c->state != CS_READ;
    }
    struct route_result res;
    route_dispatch(&rq, c->in + rq.h.head_len, (size_t)rq.h.content_length, w->cfg->slow_ms,
                   w->scratch, &res);
    c->close_after = c->close_after || !demo_http_keep_alive(&rq.h);
    conn_answer(w, c, method, &res, total);
    return true;
}

/* WRITE: send what the socket takes. Returns true once all is sent and
 * the connection is back in READ. */
static bool conn_flush(struct worker *w, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        conn_close(c);
        return false;
    }
    c->out_len = c->out_off = 0;
    if (c->close_after) {
        conn_close(c);
        return false;
    }
    c->state = CS_READ;
    c->deadline_ms = demo_now_ms() + w->cfg->timeout_ms;
    return true;
}

/* Run the state machine as far as it goes without waiting. A loop rather
 * than recursion, so that a burst of pipelined requests cannot nest. */
static void conn_advance(struct worker *w, struct conn *c)
{
    for (;;) {
        if (c->state == CS_READ && !conn_process(w, c))
            return;
        if (c->state == CS_WRITE && !conn_flush(w, c))
            return;
        if (c->state == CS_DELAY || c->state == CS_CLOSED)
            return;
    }
}

static void conn_on_readable(struct worker *w, struct conn *c)
{
    while (c->in_len < IN_CAP) {
        ssize_t n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            conn_close(c);
            return;
        }
        c->eof = true;
        break;
    }
    conn_advance(w, c);
}

/* A connection that made no progress in time: 408 if a request was
 * started (best effort, never waits), then close. */
static void conn_timeout(struct conn *c)
{
    static const char msg[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";

    if (c->state == CS_READ && c->in_len > 0)
        (void)send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    conn_close(c);
}

static struct conn *conn_new(int fd, int64_t deadline_ms)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL || (c->in = malloc(IN_CAP)) == NULL) {
        free(c);
        return NULL;
    }
    c->fd = fd;
    c->state = CS_READ;
    c->deadline_ms = deadline_ms;
    return c;
}

/* RELAXED: the counts only steer which worker accepts next
 * (tag-demo-balance); a stale value costs a little fairness for one
 * wake-up, never a connection, so no ordering is needed. */
static void publish_conns(struct worker *w)
{
    atomic_store_explicit(&w->bal->conns[w->index], (uint32_t)w->nconns, memory_order_relaxed);
}

/* This worker's turn to accept: it holds no more than the average. Some
 * worker always does, so a connection never waits for all of them. */
static bool fair_turn(const struct worker *w)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < w->bal->workers; i++)
        total += atomic_load_explicit(&w->bal->conns[i], memory_order_relaxed);
    return (uint64_t)w->nconns * w->bal->workers <= total;
}

static void accept_pause(struct worker *w, const char *why)
{
    fprintf(stderr, "shmetrics-demo: worker %d: accept: %s\n", (int)w->pid, why);
    w->accept_resume_ms = demo_now_ms() + ACCEPT_PAUSE_MS;
}

/* Take one pending connection. One per wake-up, not all that are queued:
 * every idle worker wakes on a new connection, and taking turns spreads
 * the connections over the workers instead of piling them on whichever
 * worker happened to run first. Losing the race (EAGAIN) is normal. */
static void accept_one(struct worker *w)
{
    int one = 1, fd;

    do
        fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EPROTO));
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            accept_pause(w, strerror(errno));
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = conn_new(fd, demo_now_ms() + w->cfg->timeout_ms);
    if (c == NULL) {
        close(fd);
        accept_pause(w, "out of memory");
        return;
    }
    w->conns[w->nconns++] = c;
    publish_conns(w);
}

/* SIGTERM or SIGINT: no new connections or requests; the loop ends when
 * the last response in flight is sent. */
static void worker_stop(struct worker *w)
{
    struct signalfd_siginfo si;

    while (read(w->sigfd, &si, sizeof(si)) > 0)
        ;
    if (w->stopping)
        return;
    w->stopping = true;
    close(w->lfd);
    w->lfd = -1;
    for (size_t i = 0; i < w->nconns; i++) {
        if (w->conns[i]->state == CS_READ)
            conn_close(w->conns[i]);
        else
            w->conns[i]->close_after = true;
    }
}

/* Fill pfds: [0] signals, [1] listener (fd -1 when not accepting), then
 * one per connection (fd -1 while it waits on a timer only). */
static nfds_t build_pollset(struct worker *w, int64_t now)
{
    bool accepting = w->lfd >= 0 && w->nconns < w->cfg->max_conns && now >= w->accept_resume_ms;

    /* Not our turn: the worker whose turn it is may be asleep without the
     * listener in its poll set (it was not its turn when it went to
     * sleep), so nobody may be watching; look again soon. */
    w->turn_wait = accepting && !fair_turn(w);
    accepting = accepting && !w->turn_wait;

    w->pfds[0] = (struct pollfd){.fd = w->sigfd, .events = POLLIN};
    w->pfds[1] = (struct pollfd){.fd = accepting ? w->lfd : -1, .events = POLLIN};
    for (size_t i = 0; i < w->nconns; i++) {
        struct conn *c = w->conns[i];
        short ev = c->state == CS_READ ? POLLIN : c->state == CS_WRITE ? POLLOUT : 0;
        w->pfds[2 + i] = (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
    }
    return (nfds_t)(2 + w->nconns);
}

/* Milliseconds until the earliest timer, or -1 for none. */
static int next_timeout(const struct worker *w, int64_t now)
{
    int64_t next = w->accept_resume_ms > now ? w->accept_resume_ms : INT64_MAX;

    if (w->turn_wait)
        next = now + TURN_RECHECK_MS;

    for (size_t i = 0; i < w->nconns; i++) {
        const struct conn *c = w->conns[i];
        int64_t t = c->state == CS_DELAY ? c->wake_ms : c->deadline_ms;
        next = t < next ? t : next;
    }
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static void run_timers(struct worker *w)
{
    int64_t now = demo_now_ms();

    for (size_t i = 0; i < w->nconns; i++) {
        struct conn *c = w->conns[i];
        if (c->state == CS_DELAY && now >= c->wake_ms) {
            conn_finish(w, c);
            conn_advance(w, c);
        } else if ((c->state == CS_READ || c->state == CS_WRITE) && now >= c->deadline_ms) {
            conn_timeout(c);
        }
    }
}

/* Drop closed connections, keeping the array dense. */
static void compact(struct worker *w)
{
    size_t j = 0;

    for (size_t i = 0; i < w->nconns; i++) {
        if (w->conns[i]->state == CS_CLOSED)
            conn_free(w->conns[i]);
        else
            w->conns[j++] = w->conns[i];
    }
    w->nconns = j;
    publish_conns(w);
}

static void handle_events(struct worker *w, nfds_t n)
{
    if (w->pfds[0].revents)
        worker_stop(w);
    for (nfds_t i = 2; i < n; i++) {
        struct conn *c = w->conns[i - 2];
        if (w->pfds[i].revents == 0 || c->state == CS_CLOSED)
            continue;
        if (c->state == CS_READ)
            conn_on_readable(w, c);
        else if (c->state == CS_WRITE)
            conn_advance(w, c);
    }
    run_timers(w);
    compact(w);
    if (w->pfds[1].revents && !w->stopping && w->nconns < w->cfg->max_conns)
        accept_one(w);
}

static int worker_init(struct worker *w, const struct demo_config *cfg, int lfd,
                       struct demo_metrics *m)
{
    sigset_t set;

    w->cfg = cfg;
    w->m = m;
    w->lfd = lfd;
    w->pid = getpid();
    /* The master left SIGTERM and SIGINT blocked; they arrive here. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    w->conns = calloc(cfg->max_conns, sizeof(*w->conns));
    w->pfds = calloc(cfg->max_conns + 2, sizeof(*w->pfds));
    if (w->sigfd < 0)
        return -errno;
    return w->conns == NULL || w->pfds == NULL ? -ENOMEM : 0;
}

int worker_run(const struct demo_config *cfg, int lfd, struct demo_metrics *m,
               struct demo_balance *bal, unsigned index)
{
    struct worker w = {.bal = bal, .index = index};
    int rc = worker_init(&w, cfg, lfd, m);

    signal(SIGPIPE, SIG_IGN);
    while (rc == 0 && !(w.stopping && w.nconns == 0)) {
        int64_t now = demo_now_ms();
        nfds_t n = build_pollset(&w, now);
        if (poll(w.pfds, n, next_timeout(&w, now)) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        handle_events(&w, n);
    }
    if (rc < 0)
        fprintf(stderr, "shmetrics-demo: worker %d: %s\n", (int)w.pid, strerror(-rc));
    for (size_t i = 0; i < w.nconns; i++) {
        conn_close(w.conns[i]);
        conn_free(w.conns[i]);
    }
    free(w.conns);
    free(w.pfds);
    if (w.sigfd >= 0)
        close(w.sigfd);
    demo_metrics_close(m);
    return rc < 0 ? 1 : 0;
}
