/* SPDX-License-Identifier: MIT */
/*
 * tests/demo/test_demo.c - shmetrics-demo (examples/demo/) end to end without
 * an aggregator: the real binary on an ephemeral port and a namespace of
 * its own, a known set of requests over real sockets, then the segment
 * read with the reference consumer (tests/common/t_consumer.h). Checks the
 * exact counts per (method, endpoint, status), that histogram counts equal
 * request counts, that the in-progress gauge returns to 0, that no raw
 * path ever becomes a label value, keep-alive and pipelining, the restart
 * of a killed worker, and a clean stop on SIGTERM.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "shm.h"
#include "t_consumer.h"
#include "t_util.h"

#define MAX_PIDS 64
#define RESP_MAX 16384

static const char *const endpoints[] = {"/",     "/users/{id}", "/missing", "/error",
                                        "/slow", "/echo",       "other"};
#define NENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/* A running shmetrics-demo and our view of its segment. */
struct demo {
    pid_t pid;
    int port;
    int out_fd; /* its stdout */
    char ns[96];
    char errlog[128]; /* its stderr */
    struct shmet__seg seg;
    struct t_consumer *tc;
};

struct resp {
    int status;
    long worker; /* X-Worker */
    char body[RESP_MAX];
    size_t body_len;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Read "listening on 127.0.0.1:PORT" from the demo's stdout. */
static int read_port(int fd)
{
    char line[256];
    size_t len = 0;
    int port = -1;

    while (len < sizeof(line) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0 || read(fd, line + len, 1) != 1)
            return -1;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    if (sscanf(line, "listening on 127.0.0.1:%d", &port) != 1)
        return -1;
    return port;
}

static void spawn(struct demo *d, const char *workers, int pipe_w, int err_fd)
{
    const char *dir = getenv("SHMETRICS_BIN_DIR");
    char bin[512];

    snprintf(bin, sizeof(bin), "%s/shmetrics-demo", dir ? dir : ".");
    dup2(pipe_w, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execl(bin, "shmetrics-demo", "--ns", d->ns, "--listen", "127.0.0.1:0", "--workers", workers,
          "--grace", "3", "--slow-ms", "10", (char *)NULL);
    _exit(127);
}

static void start_demo(struct demo *d, const char *tag, const char *workers)
{
    const char *tmp = getenv("TMPDIR");
    int p[2], err_fd;

    memset(d, 0, sizeof(*d));
    t_ns(d->ns, sizeof(d->ns), tag);
    snprintf(d->errlog, sizeof(d->errlog), "%s/%s.stderr", tmp ? tmp : "/tmp", d->ns);
    err_fd = open(d->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CU_ASSERT_FATAL(err_fd >= 0);
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    d->pid = fork();
    CU_ASSERT_FATAL(d->pid >= 0);
    if (d->pid == 0)
        spawn(d, workers, p[1], err_fd);
    close(p[1]);
    close(err_fd);
    d->out_fd = p[0];
    d->port = read_port(d->out_fd);
    CU_ASSERT_FATAL(d->port > 0);
    CU_ASSERT_FATAL(shmet__seg_open(d->ns, NULL, 0, 0, &d->seg) == 0);
    d->tc = t_consumer_new(&d->seg);
}

/* SIGTERM, then the exit status (-1: still running after 15 s). */
static int stop_demo(struct demo *d)
{
    int st = 0;

    kill(d->pid, SIGTERM);
    for (int i = 0; i < 1500; i++) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid)
            return st;
        sleep_ms(10);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    return -1;
}

/* The demo's stderr has no sanitizer report, and contains want (if any). */
static void check_log(const struct demo *d, const char *want)
{
    static char log[1 << 16];
    FILE *f = fopen(d->errlog, "r");
    size_t n = f ? fread(log, 1, sizeof(log) - 1, f) : 0;

    if (f)
        fclose(f);
    log[n] = '\0';
    if (strstr(log, "Sanitizer") || strstr(log, "runtime error"))
        fprintf(stderr, "\n--- shmetrics-demo stderr ---\n%s\n", log);
    CU_ASSERT(strstr(log, "Sanitizer") == NULL);
    CU_ASSERT(strstr(log, "runtime error") == NULL);
    if (want)
        CU_ASSERT(strstr(log, want) != NULL);
}

static void end_demo(struct demo *d)
{
    t_consumer_free(d->tc);
    shmet__seg_close(&d->seg);
    close(d->out_fd);
    unlink(d->errlog);
    t_ns_cleanup(d->ns);
}

/* The live (not zombie) children of parent; returns how many. */
static int children_of(pid_t parent, pid_t *out, int max)
{
    DIR *dir = opendir("/proc");
    struct dirent *e;
    int n = 0;

    while (dir && (e = readdir(dir)) != NULL) {
        char path[300], buf[512], state;
        int ppid;
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
            fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent && state != 'Z' &&
            n < max)
            out[n++] = (pid_t)atoi(e->d_name);
    }
    if (dir)
        closedir(dir);
    return n;
}

/* Wait until parent has want live children; returns how many it has. */
static int wait_children(pid_t parent, pid_t *out, int want)
{
    int n = 0;

    for (int i = 0; i < 500 && (n = children_of(parent, out, MAX_PIDS)) != want; i++)
        sleep_ms(10);
    return n;
}

static int connect_port(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until EOF (or timeout); returns the bytes read. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* Parse one response at buf (Content-Length framed); returns its length,
 * or 0 if incomplete or malformed. */
static size_t parse_resp(const char *buf, size_t len, struct resp *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *h;
    size_t clen = 0, head;

    memset(r, 0, sizeof(*r));
    if (end == NULL || sscanf(buf, "HTTP/1.1 %d ", &r->status) != 1)
        return 0;
    head = (size_t)(end - buf) + 4;
    h = memmem(buf, head, "\r\nContent-Length: ", 18);
    if (h)
        clen = strtoul(h + 18, NULL, 10);
    h = memmem(buf, head, "\r\nX-Worker: ", 12);
    if (h)
        r->worker = strtol(h + 12, NULL, 10);
    if (strncmp(buf, "HTTP/1.1", 8) != 0 || head + clen > len || clen >= sizeof(r->body))
        return 0;
    memcpy(r->body, buf + head, clen);
    r->body_len = clen;
    return head + clen;
}

/* One request on a fresh connection (Connection: close). HEAD responses
 * carry a Content-Length but no body: parsed as if head only. */
static int request(const struct demo *d, const char *method, const char *path, const char *body,
                   struct resp *r)
{
    static char buf[RESP_MAX * 2];
    size_t blen = body ? strlen(body) : 0;
    int fd = connect_port(d->port), n;

    if (fd < 0)
        return -1;
    n = snprintf(buf, sizeof(buf),
                 "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: %zu\r\n"
                 "\r\n%s",
                 method, path, blen, body ? body : "");
    if (send_all(fd, buf, (size_t)n) < 0) {
        close(fd);
        return -1;
    }
    size_t len = read_all(fd, buf, sizeof(buf));
    close(fd);
    if (strcmp(method, "HEAD") == 0 && len > 0) {
        memset(r, 0, sizeof(*r));
        sscanf(buf, "HTTP/1.1 %d ", &r->status);
        return 0;
    }
    return parse_resp(buf, len, r) > 0 ? 0 : -1;
}

/* Raw bytes on a fresh connection; the status of the first response. */
static int raw_status(const struct demo *d, const char *data, size_t len)
{
    static char buf[RESP_MAX];
    int fd = connect_port(d->port), status = -1;

    if (fd < 0)
        return -1;
    if (send_all(fd, data, len) == 0 && read_all(fd, buf, sizeof(buf)) > 0)
        sscanf(buf, "HTTP/1.1 %d ", &status);
    close(fd);
    return status;
}

/* ---- what the segment holds ------------------------------------------ */

/* Every series label value defined in any slot's arena: calls fn with the
 * family name, the label name and the value. */
typedef void value_fn(const char *family, const char *label, const char *value);

struct fam_names {
    char name[SHMET_NAME_MAX + 1];
    char labels[SHMET_LABELS_MAX][SHMET_NAME_MAX + 1];
    uint16_t nlabels;
};

static void walk_slot(const struct shmet__seg *seg, uint32_t idx, value_fn *fn)
{
    static uint8_t buf[SHMET_DEF_MAX] __attribute__((aligned(8)));
    static struct fam_names fams[64];
    struct shmet__def_view v;
    uint64_t off = 0;
    uint64_t used = atomic_load(&shmet__slot(seg, idx)->arena_used);
    int rc;

    memset(fams, 0, sizeof(fams));
    while ((rc = shmet__arena_next(seg, idx, used, &off, buf, sizeof(buf), &v)) > 0) {
        if (v.kind == SHMET_DEF_FAMILY && v.id < 64) {
            struct fam_names *f = &fams[v.id];
            snprintf(f->name, sizeof(f->name), "%.*s", (int)v.name.len, v.name.ptr);
            f->nlabels = v.nlabels;
            for (uint16_t i = 0; i < v.nlabels; i++)
                snprintf(f->labels[i], sizeof(f->labels[i]), "%.*s", (int)v.labels[i].len,
                         v.labels[i].ptr);
        } else if (v.kind == SHMET_DEF_SERIES && v.family < 64) {
            const struct fam_names *f = &fams[v.family];
            for (uint16_t i = 0; i < v.nlabels && i < f->nlabels; i++) {
                char value[1100];
                snprintf(value, sizeof(value), "%.*s", (int)v.labels[i].len, v.labels[i].ptr);
                fn(f->name, f->labels[i], value);
            }
        }
    }
    CU_ASSERT(rc == 0);
}

static void walk_values(const struct shmet__seg *seg, value_fn *fn)
{
    for (uint32_t i = 0; i < seg->slots; i++)
        if (atomic_load(&shmet__slot(seg, i)->generation) != 0)
            walk_slot(seg, i, fn);
}

static unsigned values_seen;

/* No raw path is a label value; every endpoint is a route template. */
static void check_value(const char *family, const char *label, const char *value)
{
    bool known = false;

    (void)family;
    values_seen++;
    CU_ASSERT(strstr(value, "/users/") == NULL || strcmp(value, "/users/{id}") == 0);
    CU_ASSERT(strncmp(value, "/nope", 5) != 0);
    CU_ASSERT(strstr(value, "?") == NULL);
    CU_ASSERT(strcmp(value, "/healthz") != 0 && strcmp(value, "/metrics") != 0 &&
              strcmp(value, "/favicon.ico") != 0);
    /* Each family also defines its overflow series, labelled __overflow__. */
    if (strcmp(label, "endpoint") != 0 || strcmp(value, "__overflow__") == 0)
        return;
    for (size_t i = 0; i < NENDPOINTS; i++)
        known = known || strcmp(value, endpoints[i]) == 0;
    if (!known)
        fprintf(stderr, "unexpected endpoint label value '%s'\n", value);
    CU_ASSERT(known);
}

/* Drain, then: in-progress back to 0 everywhere, no invalid records, no
 * raw path among the label values. */
static void check_segment(struct demo *d)
{
    t_consumer_drain(d->tc);
    CU_ASSERT_EQUAL(t_invalid(d->tc), 0);
    for (size_t i = 0; i < NENDPOINTS; i++)
        CU_ASSERT_DOUBLE_EQUAL(t_gauge_sum(d->tc, "http_requests_in_progress", endpoints[i]), 0,
                               1e-9);
    values_seen = 0;
    walk_values(&d->seg, check_value);
    CU_ASSERT(values_seen > 0);
}

/* The three histograms of method|endpoint hold n observations each. */
static void check_hists(struct demo *d, const char *me, uint64_t n)
{
    CU_ASSERT_EQUAL(t_hist_count(d->tc, "http_request_duration_seconds", me), n);
    CU_ASSERT_EQUAL(t_hist_count(d->tc, "http_request_size_bytes", me), n);
    CU_ASSERT_EQUAL(t_hist_count(d->tc, "http_response_size_bytes", me), n);
}

/* ---- tests -------------------------------------------------------------- */

/* The known set of requests: path sent, labels expected (endpoint NULL:
 * not recorded). */
static const struct plan {
    const char *method, *path, *body;
    int status;
    const char *endpoint;
    int times;
} plan[] = {
    {"GET", "/", NULL, 200, "/", 3},
    {"HEAD", "/", NULL, 200, "/", 1},
    {"POST", "/", "x", 405, "/", 1},
    {"GET", "/users/42", NULL, 200, "/users/{id}", 4},
    {"GET", "/users/7", NULL, 200, "/users/{id}", 1},
    {"GET", "/users/abc", NULL, 404, "/users/{id}", 2},
    {"GET", "/missing", NULL, 404, "/missing", 2},
    {"GET", "/error", NULL, 500, "/error", 3},
    {"GET", "/slow?ms=20", NULL, 200, "/slow", 2},
    {"POST", "/echo", "hello", 200, "/echo", 2},
    {"GET", "/nope/1", NULL, 404, "other", 1},
    {"GET", "/nope/2?x=1", NULL, 404, "other", 1},
    {"GET", "/healthz", NULL, 200, NULL, 2},
    {"GET", "/metrics", NULL, 200, NULL, 1},
    {"GET", "/favicon.ico", NULL, 204, NULL, 1},
};
#define NPLAN (sizeof(plan) / sizeof(plan[0]))

static void send_plan(struct demo *d)
{
    struct resp r;

    for (size_t i = 0; i < NPLAN; i++) {
        for (int k = 0; k < plan[i].times; k++) {
            CU_ASSERT_EQUAL_FATAL(request(d, plan[i].method, plan[i].path, plan[i].body, &r), 0);
            if (r.status != plan[i].status)
                fprintf(stderr, "%s %s: %d\n", plan[i].method, plan[i].path, r.status);
            CU_ASSERT_EQUAL(r.status, plan[i].status);
            if (strcmp(plan[i].path, "/echo") == 0)
                CU_ASSERT(r.body_len == 5 && memcmp(r.body, "hello", 5) == 0);
            if (strcmp(plan[i].path, "/users/42") == 0)
                CU_ASSERT(strstr(r.body, "\"id\":42") != NULL);
        }
    }
}

/* Expected count of one (method, endpoint[, status]) from the plan. */
static int plan_count(const char *method, const char *endpoint, int status)
{
    int n = 0;

    for (size_t i = 0; i < NPLAN; i++)
        if (plan[i].endpoint && strcmp(plan[i].method, method) == 0 &&
            strcmp(plan[i].endpoint, endpoint) == 0 && (status == 0 || plan[i].status == status))
            n += plan[i].times;
    return n;
}

static void check_plan_counts(struct demo *d)
{
    char key[128];

    for (size_t i = 0; i < NPLAN; i++) {
        if (plan[i].endpoint == NULL)
            continue;
        snprintf(key, sizeof(key), "%s|%s|%d", plan[i].method, plan[i].endpoint, plan[i].status);
        int want = plan_count(plan[i].method, plan[i].endpoint, plan[i].status);
        if (t_counter(d->tc, "http_requests_total", key) != want)
            fprintf(stderr, "%s: %g, expected %d\n", key,
                    t_counter(d->tc, "http_requests_total", key), want);
        CU_ASSERT_DOUBLE_EQUAL(t_counter(d->tc, "http_requests_total", key), want, 1e-9);
        snprintf(key, sizeof(key), "%s|%s", plan[i].method, plan[i].endpoint);
        check_hists(d, key, (uint64_t)plan_count(plan[i].method, plan[i].endpoint, 0));
    }
}

/* Every series of http_requests_total is one the plan expects. */
static void check_no_extra_series(struct demo *d)
{
    double total = 0;
    int want = 2; /* the two garbage requests */

    for (size_t i = 0; i < NPLAN; i++)
        want += plan[i].endpoint ? plan[i].times : 0;
    for (size_t i = 0; i < NPLAN; i++) {
        char key[128];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (plan[j].endpoint && plan[i].endpoint &&
                          strcmp(plan[j].method, plan[i].method) == 0 &&
                          strcmp(plan[j].endpoint, plan[i].endpoint) == 0 &&
                          plan[j].status == plan[i].status);
        if (plan[i].endpoint == NULL || dup)
            continue;
        snprintf(key, sizeof(key), "%s|%s|%d", plan[i].method, plan[i].endpoint, plan[i].status);
        total += t_counter(d->tc, "http_requests_total", key);
    }
    total += t_counter(d->tc, "http_requests_total", "other|other|400");
    CU_ASSERT_DOUBLE_EQUAL(total, want, 1e-9);
}

static void test_demo_counts_exact(void)
{
    static const char garbage[] = "GARBAGE\r\n\r\n";
    static const char binary[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03";
    struct demo d;

    start_demo(&d, "demo_counts", "3");
    send_plan(&d);
    CU_ASSERT_EQUAL(raw_status(&d, garbage, sizeof(garbage) - 1), 400);
    CU_ASSERT_EQUAL(raw_status(&d, binary, sizeof(binary) - 1), 400);

    check_segment(&d);
    check_plan_counts(&d);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "other|other|400"), 2, 1e-9);
    check_hists(&d, "other|other", 2);
    check_no_extra_series(&d);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/users/42|200"), 0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/healthz|200"), 0, 1e-9);
    /* /slow?ms=20 twice: at least 40 ms in all, well under a second. */
    CU_ASSERT(t_hist_sum(d.tc, "http_request_duration_seconds", "GET|/slow") >= 0.040);
    CU_ASSERT(t_hist_sum(d.tc, "http_request_duration_seconds", "GET|/slow") < 2.0);
    /* 20 ms is never in the first bucket, (0, 0.01]; how far above it
     * depends on how busy the machine is. */
    CU_ASSERT_EQUAL(t_hist_bucket(d.tc, "http_request_duration_seconds", "GET|/slow", 0), 0);
    /* POST /echo "hello": the request is bigger than its 5-byte body. */
    CU_ASSERT(t_hist_sum(d.tc, "http_request_size_bytes", "POST|/echo") > 2 * 5);

    CU_ASSERT_EQUAL(stop_demo(&d), 0);
    check_log(&d, NULL);
    end_demo(&d);
}

