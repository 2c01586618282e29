/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/net.c - see net.h. Name resolution (getaddrinfo) may block;
 * it runs once, at start-up, before the event loop exists, and is not
 * repeated while an address in use is waited for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "http/net.h"

int net_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(spec, ':'), *h = spec;
    size_t hn;
    char *end;
    unsigned long p;

    if (colon == NULL || colon[1] == '\0')
        return -EINVAL;
    hn = (size_t)(colon - spec);
    if (spec[0] == '[') { /* [v6]:port */
        if (hn < 3 || spec[hn - 1] != ']')
            return -EINVAL;
        h = spec + 1;
        hn -= 2;
    } else if (memchr(spec, ':', hn) != NULL) {
        return -EINVAL; /* a bare IPv6 address needs brackets */
    }
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (hn == 0 || hn >= hostlen || *end != '\0' || errno != 0 || p > 65535 || colon[1] < '0' ||
        colon[1] > '9' || strlen(colon + 1) >= portlen)
        return -EINVAL;
    memcpy(host, h, hn);
    host[hn] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

int net_endpoint(int fd, struct shmet__endpoint *e)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    memset(e, 0, sizeof(*e));
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        e->family = SHMET_LISTEN_IPV6;
        e->port = ntohs(a->sin6_port);
        memcpy(e->addr, &a->sin6_addr, 16);
        return 0;
    }
    if (ss.ss_family != AF_INET)
        return -EAFNOSUPPORT;
    const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
    e->family = SHMET_LISTEN_IPV4;
    e->port = ntohs(a->sin_port);
    memcpy(e->addr, &a->sin_addr, 4);
    return 0;
}

/* "a.b.c.d:port" or "[v6]:port" of a bound socket. */
static void sock_name(int fd, char *name, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(name, len, "?");
        return;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
        port = ntohs(a->sin6_port);
        snprintf(name, len, "[%s]:%u", addr, port);
        return;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
    port = ntohs(a->sin_port);
    snprintf(name, len, "%s:%u", addr, port);
}

static int bind_one(const struct addrinfo *ai)
{
    int type = ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC;
    int one = 1, fd = socket(ai->ai_family, type, ai->ai_protocol);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* One try over every address spec resolved to: a socket, or -EADDRINUSE
 * when at least one was in use (worth another try), else the last error. */
static int bind_any(const struct addrinfo *res)
{
    bool in_use = false;
    int fd = -EADDRNOTAVAIL;

    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = bind_one(ai)) >= 0)
            return fd;
        in_use = in_use || fd == -EADDRINUSE;
    }
    return in_use ? -EADDRINUSE : fd;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int pause_ms(const struct net_wait *w, uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    if (w->pause != NULL)
        return w->pause(w->arg, ms);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

/* The outcome of bind_waiting(), said once: fd, whether it waited (told),
 * for how long. */
static void report(const char *spec, int fd, bool told, uint64_t ms)
{
    if (fd >= 0 && told)
        log_info("%s is free after %llu ms", spec, (unsigned long long)ms);
    else if (fd == -EADDRINUSE && told)
        log_error("cannot listen on %s: %s, still after %llu ms: another program listens there "
                  "(ss -ltnp shows which)",
                  spec, strerror(EADDRINUSE), (unsigned long long)ms);
    else if (fd < 0)
        log_error("cannot listen on %s: %s", spec, strerror(-fd));
}

/* bind_any() until it is not refused with EADDRINUSE, or w gives up, or
 * w->max_ms went by (tag-listen-wait in net.h). */
static int bind_waiting(const char *spec, const struct addrinfo *res, const struct net_wait *w)
{
    uint64_t t0 = mono_ms(), waited = 0;
    uint32_t step = NET_WAIT_FIRST_MS, max = w != NULL ? w->max_ms : 0;
    bool told = false;
    int fd, rc;

    while ((fd = bind_any(res)) == -EADDRINUSE && (waited = mono_ms() - t0) < max) {
        if (w->in_use != NULL && (rc = w->in_use(w->arg)) < 0)
            return rc;
        if (!told)
            log_warn("%s is in use; waiting up to %u s for it to be released (a shmetricsd that "
                     "was just killed or crashed holds it until the kernel has closed its "
                     "io_uring; SO_REUSEADDR does not cover a listening socket)",
                     spec, (max + 999) / 1000);
        told = true;
        if ((rc = pause_ms(w, waited + step < max ? step : (uint32_t)(max - waited))) < 0)
            return rc;
        step = step * 2 < NET_WAIT_STEP_MAX_MS ? step * 2 : NET_WAIT_STEP_MAX_MS;
    }
    report(spec, fd, told, mono_ms() - t0);
    return fd;
}

int net_listen(const char *spec, const struct net_wait *w, char *name, size_t namelen)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char host[256], port[8];
    int fd, grc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (net_split(spec, host, sizeof(host), port, sizeof(port)) < 0) {
        log_error("--listen %s: expected ADDR:PORT", spec);
        return -EINVAL;
    }
    if ((grc = getaddrinfo(host, port, &hints, &res)) != 0) {
        log_error("--listen %s: %s", spec, gai_strerror(grc));
        return -EADDRNOTAVAIL;
    }
    fd = bind_waiting(spec, res, w);
    freeaddrinfo(res);
    if (fd < 0)
        return fd;
    sock_name(fd, name, namelen);
    return fd;
}
