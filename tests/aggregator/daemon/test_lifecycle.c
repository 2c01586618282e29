/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/daemon/test_lifecycle.c - the life of the shmetricsd process:
 * SIGHUP is logged and ignored (it keeps serving, and a later SIGTERM
 * still writes the checkpoint); a restart right after a SIGKILL, on the
 * same address and namespace, comes up (the dead daemon's io_uring may
 * keep its listening socket a moment); an address in use is waited for a
 * bounded time, awake to signals, and when a program keeps it the start
 * fails naming the address and leaves nothing behind (no segment, no
 * state file; an existing segment and checkpoint untouched), unless the
 * shmetricsd serving the namespace holds it (then it fails at once); and
 * --log-level chooses which lines reach stderr.
 *
 * Each daemon is spawned through t_daemon, so under memcheck
 * ($SHMETRICS_DAEMON_WRAPPER) every one of them is checked, except the
 * one the SIGKILL test kills: that one runs unwrapped, since memcheck
 * writes no summary for a killed process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_daemon.h"
#include "t_util.h"

/* How long shmetricsd waits for an address in use: the bound --help and
 * the README promise. */
#define WAIT_BOUND_MS 5000

/* ---- what a daemon wrote, kept whole -------------------------------------- */

/* Everything read so far from one of a daemon's pipes, so that lines
 * waited for are still there for the assertions at the end. */
struct out {
    char buf[65536];
    size_t len;
};

/* Complete lines of text holding needle. */
static int lines_with(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        if (strchr(p, '\n') != NULL)
            n++;
    return n;
}

/* Read fd into o until n complete lines hold needle: true, or false at EOF
 * or after ms (times t_scale()). */
static bool out_wait(struct out *o, int fd, const char *needle, int n, int ms)
{
    uint64_t end = t_now_ms() + (uint64_t)ms * t_scale();

    o->buf[o->len] = '\0';
    while (lines_with(o->buf, needle) < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (t_now_ms() >= end || o->len >= sizeof(o->buf) - 1)
            return false;
        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((r = read(fd, o->buf + o->len, sizeof(o->buf) - 1 - o->len)) <= 0)
            return false;
        o->len += (size_t)r;
        o->buf[o->len] = '\0';
    }
    return true;
}

/* The rest of fd (its writer has exited) into o. */
static void out_rest(struct out *o, int fd)
{
    t_read_all(fd, o->buf + o->len, sizeof(o->buf) - o->len);
    o->len += strlen(o->buf + o->len);
}

/* Every line is "shmetricsd: LEVEL: ...": one line per message. */
static bool all_leveled(const char *text)
{
    static const char *const prefixes[] = {"shmetricsd: error: ", "shmetricsd: warn: ",
                                           "shmetricsd: info: ", "shmetricsd: debug: "};

    for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
        bool ok = false;
        if (strchr(line, '\n') == NULL)
            return false; /* an unterminated line */
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
            ok = ok || strncmp(line, prefixes[i], strlen(prefixes[i])) == 0;
        if (!ok) {
            fprintf(stderr, "not a log line: %.*s\n", (int)(strchr(line, '\n') - line), line);
            return false;
        }
    }
    return true;
}

/* ---- sockets, files ------------------------------------------------------- */

/* A plain socket listening on 127.0.0.1:port (0: a free one), its port in
 * *bound: how another program holds an address. The socket, or -1. */