/* /slow?ms=1 never answers before a whole millisecond has passed: the
 * delay is counted from the instant the request was read, not from the
 * start of that millisecond. Thirty connections to one worker, each sent
 * its request 0.2 ms after the last, so the worker wakes often while the
 * others wait: a timer rounded down to the millisecond fires early on one
 * of those wake-ups and records well under 30 ms in all. */
static void test_demo_slow_never_early(void)
{
    enum { N = 30 };
    static const char req[] = "GET /slow?ms=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    static char buf[RESP_MAX];
    struct demo d;
    struct resp r;
    int fds[N];

    start_demo(&d, "demo_slow", "1");
    for (int i = 0; i < N; i++) {
        fds[i] = connect_port(d.port);
        CU_ASSERT_FATAL(fds[i] >= 0);
    }
    for (int i = 0; i < N; i++) {
        CU_ASSERT_FATAL(send_all(fds[i], req, sizeof(req) - 1) == 0);
        usleep(200);
    }
    for (int i = 0; i < N; i++) {
        size_t len = read_all(fds[i], buf, sizeof(buf));
        CU_ASSERT(parse_resp(buf, len, &r) > 0 && r.status == 200);
        close(fds[i]);
    }
    t_consumer_drain(d.tc);
    CU_ASSERT_EQUAL(t_hist_count(d.tc, "http_request_duration_seconds", "GET|/slow"), N);
    double sum = t_hist_sum(d.tc, "http_request_duration_seconds", "GET|/slow");
    if (sum < N * 0.001)
        fprintf(stderr, "%d x /slow?ms=1 recorded %.6f s\n", N, sum);
    CU_ASSERT(sum >= N * 0.001);

    CU_ASSERT_EQUAL(stop_demo(&d), 0);
    check_log(&d, NULL);
    end_demo(&d);
}

