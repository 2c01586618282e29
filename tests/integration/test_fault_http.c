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
 *     heads abandoned, replies never read.
 * (Timeouts and a low open-file limit, which need daemons of their own,
 * are in test_fault_http_limits.)
 * Throughout, a health check: the drain timer empties the producer's ring
 * with no scrape involved (polled with a deadline; the latency is printed,
 * never asserted), and a scrape is a complete 200 holding the exact total
 * of a counter this test adds to and at least the producer's latest
 * sequence number. After each test the daemon holds no connection (its
 * open sockets, read from /proc, come back to the listener alone).
 */
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
#include "t_sockets.h"
#include "t_util.h"

#define NSLOW 1000      /* slowloris connections held */
#define MAX_CONNS 1100  /* the shared daemon's --max-connections */
#define NHELD (MAX_CONNS + T_REJECT_SPARE)
#define SLOW_ROUNDS 16 /* bytes each dribbler sends */
#define NGARBAGE 240   /* garbage connections */
#define NCHURN 2000    /* connections of each frequent churn kind */

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

/* After a test: every connection closed by the daemon too. */
static void expect_no_connections(void)
{
    CU_ASSERT_EQUAL(t_wait_sockets(&g_d, 1), 1); /* the listener */
}

/* ---- client helpers ------------------------------------------------------ */

/* Send all of s in pieces of at most step bytes; a reset from the server
 * (which answers a refused head before reading it all) ends the send. */
static void send_pieces(struct t_http *c, const char *s, size_t n, size_t step)
{
    for (size_t off = 0; off < n; off += step)
        if (t_http_send(c, s + off, n - off < step ? n - off : step) < 0)
            return;
}

/* A final answer, counted. */
static void expect_final(struct t_http *c, int status, bool head_only)
{
    t_expect_final(c, status, head_only);
    g_stats.answered++;
}

/* ---- slowloris and the connection limit ---------------------------------- */

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
    g_stats.held = (uint64_t)t_count_open(c, 0, NSLOW);
    CU_ASSERT_EQUAL(g_stats.held, NSLOW);
    t_check_limit(&g_d, c, NSLOW, MAX_CONNS);
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
        CU_ASSERT_EQUAL(t_http_send(&c, t_healthz_close, strlen(t_healthz_close)), 0);
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