static int hold_port(int port, int *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* A port nothing listens on (taken by the kernel, then let go). */
static int free_port(void)
{
    int port = -1, fd = hold_port(0, &port);

    if (fd >= 0)
        close(fd);
    return port;
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void seg_path(const char *ns, char *buf, size_t len)
{
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(ns, buf, len), 0);
}

static void state_path(const char *ns, char *buf, size_t len)
{
    CU_ASSERT_EQUAL_FATAL(shmet__state_path(ns, buf, len), 0);
}

/* The whole file at path into buf (NUL-terminated): its size, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

/* GET path on a new connection: the status, or -1. */
static int get_status(int port, const char *path)
{
    char req[256];
    struct t_resp r;
    int status;

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (t_roundtrip(port, req, &r, false) != 0)
        return -1;
    status = r.status;
    t_resp_free(&r);
    return status;
}

/* SIGTERM, then the exit status (-1: no exit in time). */
static int term_wait(struct t_daemon *d)
{
    kill(d->pid, SIGTERM);
    return t_wait_exit(d, 5000);
}

static bool exited_with(int st, int code)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* Spawn shmetricsd --ns ns --listen 127.0.0.1:port. */
static void spawn_on(struct t_daemon *d, const char *ns, int port)
{
    char listen[64];
    const char *args[] = {"--ns", ns, "--listen", listen, NULL};

    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(d->ns, sizeof(d->ns), "%s", ns);
    CU_ASSERT_EQUAL_FATAL(t_spawn(d, args, false), 0);
}

/* ---- SIGHUP --------------------------------------------------------------- */

static void test_lifecycle_sighup_ignored(void)
{
    static struct out err;
    struct t_daemon d;
    char ns[64], state[512], want[600];
    int st;

    err.len = 0;
    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "lchup"), NULL), 0);
    state_path(ns, state, sizeof(state));
    CU_ASSERT_EQUAL(get_status(d.port, "/healthz"), 200);
    for (int i = 1; i <= 2; i++) { /* the second shows the signal read is armed again */
        CU_ASSERT_EQUAL_FATAL(kill(d.pid, SIGHUP), 0);
        CU_ASSERT_FATAL(out_wait(&err, d.err_fd, "shmetricsd: info: SIGHUP: ignored", i, 10000));
    }
    CU_ASSERT_EQUAL(waitpid(d.pid, &st, WNOHANG), 0); /* alive */
    CU_ASSERT_EQUAL(get_status(d.port, "/healthz"), 200);
    CU_ASSERT_EQUAL(get_status(d.port, "/metrics"), 200);
    CU_ASSERT_FALSE(exists(state));
    st = term_wait(&d);
    CU_ASSERT_TRUE(exited_with(st, 0));
    out_rest(&err, d.err_fd);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: info: SIGHUP: ignored"), 2);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: info: SIGTERM: stopping"), 1);
    snprintf(want, sizeof(want), "shmetricsd: info: wrote checkpoint %s\n", state);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, want));
    CU_ASSERT_TRUE(exists(state)); /* the checkpoint of the SIGTERM */
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 0);
    CU_ASSERT_TRUE(all_leveled(err.buf));
    d.pid = 0;
    t_stop(&d);
    t_ns_cleanup(ns);
}

/* ---- restart after SIGKILL ------------------------------------------------ */

/* Whether the second daemon had to wait is up to the kernel (how soon it
 * closes the dead one's io_uring); what it must do is not: come up on the
 * same address within the bound and serve, and say that it waited exactly
 * when it did. */
