/* SPDX-License-Identifier: MIT */
/*
 * bench/baseline_statsd.c - baseline (c), StatsD: every sample is
 * formatted as text ("name:1|c", "name:42.000|ms") and sent as one UDP
 * datagram with sendto() to a receiver on the loopback interface. The
 * receiver thread reads in batches (recvmmsg), parses each line and
 * aggregates by name, as a StatsD server does. A datagram that finds the
 * receiver's socket buffer full is dropped by the kernel without telling
 * the sender: drops are the datagrams sent but never received.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "bench.h"

#define RECV_BATCH 64
#define DGRAM_MAX 256
#define NAMES_CAP 64 /* a power of two */
#define NAME_MAX_LEN 63
#define SETTLE_QUIET_NS 5000000u /* nothing queued nor read for 5 ms */
#define SETTLE_LIMIT_NS 2000000000u

static const char counter_name[] = "bench.requests";
static const char timer_name[] = "bench.latency";

struct statsd_metric {
    char name[NAME_MAX_LEN + 1]; /* "" while free */
    double counter;
    uint64_t timer_count;
    double timer_sum;
};

struct statsd {
    int fd;                  /* the receiver's socket */
    struct sockaddr_in addr; /* where senders send */
    int rcvbuf;
    pthread_t th;
    _Atomic int stop;
    _Atomic uint64_t received;         /* datagrams parsed; written by the receiver only */
    _Atomic uint64_t bad;              /* malformed datagrams */
    struct statsd_metric m[NAMES_CAP]; /* the receiver's own */
};

/* ---- the receiver --------------------------------------------------- */

static struct statsd_metric *metric(struct statsd *s, const char *name, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    if (len == 0 || len > NAME_MAX_LEN)
        return NULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 0x100000001b3ull;
    for (uint32_t i = 0; i < NAMES_CAP; i++) {
        struct statsd_metric *m = &s->m[(h + i) & (NAMES_CAP - 1)];
        if (m->name[0] == '\0') {
            memcpy(m->name, name, len);
            m->name[len] = '\0';
            return m;
        }
        if (strncmp(m->name, name, len) == 0 && m->name[len] == '\0')
            return m;
    }
    return NULL;
}

/* One "name:value|type" line (NUL-terminated); 0 or -1 when malformed. */
static int parse_line(struct statsd *s, char *line)
{
    char *colon = strchr(line, ':'), *bar, *end;
    struct statsd_metric *m;
    double v;

    if (colon == NULL || (bar = strchr(colon, '|')) == NULL)
        return -1;
    v = strtod(colon + 1, &end);
    if (end != bar || (m = metric(s, line, (size_t)(colon - line))) == NULL)
        return -1;
    if (strcmp(bar + 1, "c") == 0) {
        m->counter += v;
    } else if (strcmp(bar + 1, "ms") == 0) {
        m->timer_count++;
        m->timer_sum += v;
    } else {
        return -1;
    }
    return 0;
}

static void *receiver_main(void *arg)
{
    struct statsd *s = arg;
    char bufs[RECV_BATCH][DGRAM_MAX];
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    uint64_t received = 0, bad = 0;

    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < RECV_BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], DGRAM_MAX - 1};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    /* ACQUIRE: pairs with the RELEASE store in statsd_free(). */
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        int n = recvmmsg(s->fd, msgs, RECV_BATCH, MSG_WAITFORONE, NULL);
        if (n < 0)
            continue; /* the receive timeout: look at stop again */
        for (int i = 0; i < n; i++) {
            bufs[i][msgs[i].msg_len] = '\0';
            if (parse_line(s, bufs[i]) < 0)
                bad++;
        }
        received += (uint64_t)n;
        /* RELEASE: the aggregation above happens before the count is seen;
         * pairs with the ACQUIRE loads in statsd_settle(). */
        atomic_store_explicit(&s->bad, bad, memory_order_release);
        atomic_store_explicit(&s->received, received, memory_order_release);
    }
    return NULL;
}

/* ---- setup ---------------------------------------------------------- */

static int receiver_socket(struct statsd *s)
{
    struct timeval tv = {0, 50000}; /* how often the receiver looks at stop */
    socklen_t len = sizeof(s->addr);

    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -errno;
    s->addr.sin_family = AF_INET;
    s->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&s->addr, &len) != 0 ||
        setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
        return -errno;
    len = sizeof(s->rcvbuf);
    if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &len) != 0)
        return -errno;
    return 0;
}

struct statsd *statsd_new(void)
{
    struct statsd *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    atomic_init(&s->stop, 0);
    atomic_init(&s->received, 0);
    atomic_init(&s->bad, 0);
    if (receiver_socket(s) < 0 || pthread_create(&s->th, NULL, receiver_main, s) != 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    return s;
}

void statsd_free(struct statsd *s)
{
    if (s == NULL)
        return;
    /* RELEASE: pairs with the ACQUIRE load in receiver_main(). */
    atomic_store_explicit(&s->stop, 1, memory_order_release);
    pthread_join(s->th, NULL);
    close(s->fd);
    free(s);
}

int statsd_rcvbuf(const struct statsd *s)
{
    return s->rcvbuf;
}

/* ---- the senders ---------------------------------------------------- */

int statsd_sender_open(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    return fd < 0 ? -errno : fd;
}

static uint64_t send_one(const struct statsd *s, int fd, const char *buf, int len)
{
    return sendto(fd, buf, (size_t)len, 0, (const struct sockaddr *)&s->addr, sizeof(s->addr)) ==
           len;
}

uint64_t statsd_loop_inc(const struct statsd *s, int fd, uint64_t n)
{
    char buf[DGRAM_MAX];
    uint64_t sent = 0;

    for (uint64_t i = 0; i < n; i++)
        sent += send_one(s, fd, buf, snprintf(buf, sizeof(buf), "%s:%d|c", counter_name, 1));
    return sent;
}

uint64_t statsd_loop_observe(const struct statsd *s, int fd, uint64_t from, uint64_t n)
{
    char buf[DGRAM_MAX];
    uint64_t sent = 0;

    for (uint64_t i = from; i < from + n; i++)
        sent +=
            send_one(s, fd, buf,
                     snprintf(buf, sizeof(buf), "%s:%.3f|ms", timer_name, bench_value(i) * 1000.0));
    return sent;
}

/* ---- accounting ----------------------------------------------------- */

uint64_t statsd_settle(struct statsd *s)
{
    uint64_t start = bench_now_ns(), quiet_since = start, last = UINT64_MAX;

    while (bench_now_ns() - start < SETTLE_LIMIT_NS) {
        /* ACQUIRE: pairs with the RELEASE store in receiver_main(). */
        uint64_t now = atomic_load_explicit(&s->received, memory_order_acquire);
        int queued = 0;
        if (ioctl(s->fd, FIONREAD, &queued) != 0 || queued > 0 || now != last) {
            last = now;
            quiet_since = bench_now_ns();
        } else if (bench_now_ns() - quiet_since >= SETTLE_QUIET_NS) {
            return now;
        }
        struct timespec rest = {0, 200000};
        nanosleep(&rest, NULL);
    }
    return atomic_load_explicit(&s->received, memory_order_acquire);
}

uint64_t statsd_bad_lines(const struct statsd *s)
{
    /* ACQUIRE: as in statsd_settle(). */
    return atomic_load_explicit(&s->bad, memory_order_acquire);
}
