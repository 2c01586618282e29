/* SPDX-License-Identifier: MIT */
/*
 * bench/daemon.c - see daemon.h. The daemon's stdout is a pipe read
 * until its "listening on ADDR:PORT" line; its stderr is ours, so its own
 * error messages reach the user. It dies with us (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "daemon.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define MAX_ARGS 32

/* <directory of /proc/self/exe>/shmetricsd */
static int daemon_path(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0)
        return -errno;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return -ENOENT;
    *slash = '\0';
    if ((size_t)snprintf(buf, len, "%s/shmetricsd", exe) >= len)
        return -ENAMETOOLONG;
    return 0;
}

static void child_exec(const char *path, char *const *argv, int out, int cpu)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0)
            _exit(127);
    }
    if (dup2(out, STDOUT_FILENO) < 0)
        _exit(127);
    execv(path, argv);
    /* Only async-signal-safe calls here: the parent may have threads. */
    static const char msg[] = "shmetrics-bench: cannot execute shmetricsd\n";
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(126);
    _exit(127);
}

static int spawn(struct bench_daemon *d, const char *path, const char *ns, const char *const *extra,
                 int cpu)
{
    const char *argv[MAX_ARGS] = {"shmetricsd", "--ns", ns, "--listen", "127.0.0.1:0"};
    size_t n = 5;
    int out[2];

    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (pipe2(out, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL); /* nothing buffered is written twice */
    d->pid = fork();
    if (d->pid < 0) {
        close(out[0]);
        close(out[1]);
        return -errno;
    }
    if (d->pid == 0)
        child_exec(path, (char *const *)argv, out[1], cpu);
    close(out[1]);
    d->out_fd = out[0];
    return 0;
}

/* Read its stdout until "listening on ADDR:PORT\n"; 0, or -ETIMEDOUT,
 * -ECHILD (it exited first). */
static int wait_listening(struct bench_daemon *d)
{
    char buf[4096];
    size_t len = 0;
    uint64_t end = bench_now_ns() + (uint64_t)START_TIMEOUT_MS * 1000000u;

    while (bench_now_ns() < end && len < sizeof(buf) - 1) {
        struct pollfd p = {d->out_fd, POLLIN, 0};
        char *line, *colon;
        ssize_t n;
        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((n = read(d->out_fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
            return -ECHILD;
        len += (size_t)n;
        buf[len] = '\0';
        if ((line = strstr(buf, "listening on ")) != NULL && strchr(line, '\n') != NULL) {
            *strchr(line, '\n') = '\0';
            if ((colon = strrchr(line, ':')) == NULL)
                return -EPROTO;
            d->port = atoi(colon + 1);
            return d->port > 0 ? 0 : -EPROTO;
        }
    }
    return -ETIMEDOUT;
}

int bench_daemon_start(struct bench_daemon *d, const char *ns, const char *const *extra)
{
    return bench_daemon_start_on(d, ns, extra, -1);
}

int bench_daemon_start_on(struct bench_daemon *d, const char *ns, const char *const *extra, int cpu)
{
    char path[PATH_MAX];
    int rc;

    memset(d, 0, sizeof(*d));
    d->out_fd = -1;
    if ((rc = daemon_path(path, sizeof(path))) < 0 || (rc = access(path, X_OK) ? -errno : 0) < 0) {
        fprintf(stderr, "shmetrics-bench: shmetricsd not found next to this program: %s\n",
                strerror(-rc));
        return rc;
    }
    if ((rc = spawn(d, path, ns, extra, cpu)) < 0) {
        fprintf(stderr, "shmetrics-bench: cannot start %s: %s\n", path, strerror(-rc));
        return rc;
    }
    if ((rc = wait_listening(d)) < 0) {
        fprintf(stderr, "shmetrics-bench: %s did not start (%s)\n", path, strerror(-rc));
        (void)bench_daemon_stop(d);
    }
    return rc;
}

static int http_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Read until the peer closes; a NUL-terminated malloc'd buffer. */
static int read_all(int fd, char **out)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap), *grown;
    ssize_t n;

    if (buf == NULL)
        return -ENOMEM;
    while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
        len += (size_t)n;
        if (cap - 1 - len == 0) {
            if ((grown = realloc(buf, cap * 2)) == NULL) {
                free(buf);
                return -ENOMEM;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (n < 0) {
        free(buf);
        return -errno;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int bench_daemon_get(const struct bench_daemon *d, const char *path, char **body)
{
    char req[512], *resp = NULL, *start;
    int fd, rc, status;
    int len = snprintf(req, sizeof(req),
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);

    if (len < 0 || (size_t)len >= sizeof(req))
        return -EINVAL;
    if ((fd = http_connect(d->port)) < 0)
        return fd;
    rc = write(fd, req, (size_t)len) == len ? read_all(fd, &resp) : -EIO;
    close(fd);
    if (rc < 0)
        return rc;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1 || (start = strstr(resp, "\r\n\r\n")) == NULL) {
        free(resp);
        return -EPROTO;
    }
    memmove(resp, start + 4, strlen(start + 4) + 1);
    *body = resp;
    return status;
}

int bench_daemon_totals(const struct bench_daemon *d, struct bench_daemon_totals *out)
{
    char *body;
    json_t *root, *agg;
    int status = bench_daemon_get(d, "/debug", &body), rc = -EPROTO;

    if (status < 0)
        return status;
    root = status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    agg = json_object_get(root, "aggregator");
    if (json_is_integer(json_object_get(agg, "samples_total")) &&
        json_is_integer(json_object_get(agg, "dropped_total")) &&
        json_is_integer(json_object_get(agg, "invalid_records_total"))) {
        out->samples = (uint64_t)json_integer_value(json_object_get(agg, "samples_total"));
        out->dropped = (uint64_t)json_integer_value(json_object_get(agg, "dropped_total"));
        out->invalid = (uint64_t)json_integer_value(json_object_get(agg, "invalid_records_total"));
        rc = 0;
    }
    json_decref(root);
    return rc;
}

int bench_daemon_stop(struct bench_daemon *d)
{
    int st = -1;
    pid_t w = 0;

    if (d->pid > 0) {
        uint64_t end = bench_now_ns() + (uint64_t)STOP_TIMEOUT_MS * 1000000u;
        kill(d->pid, SIGTERM);
        while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && bench_now_ns() < end)
            usleep(5000);
        if (w != d->pid) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            st = -1;
        }
    }
    if (d->out_fd >= 0)
        close(d->out_fd);
    d->pid = 0;
    d->out_fd = -1;
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