static void test_lifecycle_restart_after_sigkill(void)
{
    static struct out err;
    struct t_daemon a, b;
    char ns[64], listen[64], waitline[128], freeline[128];
    uint64_t t0, up_ms;
    int port = free_port(), st, waited;

    err.len = 0;
    CU_ASSERT_FATAL(port > 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    t_ns(ns, sizeof(ns), "lckill");
    CU_ASSERT_EQUAL_FATAL(t_start_on(&a, ns, listen, NULL, false), 0); /* killed: unwrapped */
    CU_ASSERT_EQUAL(a.port, port);
    CU_ASSERT_EQUAL(get_status(port, "/healthz"), 200);
    CU_ASSERT_EQUAL_FATAL(kill(a.pid, SIGKILL), 0);
    CU_ASSERT_EQUAL(waitpid(a.pid, &st, 0), a.pid);
    CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    a.pid = 0;
    t_stop(&a);

    t0 = t_now_ms();
    CU_ASSERT_EQUAL_FATAL(t_start_on(&b, ns, listen, NULL, true), 0);
    up_ms = t_now_ms() - t0;
    CU_ASSERT_EQUAL(b.port, port);
    CU_ASSERT_TRUE(up_ms < (uint64_t)(WAIT_BOUND_MS + 3000) * t_scale());
    CU_ASSERT_EQUAL(get_status(port, "/healthz"), 200);
    CU_ASSERT_EQUAL(get_status(port, "/metrics"), 200);
    CU_ASSERT_TRUE(exited_with(term_wait(&b), 0));
    out_rest(&err, b.err_fd);
    snprintf(waitline, sizeof(waitline), "shmetricsd: warn: %s is in use; waiting up to 5 s",
             listen);
    snprintf(freeline, sizeof(freeline), "shmetricsd: info: %s is free after ", listen);
    waited = lines_with(err.buf, waitline);
    CU_ASSERT_TRUE(waited == 0 || waited == 1);
    CU_ASSERT_EQUAL(lines_with(err.buf, freeline), waited);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 0);
    CU_ASSERT_TRUE(all_leveled(err.buf));
    fprintf(stderr, "(restart after SIGKILL: up in %llu ms, %s)\n", (unsigned long long)up_ms,
            waited ? "after waiting for the address" : "the address was free at once");
    b.pid = 0;
    t_stop(&b);
    t_ns_cleanup(ns);
}

/* ---- an address in use ---------------------------------------------------- */

/* Held at the start and let go while it waits: it comes up, having said
 * it waited and that the address is free; a SIGHUP meanwhile is ignored. */
static void test_lifecycle_waits_for_address(void)
{
    static struct out out, err;
    struct t_daemon d;
    char ns[64], waitline[128], freeline[128], listening[128];
    int port, hfd = hold_port(0, &port);

    out.len = err.len = 0;
    CU_ASSERT_FATAL(hfd >= 0);
    spawn_on(&d, t_ns(ns, sizeof(ns), "lcwait"), port);
    snprintf(waitline, sizeof(waitline),
             "shmetricsd: warn: 127.0.0.1:%d is in use; waiting up to 5 s", port);
    snprintf(freeline, sizeof(freeline), "shmetricsd: info: 127.0.0.1:%d is free after ", port);
    snprintf(listening, sizeof(listening), "listening on 127.0.0.1:%d\n", port);
    CU_ASSERT_FATAL(out_wait(&err, d.err_fd, waitline, 1, 10000));
    CU_ASSERT_EQUAL(kill(d.pid, SIGHUP), 0);
    CU_ASSERT(out_wait(&err, d.err_fd, "shmetricsd: info: SIGHUP: ignored", 1, 10000));
    close(hfd); /* well within the bound: two lines after the first try */
    CU_ASSERT_FATAL(out_wait(&out, d.out_fd, listening, 1, 10000));
    CU_ASSERT_EQUAL(get_status(port, "/healthz"), 200);
    CU_ASSERT_TRUE(exited_with(term_wait(&d), 0));
    out_rest(&err, d.err_fd);
    CU_ASSERT_EQUAL(lines_with(err.buf, waitline), 1);
    CU_ASSERT_EQUAL(lines_with(err.buf, freeline), 1);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 0);
    CU_ASSERT_TRUE(all_leveled(err.buf));
    d.pid = 0;
    t_stop(&d);
    t_ns_cleanup(ns);
}

/* Start on port, held by hold_fd all along: exit status 1 after waiting
 * the bound, naming the address, having printed nothing on stdout (no
 * segment created, not listening). Its stderr in err. */
