/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_http.c - hostile HTTP clients against a
 * live shmetricsd while a producer thread of this process records without
 * pause:
 *   - 1000 slowloris connections (half send nothing, half dribble one
 *     header byte a round and never finish) are all held; then the
 *     connection limit is filled: the next client is answered 503, and
 *     once the 32 spare connections are taken too, the next one is closed
 *     unanswered (a refusal, never a hang);
 *   - garbage (control bytes, a TLS hello, NUL, a bare CR, a line without
 *     a colon, binary noise) is answered 400 and the connection closed;
 *   - heads over 8 KiB, sent whole or dribbled, are answered 431;
 *   - pipelined requests, more than the 8 KiB input buffer in one write,
 *     on one and on many connections, are all answered in order; a bad
 *     request among them ends the connection after its 400;
 *   - churn: thousands of connect/request/close, connect/close, half
 *     heads abandoned, replies never read;
 *   - with short --head-timeout-ms and --idle-timeout-ms, silent,
 *     dribbling, half-head and idle keep-alive connections are all closed
 *     by the server.
 * Throughout, a health check: the drain timer empties the producer's ring
 * with no scrape involved (polled with a deadline; the latency is printed,
 * never asserted), and a scrape is a complete 200 holding the exact total
 * of a counter this test adds to and at least the producer's latest
 * sequence number. After each test the daemon holds no connection (its
 * open sockets, read from /proc, come back to the listener alone).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_e2e.h"
#include "t_util.h"

#define NSLOW 1000      /* slowloris connections held */
#define MAX_CONNS 1100  /* the shared daemon's --max-connections */
#define REJECT_SPARE 32 /* LOOP_REJECT_SPARE in aggregator/loop.h */
#define NHELD (MAX_CONNS + REJECT_SPARE)
#define SLOW_ROUNDS 16 /* bytes each dribbler sends */
#define NGARBAGE 240   /* garbage connections */
#define NCHURN 2000    /* connections of each frequent churn kind */
#define NTIMEOUT 10    /* connections of each kind in the timeout test */
#define TIMEOUT_HEAD_MS "1000"
#define TIMEOUT_IDLE_MS "1500"

/* ACQUIRE: the producer's slot is only observed here; pairs with the
 * RELEASE stores of head (producer) and tail (aggregator), tag-ring-publish
 * in abi.h. */
#define LOAD(p) atomic_load_explicit((p), memory_order_acquire)

static struct t_daemon g_d;
static struct shmet__seg g_seg; /* read-only: the producer's ring */
static struct shmet_client *g_c;
static struct shmet_series g_ctl; /* recorded by the main thread only */
static double g_ctl_total;        /* what g_ctl must show */

static struct {
    pthread_t th;
    struct shmet_series seq; /* LAST gauge: the latest sequence number */
    _Atomic uint64_t last;   /* the latest sequence number set */
    _Atomic int32_t tid;
    _Atomic bool stop;
    struct shmet_abi_slot *slot;
} g_prod;

static struct {
    uint64_t checks, lat_sum_ms, lat_max_ms, answered, held;
} g_stats;

/* ---- the producer -------------------------------------------------------- */

static void *producer(void *arg)
{
    (void)arg;
    /* RELAXED: read by the main thread only after `last` is non-zero,
     * whose RELEASE store orders this one before it. */
    atomic_store_explicit(&g_prod.tid, shmet__gettid(), memory_order_relaxed);
    /* ACQUIRE: pairs with the RELEASE store of stop in main(). */
    for (uint64_t seq = 1; !atomic_load_explicit(&g_prod.stop, memory_order_acquire); seq++) {
        shmet_set(g_prod.seq, (double)seq);
        /* RELEASE: seq is recorded (its ring head published) before it is
         * announced; pairs with the ACQUIRE load in health_check(). */
        atomic_store_explicit(&g_prod.last, seq, memory_order_release);
        usleep(100);
    }
    return NULL;
}

/* The producer's slot in the segment, once it has recorded. */
static struct shmet_abi_slot *producer_slot(void)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int32_t tid;

    /* ACQUIRE: pairs with the RELEASE store in producer(). */
    while (atomic_load_explicit(&g_prod.last, memory_order_acquire) == 0 && t_now_ms() < end)
        usleep(1000);
    /* RELAXED: ordered by the ACQUIRE load of last above. */
    tid = atomic_load_explicit(&g_prod.tid, memory_order_relaxed);
    for (uint32_t i = 0; i < g_seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&g_seg, i);
        if (LOAD(&sl->state) == SHMET_SLOT_ACTIVE && LOAD(&sl->pid) == getpid() &&
            LOAD(&sl->tid) == tid)
            return sl;
    }
    return NULL;
}

