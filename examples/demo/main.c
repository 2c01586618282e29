/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/main.c - shmetrics-demo: the command line, the listening
 * socket and the metric families, all made in the master before any worker
 * is forked (master.c), which is the point of the demo: one client and one
 * set of families, shared by every worker through fork().
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "demo.h"

static const char usage_text[] =
    "Usage: shmetrics-demo [OPTIONS]\n"
    "\n"
    "A pre-fork HTTP/1.1 server that records the classic request metrics with\n"
    "shmetrics. The master process opens the listening socket and the metric\n"
    "families, then forks the workers, which all accept on that one socket and\n"
    "record into shared memory; shmetricsd, started with the same namespace,\n"
    "serves the merged metrics of every worker.\n"
    "\n"
    "Routes:\n"
    "  GET  /             200, a small HTML page\n"
    "  GET  /users/{id}   200 when id is a number, else 404\n"
    "  GET  /missing      404\n"
    "  GET  /error        500\n"
    "  GET  /slow?ms=N    200 after N ms (at most 5000; default --slow-ms)\n"
    "  POST /echo         200, the request body (at most 64 KiB, else 413)\n"
    "  GET  /healthz      200 \"ok\"; like /metrics and /favicon.ico, not recorded\n"
    "  anything else      404 (endpoint \"other\"); 405 for a known path with\n"
    "                     another method; HEAD is answered wherever GET is\n"
    "Every response names the worker that answered in an X-Worker header.\n"
    "\n"
    "Metrics (endpoint is the route template, e.g. /users/{id}, never the path):\n"
    "  http_requests_total{method,endpoint,status}      counter\n"
    "  http_request_duration_seconds{method,endpoint}   histogram: from a complete\n"
    "                                                   request to its response\n"
    "  http_requests_in_progress{endpoint}              gauge, summed over workers\n"
    "  http_request_size_bytes{method,endpoint}         histogram, head and body\n"
    "  http_response_size_bytes{method,endpoint}        histogram, head and body\n"
    "\n"
    "HTTP: keep-alive and pipelining; a request head may have 8 KiB (else 431), a\n"
    "body 64 KiB (else 413); chunked bodies get 501, malformed requests 400. A\n"
    "request whose head cannot be parsed (400, 431) is counted with method and\n"
    "endpoint \"other\".\n"
    "Connections spread evenly over the workers: a worker holding more than the\n"
    "average leaves new ones to the others.\n"
    "\n"
    "Options:\n"
    "  --ns NAME          shmetrics namespace (default: $SHMETRICS_NS, else\n"
    "                     \"default\")\n"
    "  --listen ADDR:PORT address to listen on (default 127.0.0.1:8080); port 0 picks\n"
    "                     a free port. IPv6 as [ADDR]:PORT\n"
    "  --workers N        worker processes, 1 to 256 (default 4)\n"
    "  --slow-ms N        how long /slow sleeps without ?ms=, 0 to 5000 (default 250)\n"
    "  --timeout S        close a connection idle, or with a request unfinished,\n"
    "                     for S seconds, 1 to 3600 (default 10)\n"
    "  --grace S          on stop, SIGKILL workers still running after S seconds,\n"
    "                     0 to 3600 (default 6)\n"
    "  --max-conns N      open connections per worker, 1 to 65536 (default 256)\n"
    "  -h, --help         show this text and exit\n"
    "  --version          show the version and exit\n"
    "\n"
    "Output: once listening, one line on stdout, \"listening on ADDR:PORT\" (the\n"
    "real port when 0 was asked for). Worker starts, deaths and restarts are\n"
    "logged on stderr.\n"
    "\n"
    "Signals: SIGTERM or SIGINT stop the server: the workers finish the requests\n"
    "in flight and exit; those still running after the grace period are killed;\n"
    "then the master exits 0. A second signal kills them at once. A worker that\n"
    "dies is restarted, after a back-off doubling from 0.1 s up to 10 s while\n"
    "workers die within a second of starting.\n"
    "\n"
    "Exit status: 0 after a stop by signal; 1 when the server cannot start (the\n"
    "address is in use, the segment cannot be opened); 2 on a usage error.\n"
    "\n"
    "Examples:\n"
    "  shmetricsd --ns web &\n"
    "  shmetrics-demo --ns web --workers 4 &\n"
    "  curl -s localhost:8080/users/42; curl -s localhost:9477/metrics | grep ^http_\n";

int64_t demo_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t demo_now_ms(void)
{
    return demo_now_ns() / 1000000;
}