static void start_refused(const char *ns, int port, struct out *err)
{
    static struct out out;
    struct t_daemon d;
    char want[160];
    uint64_t t0 = t_now_ms(), took;
    int st;

    out.len = err->len = 0;
    spawn_on(&d, ns, port);
    st = t_wait_exit(&d, WAIT_BOUND_MS + 10000);
    took = t_now_ms() - t0;
    CU_ASSERT_TRUE_FATAL(exited_with(st, 1));
    CU_ASSERT_TRUE(took >= WAIT_BOUND_MS - 100); /* it did wait for the address */
    CU_ASSERT_TRUE(took < (uint64_t)(WAIT_BOUND_MS + 5000) * t_scale());
    out_rest(err, d.err_fd);
    out_rest(&out, d.out_fd);
    snprintf(want, sizeof(want),
             "shmetricsd: error: cannot listen on 127.0.0.1:%d: Address already in use", port);
    CU_ASSERT_EQUAL(lines_with(err->buf, want), 1);
    snprintf(want, sizeof(want), "shmetricsd: warn: 127.0.0.1:%d is in use; waiting up to 5 s",
             port);
    CU_ASSERT_EQUAL(lines_with(err->buf, want), 1);
    CU_ASSERT_EQUAL(lines_with(err->buf, "shmetricsd: error: "), 1); /* that one only */
    CU_ASSERT_TRUE(all_leveled(err->buf));
    CU_ASSERT_STRING_EQUAL(out.buf, ""); /* no "created segment", no "listening on" */
    d.pid = 0;
    t_stop(&d);
}

static void test_lifecycle_address_taken_fresh_namespace(void)
{
    static struct out err;
    char ns[64], seg[512], state[512];
    int port, hfd = hold_port(0, &port);

    CU_ASSERT_FATAL(hfd >= 0);
    t_ns(ns, sizeof(ns), "lcfresh");
    seg_path(ns, seg, sizeof(seg));
    state_path(ns, state, sizeof(state));
    start_refused(ns, port, &err);
    CU_ASSERT_FALSE(exists(seg));
    CU_ASSERT_FALSE(exists(state));
    close(hfd);
    t_ns_cleanup(ns);
}

/* A segment and a checkpoint from an earlier graceful stop: the failed
 * start leaves both as they were, for the next start to take. */
static void test_lifecycle_address_taken_existing_namespace(void)
{
    static struct out err;
    static char before[65536], after[65536];
    struct t_daemon d;
    struct stat s0, s1;
    char ns[64], seg[512], state[512];
    ssize_t n0, n1;
    int port, hfd;

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "lcold"), NULL), 0);
    CU_ASSERT_TRUE(exited_with(t_stop(&d), 0));
    seg_path(ns, seg, sizeof(seg));
    state_path(ns, state, sizeof(state));
    CU_ASSERT_EQUAL_FATAL(stat(seg, &s0), 0);
    CU_ASSERT_FATAL((n0 = slurp(state, before, sizeof(before))) > 0);
    hfd = hold_port(0, &port);
    CU_ASSERT_FATAL(hfd >= 0);
    start_refused(ns, port, &err);
    CU_ASSERT_EQUAL_FATAL(stat(seg, &s1), 0);
    CU_ASSERT_EQUAL(s1.st_ino, s0.st_ino); /* the same file */
    CU_ASSERT_EQUAL(s1.st_size, s0.st_size);
    n1 = slurp(state, after, sizeof(after));
    CU_ASSERT_EQUAL(n1, n0);
    CU_ASSERT_TRUE(n1 == n0 && memcmp(before, after, (size_t)n0) == 0);
    close(hfd);
    t_ns_cleanup(ns);
}

/* The address is in use by the shmetricsd that serves the namespace:
 * waiting cannot help, so the second one says who serves it and gives up
 * without waiting; the first goes on serving. */