/* ---- health -------------------------------------------------------------- */

/* The drain timer takes what the producer published, with no scrape. */
static void check_timer_drains(void)
{
    uint64_t t0 = t_now_ms(), head = LOAD(&g_prod.slot->head), lat;

    while (LOAD(&g_prod.slot->tail) < head && t_now_ms() - t0 < T_DEADLINE_MS)
        usleep(200);
    lat = t_now_ms() - t0;
    CU_ASSERT_TRUE(LOAD(&g_prod.slot->tail) >= head);
    g_stats.checks++;
    g_stats.lat_sum_ms += lat;
    if (lat > g_stats.lat_max_ms)
        g_stats.lat_max_ms = lat;
}

/* Add to the test's counter; the value a scrape must show from now on. */
static double ctl_add(void)
{
    double k = (double)(g_stats.checks % 7 + 1);

    shmet_add(g_ctl, k);
    g_ctl_total += k;
    return g_ctl_total;
}

/* A scrape on a new connection: a complete 200 (Content-Length bytes,
 * every line parsed) with the exact counter and the producer's progress. */
static void check_scrape(void)
{
    /* ACQUIRE: pairs with the RELEASE store in producer(): the gauge set
     * to seq is in the ring, so the scrape's drain finds it. */
    uint64_t seq = atomic_load_explicit(&g_prod.last, memory_order_acquire);
    double want = ctl_add();
    struct t_samples ss = {0};

    CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &ss), 0);
    g_stats.answered++;
    CU_ASSERT_EQUAL(t_samples_get(&ss, "t_fh_ctl_total"), want);
    CU_ASSERT_TRUE(t_samples_get(&ss, "t_fh_seq") >= (double)seq);
    CU_ASSERT_TRUE(t_samples_get(&ss, "shmetrics_producers") >= 2);
    t_samples_free(&ss);
}

static void health_check(void)
{
    check_timer_drains();
    check_scrape();
}

/* Sockets daemon d has open (its listener and connections), or -1. */
static int daemon_sockets(const struct t_daemon *d)
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
static int wait_sockets(const struct t_daemon *d, int want)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int n;

    while ((n = daemon_sockets(d)) != want && t_now_ms() < end)
        usleep(2000);
    return n;
}

/* After a test: every connection closed by the daemon too. */
static void expect_no_connections(void)
{
    CU_ASSERT_EQUAL(wait_sockets(&g_d, 1), 1); /* the listener */
}

/* ---- client helpers ------------------------------------------------------ */

/* 1: c is open with nothing to read; 0: closed (EOF or reset); 2: data. */
static int conn_state(struct t_http *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);

    if (n > 0)
        return 2;
    return (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? 1 : 0;
}

/* Send all of s in pieces of at most step bytes; a reset from the server
 * (which answers a refused head before reading it all) ends the send. */
static void send_pieces(struct t_http *c, const char *s, size_t n, size_t step)
{
    for (size_t off = 0; off < n; off += step)
        if (t_http_send(c, s + off, n - off < step ? n - off : step) < 0)
            return;
}

/* Read one response; expect status and a closing connection after it. */
static void expect_final(struct t_http *c, int status, bool head_only)
{
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(t_http_read(c, &r, head_only), 0);
    CU_ASSERT_EQUAL(r.status, status);
    CU_ASSERT_STRING_EQUAL(t_header(&r, "Connection"), "close");
    t_resp_free(&r);
    g_stats.answered++;
    CU_ASSERT_FALSE(t_http_fill(c)); /* then EOF: nothing more, no hang */
    CU_ASSERT_EQUAL(c->len, 0);
}

static const char healthz_close[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/* ---- slowloris and the connection limit ---------------------------------- */

/* Connections c[from..to) are open and silent. */
static int count_open(struct t_http *c, int from, int to)
{
    int n = 0;

    for (int i = from; i < to; i++)
        n += conn_state(&c[i]) == 1;
    return n;
}

/* Past the limit and the spare connections: closed with no answer. */
static void expect_refused_unanswered(const struct t_daemon *d)
{
    struct t_http p;
    char b;
    ssize_t n;

    CU_ASSERT_EQUAL_FATAL(t_http_open(&p, d->port, 0), 0);
    (void)t_http_send(&p, healthz_close, strlen(healthz_close));
    n = recv(p.fd, &b, 1, 0); /* blocks at most 10 s (SO_RCVTIMEO) */
    CU_ASSERT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)); /* not EAGAIN: a hang */
    t_http_close(&p);
}