/* Three requests on one connection, the last two pipelined in one write:
 * answered in order, by the same worker, each counted once. */
static void test_demo_keepalive_pipelined(void)
{
    static char buf[RESP_MAX];
    static const char first[] = "GET /users/1 HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char rest[] = "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                               "GET /error HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    struct demo d;
    struct resp r1, r2, r3;
    size_t len = 0, used;
    ssize_t n;

    start_demo(&d, "demo_keepalive", "2");
    int fd = connect_port(d.port);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(send_all(fd, first, sizeof(first) - 1) == 0);
    while ((used = parse_resp(buf, len, &r1)) == 0 && (n = read(fd, buf + len, 512)) > 0)
        len += (size_t)n;
    CU_ASSERT_FATAL(used == len);
    CU_ASSERT_EQUAL(r1.status, 200);
    CU_ASSERT_FATAL(send_all(fd, rest, sizeof(rest) - 1) == 0);
    len = read_all(fd, buf, sizeof(buf)); /* until the server closes */
    close(fd);
    used = parse_resp(buf, len, &r2);
    CU_ASSERT_FATAL(used > 0);
    CU_ASSERT_FATAL(parse_resp(buf + used, len - used, &r3) == len - used);
    CU_ASSERT_EQUAL(r2.status, 404);
    CU_ASSERT_EQUAL(r3.status, 500);
    CU_ASSERT(r1.worker > 0 && r1.worker == r2.worker && r2.worker == r3.worker);

    check_segment(&d);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/users/{id}|200"), 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/missing|404"), 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/error|500"), 1, 1e-9);
    CU_ASSERT_EQUAL(stop_demo(&d), 0);
    check_log(&d, NULL);
    end_demo(&d);
}

