/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/daemon/t_daemon.c - see t_daemon.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_daemon.h"

/* ---- running the daemon -------------------------------------------------- */

uint64_t t_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *t_wrapper(void)
{
    const char *w = getenv(T_WRAPPER_ENV);

    return (w != NULL && w[strspn(w, " ")] != '\0') ? w : NULL;
}

unsigned t_scale(void)
{
    return t_wrapper() != NULL ? 10 : 1;
}

const char *t_bin_path(void)
{
    static char path[4096];
    const char *dir = getenv("SHMETRICS_BIN_DIR");

    snprintf(path, sizeof(path), "%s/shmetricsd", dir ? dir : "bin");
    return path;
}

/* Install a seccomp filter making io_uring_setup fail with EPERM. */
static int t_refuse_io_uring(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static unsigned t_nofile; /* for the next daemons; 0: inherited */

void t_daemon_nofile(unsigned n)
{
    t_nofile = n;
}

/* The words of $SHMETRICS_DAEMON_WRAPPER (split at spaces, in buf) then
 * the daemon and args, in argv[cap]. */
static void t_daemon_argv(const char *const *args, char *buf, size_t buflen, const char **argv,
                          size_t cap)
{
    const char *w = t_wrapper();
    size_t n = 0;

    if (w != NULL) {
        snprintf(buf, buflen, "%s", w);
        for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok != NULL && n < cap / 2;
             tok = strtok_r(NULL, " ", &save))
            argv[n++] = tok;
    }
    argv[n++] = t_bin_path();
    for (size_t i = 0; args[i] != NULL && n < cap - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
}

/* Fork and exec shmetricsd with argv (NULL-terminated, without argv[0]),
 * under $SHMETRICS_DAEMON_WRAPPER when set. Plain checks, no CUnit: a
 * test may start a daemon before CUnit runs. */
int t_spawn(struct t_daemon *d, const char *const *args, bool seccomp)
{
    static char words[4096];
    const char *argv[64];
    int out[2], err[2];

    t_daemon_argv(args, words, sizeof(words), argv, sizeof(argv) / sizeof(argv[0]));
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        return -1;
    d->pid = fork();
    if (d->pid < 0)
        return -1;
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (t_nofile > 0 && setrlimit(RLIMIT_NOFILE, &(struct rlimit){t_nofile, t_nofile}) != 0)
            _exit(126);
        if (seccomp && t_refuse_io_uring() != 0)
            _exit(77);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    d->out_fd = out[0];
    d->err_fd = err[0];
    d->port = -1;
    return 0;
}

const char *t_wait_line(int fd, const char *needle, char *buf, size_t len)
{
    uint64_t end = t_now_ms() + 10000 * t_scale();
    size_t n = 0;

    buf[0] = '\0';
    while (t_now_ms() < end && n < len - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        const char *hit = strstr(buf, needle);
        ssize_t r;
        if (hit != NULL && strchr(hit, '\n') != NULL)
            return hit;
        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((r = read(fd, buf + n, len - 1 - n)) <= 0)
            return NULL;
        n += (size_t)r;
        buf[n] = '\0';
    }
    return NULL;
}

/* Read the daemon's stdout until "listening on ADDR:PORT"; 0 or -1. */
static int t_wait_listening(struct t_daemon *d)
{
    char buf[4096];
    const char *line = t_wait_line(d->out_fd, "listening on ", buf, sizeof(buf));

    if (line == NULL)
        return -1;
    d->port = atoi(strrchr(strtok((char *)line, "\n"), ':') + 1);
    return 0;
}

int t_start(struct t_daemon *d, const char *ns, const char *const *extra)
{
    const char *args[24] = {"--ns", ns, "--listen", "127.0.0.1:0"};
    size_t n = 4;

    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    snprintf(d->ns, sizeof(d->ns), "%s", ns);
    if (t_spawn(d, args, false) < 0)
        return -1;
    return t_wait_listening(d);
}

int t_spawn_unwrapped(struct t_daemon *d, const char *const *args)
{
    static char saved[4096];
    const char *w = getenv(T_WRAPPER_ENV);
    int rc;

    if (w == NULL)
        return t_spawn(d, args, false);
    snprintf(saved, sizeof(saved), "%s", w);
    unsetenv(T_WRAPPER_ENV); /* for this spawn only: t_spawn() reads it */
    rc = t_spawn(d, args, false);
    setenv(T_WRAPPER_ENV, saved, 1);
    return rc;
}

int t_start_on(struct t_daemon *d, const char *ns, const char *listen, const char *const *extra,
               bool wrapped)
{
    const char *args[24] = {"--ns", ns, "--listen", listen};
    size_t n = 4;

    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    snprintf(d->ns, sizeof(d->ns), "%s", ns);
    if ((wrapped ? t_spawn(d, args, false) : t_spawn_unwrapped(d, args)) < 0)
        return -1;
    return t_wait_listening(d);
}

/* Wait up to ms for the daemon to exit; its wait status, or -1. */
int t_wait_exit(struct t_daemon *d, int ms)
{
    uint64_t end = t_now_ms() + (uint64_t)ms * t_scale();
    int st;

    while (t_now_ms() < end) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid)
            return st;
        usleep(5000);
    }
    return -1;
}