/*
 * With c[0..from) open on d, each counted as a normal connection (d has
 * no other), open c[from..max): the next client is answered 503. Then
 * take the spare connections, c[max..max + REJECT_SPARE): the next client
 * is closed unanswered. Every step waits until d has accepted what was
 * opened, so each connection lands where the step expects.
 */
static void check_limit(const struct t_daemon *d, struct t_http *c, int from, int max)
{
    struct t_http probe;

    CU_ASSERT_EQUAL_FATAL(wait_sockets(d, 1 + from), 1 + from);
    for (int i = from; i < max; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d->port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(wait_sockets(d, 1 + max), 1 + max);
    CU_ASSERT_EQUAL_FATAL(t_http_open(&probe, d->port, 0), 0);
    CU_ASSERT_EQUAL(t_http_send(&probe, healthz_close, strlen(healthz_close)), 0);
    expect_final(&probe, 503, false);
    t_http_close(&probe);
    CU_ASSERT_EQUAL_FATAL(wait_sockets(d, 1 + max), 1 + max);
    for (int i = max; i < max + REJECT_SPARE; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], d->port, 0), 0);
    CU_ASSERT_EQUAL_FATAL(wait_sockets(d, 1 + max + REJECT_SPARE), 1 + max + REJECT_SPARE);
    expect_refused_unanswered(d);
    CU_ASSERT_EQUAL(count_open(c, 0, max + REJECT_SPARE), max + REJECT_SPARE);
}

static void slowloris_dribble(struct t_http *c, int round)
{
    static const char head[] = "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: ";

    _Static_assert(sizeof(head) > SLOW_ROUNDS, "one byte of the head a round");
    for (int i = 1; i < NSLOW; i += 2)
        CU_ASSERT_EQUAL(t_http_send(&c[i], &head[round], 1), 0);
}

static void test_fault_http_slowloris_and_limit(void)
{
    static struct t_http c[NHELD];

    for (int i = 0; i < NSLOW; i++)
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], g_d.port, 0), 0);
    for (int round = 0; round < SLOW_ROUNDS; round++) {
        slowloris_dribble(c, round);
        health_check();
    }
    g_stats.held = (uint64_t)count_open(c, 0, NSLOW);
    CU_ASSERT_EQUAL(g_stats.held, NSLOW);
    check_limit(&g_d, c, NSLOW, MAX_CONNS);
    for (int i = 0; i < NHELD; i++)
        t_http_close(&c[i]);
    expect_no_connections();
    health_check(); /* room again */
}

