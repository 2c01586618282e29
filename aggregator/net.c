/* SPDX-License-Identifier: MIT */
/*
 * aggregator/net.c - see net.h. Name resolution (getaddrinfo) may block;
 * it runs once, at start-up, before the event loop exists.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

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

int net_listen(const char *spec, char *name, size_t namelen)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    char host[256], port[8];
    int fd = -EADDRNOTAVAIL, grc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (net_split(spec, host, sizeof(host), port, sizeof(port)) < 0) {
        fprintf(stderr, "shmetricsd: --listen %s: expected ADDR:PORT\n", spec);
        return -EINVAL;
    }
    if ((grc = getaddrinfo(host, port, &hints, &res)) != 0) {
        fprintf(stderr, "shmetricsd: --listen %s: %s\n", spec, gai_strerror(grc));
        return -EADDRNOTAVAIL;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next)
        if ((fd = bind_one(ai)) >= 0)
            break;
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "shmetricsd: cannot listen on %s: %s\n", spec, strerror(-fd));
        return fd;
    }
    sock_name(fd, name, namelen);
    return fd;
}