static bool in(pid_t p, const pid_t *set, int n)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p)
            return true;
    return false;
}

/* SIGKILL a worker: the master forks a new one, which serves, and the
 * counts of the dead and the new worker add up exactly. */
static void test_demo_worker_restart(void)
{
    pid_t before[MAX_PIDS], after[MAX_PIDS], fresh = 0;
    struct demo d;
    struct resp r;
    int sent = 0;

    start_demo(&d, "demo_restart", "2");
    CU_ASSERT_FATAL(wait_children(d.pid, before, 2) == 2);
    CU_ASSERT_FATAL(request(&d, "GET", "/users/1", NULL, &r) == 0);
    sent++;
    CU_ASSERT_FATAL(in((pid_t)r.worker, before, 2));
    CU_ASSERT_FATAL(kill((pid_t)r.worker, SIGKILL) == 0);

    for (int i = 0; i < 500 && fresh == 0; i++) {
        int n = children_of(d.pid, after, MAX_PIDS);
        for (int k = 0; k < n && n == 2; k++)
            if (!in(after[k], before, 2))
                fresh = after[k];
        if (fresh == 0)
            sleep_ms(10);
    }
    CU_ASSERT_FATAL(fresh > 0);
    CU_ASSERT(!in((pid_t)r.worker, after, 2));

    /* Fresh connections until the new worker takes one. */
    long served_by_fresh = 0;
    for (int i = 0; i < 400 && served_by_fresh < 3; i++) {
        CU_ASSERT_FATAL(request(&d, "GET", "/users/2", NULL, &r) == 0);
        CU_ASSERT_EQUAL(r.status, 200);
        sent++;
        served_by_fresh += r.worker == fresh;
    }
    CU_ASSERT(served_by_fresh == 3);

    check_segment(&d);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/users/{id}|200"), sent,
                           1e-9);
    check_hists(&d, "GET|/users/{id}", (uint64_t)sent);
    CU_ASSERT_EQUAL(stop_demo(&d), 0);
    check_log(&d, "killed by signal 9");
    end_demo(&d);
}