/* ---- garbage ------------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Garbage number i into buf (each kind is refused with 400); its length. */
static size_t make_garbage(int i, uint64_t *rng, char *buf, size_t cap)
{
#define BYTES(s)                                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
    static const struct {
        const char *s;
        size_t n;
    } fixed[] = {
        BYTES("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), /* a TLS ClientHello */
        BYTES("GET /metrics HTTP/1.1\r\nHost: t\r\nNo colon here\r\n"),
        BYTES("GET /metrics HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n"),
        BYTES("GET /metrics\x00 HTTP/1.1\r\nHost: t\r\n"),
        BYTES("GET  /metrics HTTP/1.1\r\nHost: t\r\n"),
        BYTES("GET /metrics HTTP/1.1\r\nHost: t\r\n folded\r\n"),
        BYTES("\xff\xfe\xfd\xfc GET / HTTP/1.1\r\n"),
        BYTES("SSH-2.0-OpenSSH_9.2\r\n"),
    };
#undef BYTES
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n;

    if ((size_t)i % (nfixed + 2) < nfixed) {
        n = fixed[(size_t)i % (nfixed + 2)].n;
        memcpy(buf, fixed[(size_t)i % (nfixed + 2)].s, n);
        return n;
    }
    n = 1 + xorshift(rng) % (cap - 1);
    for (size_t k = 0; k < n; k++)
        buf[k] = (char)(xorshift(rng) & 0xff);
    buf[0] = (i & 1) ? '\x01' : '\x7f'; /* a control byte: refused at once */
    return n;
}

static void test_fault_http_garbage(void)
{
    uint64_t rng = 0x9e3779b97f4a7c15u;
    char buf[4096];

    for (int i = 0; i < NGARBAGE; i++) {
        size_t n = make_garbage(i, &rng, buf, sizeof(buf));
        struct t_http c;
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
        send_pieces(&c, buf, n, (i % 3 == 0) ? 7 : n);
        send_pieces(&c, "\r\n\r\n", 4, 4);
        if (i % 4 == 3) { /* gone without reading the answer */
            t_http_close(&c);
            continue;
        }
        expect_final(&c, 400, false);
        t_http_close(&c);
        if (i % 40 == 0)
            health_check();
    }
    health_check();
    expect_no_connections();
}

/* ---- oversized heads ----------------------------------------------------- */

/* A head of exactly n bytes: one long header, or many short ones. */
static char *big_head(size_t n, bool many)
{
    static const char start[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n";
    char *h = malloc(n + 1);
    size_t off = strlen(start);

    memcpy(h, start, off);
    if (many) {
        while (off + 7 + 11 <= n) { /* room left for "X-Big: " and the end */
            memcpy(h + off, "A: bc\r\n", 7);
            off += 7;
        }
    }
    memcpy(h + off, "X-Big: ", 7);
    memset(h + off + 7, 'a', n - off - 7 - 4);
    memcpy(h + n - 4, "\r\n\r\n", 5);
    return h;
}

static void test_fault_http_oversized_heads(void)
{
    static const size_t sizes[] = {8193, 9000, 16384, 65536, 262144};
    static const size_t steps[] = {1u << 30, 1024, 100};

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]) * 2; k++) {
            char *h = big_head(sizes[i], k % 2 == 1);
            struct t_http c;
            if (steps[k / 2] == 100 && sizes[i] > 16384) {
                free(h); /* dribbling 100 bytes at a time: smaller heads suffice */
                continue;
            }
            CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
            send_pieces(&c, h, sizes[i], steps[k / 2]);
            expect_final(&c, 431, false);
            t_http_close(&c);
            free(h);
        }
        health_check();
    }
    expect_no_connections();
}

/* ---- pipelining ---------------------------------------------------------- */

enum pipe_kind { P_HEALTHZ, P_NOPE, P_HEAD_METRICS, P_METRICS, P_DEBUG, P_KINDS };

static const char *const pipe_req[P_KINDS] = {
    "GET /healthz HTTP/1.1\r\nHost: t\r\n",  "GET /nope HTTP/1.1\r\nHost: t\r\n",
    "HEAD /metrics HTTP/1.1\r\nHost: t\r\n", "GET /metrics HTTP/1.1\r\nHost: t\r\n",
    "GET /debug HTTP/1.1\r\nHost: t\r\n",
};

/* n requests cycling through the kinds from first, the last one closing. */
static char *pipeline(int n, int first, size_t *len)
{
    char *s = malloc((size_t)n * 64 + 64);

    *len = 0;
    for (int i = 0; i < n; i++)
        *len += (size_t)sprintf(s + *len, "%s%s\r\n", pipe_req[(first + i) % P_KINDS],
                                i == n - 1 ? "Connection: close\r\n" : "");
    return s;
}

/* Read the n replies of pipeline(n, first) in order; the count that were
 * exactly right. */
static int read_pipeline(struct t_http *c, int n, int first, double ctl)
{
    int good = 0;

    for (int i = 0; i < n; i++) {
        enum pipe_kind k = (enum pipe_kind)((first + i) % P_KINDS);
        struct t_samples ss = {0};
        struct t_resp r;
        bool ok;
        if (t_http_read(c, &r, k == P_HEAD_METRICS) < 0)
            return good;
        g_stats.answered++;
        ok = r.status == (k == P_NOPE ? 404 : 200);
        if (k == P_HEALTHZ)
            ok = ok && strcmp(r.body, "ok\n") == 0;
        else if (k == P_HEAD_METRICS)
            ok = ok && r.body_len == 0 && strtoull(t_header(&r, "Content-Length"), NULL, 10) > 0;
        else if (k == P_METRICS)
            ok = ok && t_samples_parse(r.body, &ss) == 0 &&
                 t_samples_get(&ss, "t_fh_ctl_total") == ctl;
        else if (k == P_DEBUG)
            ok = ok && r.body[0] == '{';
        ok = ok && strcmp(t_header(&r, "Connection"), i == n - 1 ? "close" : "keep-alive") == 0;
        good += ok;
        t_samples_free(&ss);
        t_resp_free(&r);
    }
    return good;
}