/* A decimal in [lo, hi]. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* Bind and listen; returns the socket or a negative errno. */
static int open_listener(const char *addr)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char buf[300];
    const char *host, *port;
    int one = 1, fd, rc;

    if (demo_http_split_hostport(addr, buf, sizeof(buf), &host, &port) < 0)
        return -EINVAL;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        fd = rc;
    }
    freeaddrinfo(ai);
    return fd;
}

/* "listening on ADDR:PORT", with the port the kernel chose. */
static int print_listening(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN];
    unsigned port;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        printf("listening on [%s]:%u\n", host, port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        printf("listening on %s:%u\n", host, port);
    }
    return fflush(stdout) == 0 ? 0 : -EIO;
}

enum {
    OPT_NS = 256,
    OPT_LISTEN,
    OPT_WORKERS,
    OPT_SLOW,
    OPT_TIMEOUT,
    OPT_GRACE,
    OPT_CONNS,
    OPT_VERSION
};

static const struct option options[] = {
    {"ns", required_argument, NULL, OPT_NS},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"slow-ms", required_argument, NULL, OPT_SLOW},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"max-conns", required_argument, NULL, OPT_CONNS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* One option; returns 0, 1 for "exit 0 now", or -EINVAL. */
static int apply_option(int opt, const char *arg, struct demo_config *cfg)
{
    unsigned v;

    switch (opt) {
    case OPT_NS:
        cfg->ns = arg;
        return 0;
    case OPT_LISTEN:
        cfg->listen = arg;
        return 0;
    case OPT_WORKERS:
        return parse_uint(arg, 1, DEMO_WORKERS_MAX, &cfg->workers);
    case OPT_SLOW:
        return parse_uint(arg, 0, ROUTE_SLOW_MAX_MS, &cfg->slow_ms);
    case OPT_TIMEOUT:
        if (parse_uint(arg, 1, 3600, &v) < 0)
            return -EINVAL;
        cfg->timeout_ms = v * 1000;
        return 0;
    case OPT_GRACE:
        if (parse_uint(arg, 0, 3600, &v) < 0)
            return -EINVAL;
        cfg->grace_ms = v * 1000;
        return 0;
    case OPT_CONNS:
        return parse_uint(arg, 1, 65536, &cfg->max_conns);
    case 'h':
        fputs(usage_text, stdout);
        return 1;
    case OPT_VERSION:
        printf("shmetrics-demo %s\n", SHMET_VERSION);
        return 1;
    default:
        return -EINVAL;
    }
}

/* Returns 0 to run, 1 to exit 0 (help, version), 2 on a usage error. */
static int parse_args(int argc, char **argv, struct demo_config *cfg)
{
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        rc = apply_option(opt, optarg, cfg);
        if (rc == 1)
            return 1;
        if (rc < 0) {
            if (opt != '?')
                fprintf(stderr, "shmetrics-demo: bad value '%s' for --%s\n", optarg,
                        options[opt - OPT_NS].name);
            fprintf(stderr, "Try 'shmetrics-demo --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shmetrics-demo: unexpected argument '%s'\nTry 'shmetrics-demo --help'.\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct demo_config cfg = {.listen = "127.0.0.1:8080",
                              .workers = 4,
                              .slow_ms = 250,
                              .timeout_ms = 10000,
                              .grace_ms = 6000,
                              .max_conns = 256};
    struct demo_metrics *m;
    int rc, lfd;

    rc = parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    /* The socket first: a busy port should not leave a new segment behind. */
    lfd = open_listener(cfg.listen);
    if (lfd < 0) {
        fprintf(stderr, "shmetrics-demo: cannot listen on %s: %s\n", cfg.listen,
                lfd == -EINVAL ? "expected ADDR:PORT" : strerror(-lfd));
        return 1;
    }
    m = calloc(1, sizeof(*m));
    rc = m ? demo_metrics_open(m, cfg.ns) : -ENOMEM;
    if (rc < 0) {
        fprintf(stderr, "shmetrics-demo: cannot open namespace '%s': %s\n",
                cfg.ns ? cfg.ns : "(default)", shmet_strerror(rc));
        goto err_metrics;
    }
    rc = print_listening(lfd);
    if (rc < 0) {
        fprintf(stderr, "shmetrics-demo: %s\n", strerror(-rc));
        goto err_print;
    }
    rc = master_run(&cfg, lfd, m);
    demo_metrics_close(m);
    free(m);
    close(lfd);
    return rc;

err_print:
    demo_metrics_close(m);
err_metrics:
    free(m);
    close(lfd);
    return 1;
}