/* SIGTERM, then SIGKILL after 5 s. Returns the wait status (-1: killed
 * or not running). */
int t_stop(struct t_daemon *d)
{
    int st = -1;

    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        if ((st = t_wait_exit(d, 5000)) < 0) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
        }
    }
    close(d->out_fd);
    close(d->err_fd);
    d->pid = 0;
    return st;
}

int t_stop_stderr(struct t_daemon *d, char *err, size_t len)
{
    int st = -1;

    err[0] = '\0';
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        if ((st = t_wait_exit(d, 5000)) < 0) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
        }
        t_read_all(d->err_fd, err, len);
        d->pid = 0;
    }
    t_stop(d);
    return st;
}

/* Everything the daemon wrote to stderr (it has exited). */
void t_read_all(int fd, char *buf, size_t len)
{
    size_t n = 0;
    ssize_t r;

    while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
}

/* ---- a small HTTP client ------------------------------------------------- */

int t_http_open(struct t_http *c, int port, int rcvbuf)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};

    memset(c, 0, sizeof(*c));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return connect(c->fd, (struct sockaddr *)&a, sizeof(a));
}

void t_http_close(struct t_http *c)
{
    close(c->fd);
    free(c->in);
}

int t_http_send(struct t_http *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Receive more; false on EOF, error or timeout. */
bool t_http_fill(struct t_http *c)
{
    ssize_t n;

    if (c->cap - c->len < 65536) {
        c->cap = c->cap * 2 + 65536;
        c->in = realloc(c->in, c->cap);
        if (c->in == NULL)
            abort();
    }
    n = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

/* The value of header name in r (empty when absent). */
const char *t_header(const struct t_resp *r, const char *name)
{
    static char v[1024];
    const char *p = r->head;

    v[0] = '\0';
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ':') {
            const char *s = p + strlen(name) + 1, *e = strstr(s, "\r\n");
            while (*s == ' ')
                s++;
            snprintf(v, sizeof(v), "%.*s", (int)(e - s), s);
            break;
        }
    }
    return v;
}

/* Read one response; a HEAD response has no body. 0 or -1. */
int t_http_read(struct t_http *c, struct t_resp *r, bool head_only)
{
    char *end;
    size_t hl, bl;

    memset(r, 0, sizeof(*r));
    while ((end = c->len ? memmem(c->in, c->len, "\r\n\r\n", 4) : NULL) == NULL)
        if (!t_http_fill(c))
            return -1;
    hl = (size_t)(end - c->in) + 4;
    if (hl >= sizeof(r->head))
        return -1;
    memcpy(r->head, c->in, hl);
    r->head[hl] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    bl = head_only ? 0 : strtoull(t_header(r, "Content-Length"), NULL, 10);
    while (c->len < hl + bl)
        if (!t_http_fill(c))
            return -1;
    if ((r->body = malloc(bl + 1)) == NULL)
        abort();
    memcpy(r->body, c->in + hl, bl);
    r->body[bl] = '\0';
    r->body_len = bl;
    memmove(c->in, c->in + hl + bl, c->len - hl - bl);
    c->len -= hl + bl;
    return 0;
}

void t_resp_free(struct t_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* One request on a new connection. */
int t_roundtrip(int port, const char *req, struct t_resp *r, bool head_only)
{
    struct t_http c;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (t_http_open(&c, port, 0) == 0 && t_http_send(&c, req, strlen(req)) == 0)
        rc = t_http_read(&c, r, head_only);
    t_http_close(&c);
    return rc;
}