#define NPIPE_CONNS 16
#define NPIPE_REQS 60  /* per connection of the parallel part */
#define NPIPE_LONG 320 /* about 11 KiB of requests in one write */

static void test_fault_http_pipelined(void)
{
    static struct t_http c[NPIPE_CONNS];
    double ctl = ctl_add();
    size_t len;
    char *req = pipeline(NPIPE_LONG, 0, &len);

    CU_ASSERT_TRUE(len > 8192); /* more than the server's input buffer */
    CU_ASSERT_EQUAL_FATAL(t_http_open(&c[0], g_d.port, 0), 0);
    CU_ASSERT_EQUAL(t_http_send(&c[0], req, len), 0); /* one write */
    CU_ASSERT_EQUAL(read_pipeline(&c[0], NPIPE_LONG, 0, ctl), NPIPE_LONG);
    CU_ASSERT_FALSE(t_http_fill(&c[0])); /* closed after the last */
    t_http_close(&c[0]);
    free(req);
    health_check();
    /* Many connections at once, each written whole before any is read. */
    ctl = ctl_add();
    for (int i = 0; i < NPIPE_CONNS; i++) {
        req = pipeline(NPIPE_REQS, i, &len);
        CU_ASSERT_EQUAL_FATAL(t_http_open(&c[i], g_d.port, 0), 0);
        CU_ASSERT_EQUAL(t_http_send(&c[i], req, len), 0);
        free(req);
    }
    for (int i = 0; i < NPIPE_CONNS; i++) {
        CU_ASSERT_EQUAL(read_pipeline(&c[i], NPIPE_REQS, i, ctl), NPIPE_REQS);
        t_http_close(&c[i]);
    }
    health_check();
    expect_no_connections();
}

/* A malformed request among pipelined ones: answered 400, then the
 * connection ends; what followed it is never answered. */
static void test_fault_http_pipelined_bad_middle(void)
{
    const char *req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /he\x01lthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    struct t_http c;
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    CU_ASSERT_EQUAL(t_http_send(&c, req, strlen(req)), 0);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &r, false), 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_STRING_EQUAL(r.body, "ok\n");
        t_resp_free(&r);
        g_stats.answered++;
    }
    expect_final(&c, 400, false);
    t_http_close(&c);
    health_check();
    expect_no_connections();
}

/* ---- churn --------------------------------------------------------------- */

enum churn_kind {
    CH_REQUEST,    /* connect, request, read, close */
    CH_EMPTY,      /* connect, close */
    CH_HALF,       /* connect, half a head, close */
    CH_UNREAD,     /* connect, request, close without reading */
    CH_HALF_CLOSE, /* connect, request, shut down writing, read, close */
};

static void churn_one(enum churn_kind k)
{
    static const char half[] = "GET /metrics HTTP/1.1\r\nHo";
    static const char keep[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    struct t_http c;
    struct t_resp r;

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, g_d.port, 0), 0);
    if (k == CH_REQUEST || k == CH_UNREAD)
        CU_ASSERT_EQUAL(t_http_send(&c, healthz_close, strlen(healthz_close)), 0);
    if (k == CH_HALF)
        CU_ASSERT_EQUAL(t_http_send(&c, half, strlen(half)), 0);
    if (k == CH_HALF_CLOSE) {
        CU_ASSERT_EQUAL(t_http_send(&c, keep, strlen(keep)), 0);
        CU_ASSERT_EQUAL(shutdown(c.fd, SHUT_WR), 0);
    }
    if (k == CH_REQUEST || k == CH_HALF_CLOSE) {
        CU_ASSERT_EQUAL_FATAL(t_http_read(&c, &r, false), 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_STRING_EQUAL(r.body, "ok\n");
        t_resp_free(&r);
        g_stats.answered++;
        CU_ASSERT_FALSE(t_http_fill(&c)); /* closed: asked to, or EOF seen */
    }
    t_http_close(&c);
}