/* SIGTERM while a request is in flight: it is answered, the master exits
 * 0, no worker outlives it, and the port is closed. */
static void test_demo_sigterm(void)
{
    static const char slow[] = "GET /slow?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n";
    static char buf[RESP_MAX];
    pid_t workers[MAX_PIDS];
    struct demo d;
    struct resp r;
    int st = 0;

    start_demo(&d, "demo_sigterm", "2");
    CU_ASSERT_FATAL(wait_children(d.pid, workers, 2) == 2);
    int fd = connect_port(d.port);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(send_all(fd, slow, sizeof(slow) - 1) == 0);
    /* Wait until a worker has taken the request and is sleeping in it (its
     * in-progress gauge says so), however slow the machine: only then is
     * the stop "during an in-flight request". */
    double busy = 0;
    for (int i = 0; i < 1000 && busy != 1; i++) {
        t_consumer_drain(d.tc);
        busy = t_gauge_sum(d.tc, "http_requests_in_progress", "/slow");
        if (busy != 1)
            sleep_ms(10);
    }
    CU_ASSERT_FATAL(busy == 1);
    CU_ASSERT_FATAL(kill(d.pid, SIGTERM) == 0);
    size_t len = read_all(fd, buf, sizeof(buf)); /* the server closes after it */
    close(fd);
    CU_ASSERT(parse_resp(buf, len, &r) == len);
    CU_ASSERT_EQUAL(r.status, 200);

    for (int i = 0; i < 1000 && waitpid(d.pid, &st, WNOHANG) == 0; i++)
        sleep_ms(10);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < 2; i++)
        CU_ASSERT(kill(workers[i], 0) == -1 && errno == ESRCH);
    CU_ASSERT(connect_port(d.port) < 0);

    check_segment(&d);
    CU_ASSERT_DOUBLE_EQUAL(t_counter(d.tc, "http_requests_total", "GET|/slow|200"), 1, 1e-9);
    check_log(&d, "stopped");
    end_demo(&d);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_demo_counts_exact", test_demo_counts_exact},
        {"test_demo_slow_never_early", test_demo_slow_never_early},
        {"test_demo_keepalive_pipelined", test_demo_keepalive_pipelined},
        {"test_demo_worker_restart", test_demo_worker_restart},
        {"test_demo_sigterm", test_demo_sigterm},
    };

    signal(SIGPIPE, SIG_IGN);
    return T_RUN("demo", tests);
}