static void test_lifecycle_same_namespace_same_address(void)
{
    static struct out out, err;
    struct t_daemon a, b;
    char ns[64], listen[64], want[160];
    int port = free_port();

    out.len = err.len = 0;
    CU_ASSERT_FATAL(port > 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    CU_ASSERT_EQUAL_FATAL(t_start_on(&a, t_ns(ns, sizeof(ns), "lcsame"), listen, NULL, true), 0);
    spawn_on(&b, ns, port);
    CU_ASSERT_TRUE(exited_with(t_wait_exit(&b, WAIT_BOUND_MS + 10000), 1));
    out_rest(&err, b.err_fd);
    out_rest(&out, b.out_fd);
    snprintf(want, sizeof(want),
             "shmetricsd: error: another shmetricsd (pid %d) already serves namespace %s\n",
             (int)a.pid, ns);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, want));
    CU_ASSERT_EQUAL(lines_with(err.buf, "is in use; waiting"), 0); /* it did not wait */
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 1);
    CU_ASSERT_STRING_EQUAL(out.buf, "");
    CU_ASSERT_EQUAL(get_status(port, "/healthz"), 200); /* the first one, untouched */
    CU_ASSERT_TRUE(exited_with(term_wait(&a), 0));
    a.pid = b.pid = 0;
    t_stop(&a);
    t_stop(&b);
    t_ns_cleanup(ns);
}

/* A stop asked for while it waits: it stops at once, exit 0, nothing made. */
static void test_lifecycle_sigterm_while_waiting(void)
{
    static struct out err, out;
    struct t_daemon d;
    char ns[64], seg[512], state[512], waitline[128];
    int port, st, hfd = hold_port(0, &port);

    err.len = out.len = 0;
    CU_ASSERT_FATAL(hfd >= 0);
    spawn_on(&d, t_ns(ns, sizeof(ns), "lcterm"), port);
    seg_path(ns, seg, sizeof(seg));
    state_path(ns, state, sizeof(state));
    snprintf(waitline, sizeof(waitline),
             "shmetricsd: warn: 127.0.0.1:%d is in use; waiting up to 5 s", port);
    CU_ASSERT_FATAL(out_wait(&err, d.err_fd, waitline, 1, 10000));
    st = term_wait(&d);
    CU_ASSERT_TRUE(exited_with(st, 0));
    out_rest(&err, d.err_fd);
    out_rest(&out, d.out_fd);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: info: SIGTERM: stopping before serving"), 1);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 0);
    CU_ASSERT_STRING_EQUAL(out.buf, "");
    CU_ASSERT_FALSE(exists(seg));
    CU_ASSERT_FALSE(exists(state));
    close(hfd);
    d.pid = 0;
    t_stop(&d);
    t_ns_cleanup(ns);
}

/* ---- --log-level ---------------------------------------------------------- */

struct level_case {
    const char *level; /* NULL: the default */
    bool warn, info, debug;
};

/* One start and stop at c's level, on ns whose segment exists, with
 * --mode (which then cannot apply: a warning). */
static void check_level(const char *ns, const struct level_case *c)
{
    static struct out err;
    const char *extra[] = {"--mode", "0600", c->level ? "--log-level" : NULL, c->level, NULL};
    unsigned failures = CU_get_number_of_failures();
    struct t_daemon d;
    char serving[160];

    err.len = 0;
    CU_ASSERT_EQUAL_FATAL(t_start(&d, ns, extra), 0);
    CU_ASSERT_EQUAL(get_status(d.port, "/healthz"), 200);
    CU_ASSERT_TRUE(exited_with(term_wait(&d), 0));
    out_rest(&err, d.err_fd);
    snprintf(serving, sizeof(serving), "shmetricsd: info: serving namespace %s ", ns);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 0);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: warn: ") > 0, c->warn);
    CU_ASSERT_EQUAL(lines_with(err.buf, "--mode and --group apply only"), c->warn);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: info: ") > 0, c->info);
    CU_ASSERT_EQUAL(lines_with(err.buf, serving), c->info);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: info: SIGTERM: stopping"), c->info);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: debug: ") > 0, c->debug);
    CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: debug: io_uring: "), c->debug);
    CU_ASSERT_TRUE(all_leveled(err.buf));
    if (!c->warn)
        CU_ASSERT_STRING_EQUAL(err.buf, ""); /* error level, and no error */
    if (CU_get_number_of_failures() != failures)
        fprintf(stderr, "--log-level %s:\n%s", c->level ? c->level : "(default)", err.buf);
    d.pid = 0;
    t_stop(&d);
}