static void test_fault_http_churn(void)
{
    static const struct {
        enum churn_kind k;
        int n;
    } plan[] = {{CH_REQUEST, NCHURN},
                {CH_EMPTY, NCHURN},
                {CH_HALF, NCHURN / 4},
                {CH_UNREAD, NCHURN / 4},
                {CH_HALF_CLOSE, NCHURN / 4}};
    int done = 0;

    for (size_t p = 0; p < sizeof(plan) / sizeof(plan[0]); p++) {
        for (int i = 0; i < plan[p].n; i++) {
            churn_one(plan[p].k);
            if (++done % 500 == 0)
                health_check();
        }
    }
    health_check();
    expect_no_connections();
}

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
            if (conn_state(&c[i]) == 1)
                continue;
            CU_ASSERT_EQUAL(conn_state(&c[i]), 0); /* closed without a word */
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
    CU_ASSERT_FATAL(max >= 1 && max + REJECT_SPARE < 256);
    printf("(limit lowered to %d) ", max);
    c = calloc((size_t)max + REJECT_SPARE, sizeof(*c));
    check_limit(&d, c, 0, max);
    for (int i = 0; i < max + REJECT_SPARE; i++)
        t_http_close(&c[i]);
    free(c);
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_ns_cleanup(ns);
}

/* ---- set-up -------------------------------------------------------------- */

/* Room for NHELD connections and what the suite opens besides. */
static int raise_nofile(void)
{
    struct rlimit r;
    rlim_t want = NHELD + 256;

    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    if (r.rlim_cur >= want)
        return 0;
    r.rlim_cur = want;
    if (r.rlim_max < want)
        r.rlim_max = want; /* needs CAP_SYS_RESOURCE */
    return setrlimit(RLIMIT_NOFILE, &r);
}

static int setup_producer(void)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_family *fc, *fs;

    if (shmet_open(&o, &g_c) != 0 ||
        shmet_counter(g_c, "t_fh_ctl_total", "Added by the test.", NULL, &fc) != 0 ||
        shmet_gauge(g_c, "t_fh_seq", "Producer sequence.", NULL, SHMET_GAUGE_LAST, &fs) != 0 ||
        shmet_series_get(fc, NULL, &g_ctl) != 0 || shmet_series_get(fs, NULL, &g_prod.seq) != 0 ||
        shmet__seg_open(g_d.ns, NULL, SHMET_SEG_RDONLY, 0, &g_seg) != 0 ||
        pthread_create(&g_prod.th, NULL, producer, NULL) != 0)
        return -1;
    g_prod.slot = producer_slot();
    return g_prod.slot != NULL ? 0 : -1;
}

static void stop_producer(void)
{
    /* RELEASE: pairs with the ACQUIRE load in producer(). */
    atomic_store_explicit(&g_prod.stop, true, memory_order_release);
    pthread_join(g_prod.th, NULL);
    shmet__seg_close(&g_seg);
    shmet_close(g_c);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_http_slowloris_and_limit", test_fault_http_slowloris_and_limit},
        {"test_fault_http_garbage", test_fault_http_garbage},
        {"test_fault_http_oversized_heads", test_fault_http_oversized_heads},
        {"test_fault_http_pipelined", test_fault_http_pipelined},
        {"test_fault_http_pipelined_bad_middle", test_fault_http_pipelined_bad_middle},
        {"test_fault_http_churn", test_fault_http_churn},
        {"test_fault_http_timeouts_close_slowloris", test_fault_http_timeouts_close_slowloris},
        {"test_fault_http_nofile_below_max_connections",
         test_fault_http_nofile_below_max_connections},
    };
    char max[16];
    /* Long timeouts: the shared daemon must hold the slowloris
     * connections for the whole test, however slow the machine. */
    const char *extra[] = {
        "--max-connections", max, "--head-timeout-ms", "3600000", "--idle-timeout-ms",
        "3600000",           NULL};
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    snprintf(max, sizeof(max), "%d", MAX_CONNS);
    if (raise_nofile() != 0) {
        fprintf(stderr, "test_fault_http: cannot raise RLIMIT_NOFILE to %d: %s; skipped\n",
                NHELD + 256, strerror(errno));
        return 77;
    }
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "fh"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    if (setup_producer() != 0) {
        fprintf(stderr, "test_fault_http: the producer did not start\n");
        t_stop(&g_d);
        return 1;
    }
    rc = T_RUN("fault_http", tests);
    printf("fault_http: %llu connections held, %llu requests answered, drain after abuse: "
           "%llu checks, mean %.1f ms, max %llu ms\n",
           (unsigned long long)g_stats.held, (unsigned long long)g_stats.answered,
           (unsigned long long)g_stats.checks,
           g_stats.checks ? (double)g_stats.lat_sum_ms / (double)g_stats.checks : 0.0,
           (unsigned long long)g_stats.lat_max_ms);
    stop_producer();
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