static void test_lifecycle_log_levels(void)
{
    static const struct level_case cases[] = {
        {"error", false, false, false}, {"warn", true, false, false},
        {"info", true, true, false},    {"debug", true, true, true},
        {NULL, true, true, false},
    };
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "lclevel");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_CREATE, 0660, &seg), 0);
    shmet__seg_close(&seg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_level(ns, &cases[i]);
    t_ns_cleanup(ns);
}

/* Run shmetricsd with args to its end: the exit status; what it wrote in
 * out and err. */
static int run_cli(const char *const *args, struct out *out, struct out *err)
{
    struct t_daemon d;
    int st;

    out->len = err->len = 0;
    CU_ASSERT_EQUAL_FATAL(t_spawn(&d, args, false), 0);
    st = t_wait_exit(&d, 5000);
    out_rest(out, d.out_fd);
    out_rest(err, d.err_fd);
    d.pid = 0;
    t_stop(&d);
    return (st >= 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static void test_lifecycle_log_level_bad(void)
{
    static struct out out, err;
    char ns[64], seg[512];
    const char *bad[][5] = {
        {"--ns", ns, "--log-level", "verbose", NULL},
        {"--ns", ns, "--log-level", "WARN", NULL},
        {"--ns", ns, "--log-level=", NULL},
        {"--ns", ns, "--log-level", NULL},
    };
    const char *help[] = {"--help", NULL};

    t_ns(ns, sizeof(ns), "lcbad");
    seg_path(ns, seg, sizeof(seg));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(run_cli(bad[i], &out, &err), 2);
        CU_ASSERT_EQUAL(lines_with(err.buf, "Try 'shmetricsd --help' for more information."), 1);
        CU_ASSERT_EQUAL(lines_with(err.buf, "shmetricsd: error: "), 1);
        CU_ASSERT_STRING_EQUAL(out.buf, "");
    }
    CU_ASSERT_EQUAL(run_cli(bad[0], &out, &err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, "shmetricsd: error: --log-level 'verbose': expected "
                                           "error, warn, info or debug\n"));
    CU_ASSERT_FALSE(exists(seg)); /* a usage error creates nothing */
    CU_ASSERT_EQUAL(run_cli(help, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "  --log-level LEVEL "));
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_lifecycle_sighup_ignored", test_lifecycle_sighup_ignored},
        {"test_lifecycle_restart_after_sigkill", test_lifecycle_restart_after_sigkill},
        {"test_lifecycle_waits_for_address", test_lifecycle_waits_for_address},
        {"test_lifecycle_address_taken_fresh_namespace",
         test_lifecycle_address_taken_fresh_namespace},
        {"test_lifecycle_address_taken_existing_namespace",
         test_lifecycle_address_taken_existing_namespace},
        {"test_lifecycle_same_namespace_same_address",
         test_lifecycle_same_namespace_same_address},
        {"test_lifecycle_sigterm_while_waiting", test_lifecycle_sigterm_while_waiting},
        {"test_lifecycle_log_levels", test_lifecycle_log_levels},
        {"test_lifecycle_log_level_bad", test_lifecycle_log_level_bad},
    };

    signal(SIGPIPE, SIG_IGN);
    if (access(t_bin_path(), X_OK) != 0) {
        fprintf(stderr, "%s: not found; set SHMETRICS_BIN_DIR\n", t_bin_path());
        return 77;
    }
    return T_RUN("lifecycle", tests);
}
