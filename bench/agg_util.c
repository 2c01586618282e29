/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_util.c - what the aggregator benchmarks share (agg.h):
 * option parsing, the synthetic workload's label values and observations,
 * clocks, /proc readers, a keep-alive HTTP/1.1 client and a wait for the
 * aggregator to have drained a segment.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "bench.h"

/* ---- options -------------------------------------------------------------- */

/* A whole number with an optional k, M or G suffix (shared with main.c). */
int bench_parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        v *= 1000ull, end++;
    else if (*end == 'M')
        v *= 1000000ull, end++;
    else if (*end == 'G')
        v *= 1000000000ull, end++;
    if (*end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int agg_parse(int argc, char **argv, const struct agg_opt *opts, const char *help)
{
    for (int i = 2; i < argc; i++) {
        const struct agg_opt *o = opts;
        uint64_t v;

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            exit(0);
        }
        while (o->name != NULL && strcmp(o->name, argv[i]) != 0)
            o++;
        if (o->name != NULL && o->flag != NULL) {
            *o->flag = true;
            continue;
        }
        if (o->name != NULL && o->str != NULL && i + 1 < argc) {
            *o->str = argv[++i];
            continue;
        }
        if (o->name == NULL || i + 1 >= argc || bench_parse_count(argv[i + 1], &v) < 0 || v < o->min ||
            v > o->max) {
            fprintf(stderr, "shmetrics-bench: bad option '%s'\n\n%s", argv[i], help);
            return -EINVAL;
        }
        *o->val = v;
        i++;
    }
    return 0;
}

bool agg_has_opt(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

const char *agg_size_tag(uint64_t n, char *buf, size_t len)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(n / 1000000));
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, len, "%lluk", (unsigned long long)(n / 1000));
    else
        snprintf(buf, len, "%llu", (unsigned long long)n);
    return buf;
}

/* ---- the workload ---------------------------------------------------------- */

const char *const mix_labels[MIX_LABELS + 1] = {"method", "endpoint", "status", NULL};
const double mix_bounds[MIX_BOUNDS] = {0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75,
                                       1,    1.5,  2,   3,   5,   10};

void mix_values(uint64_t i, char bufs[MIX_LABELS][MIX_VALUE_MAX], const char *out[MIX_LABELS])
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const statuses[] = {"200", "404", "500"};

    snprintf(bufs[0], MIX_VALUE_MAX, "%s", methods[i % 4]);
    snprintf(bufs[1], MIX_VALUE_MAX, "/api/v1/resource_%llu/items", (unsigned long long)(i / 12));
    snprintf(bufs[2], MIX_VALUE_MAX, "%s", statuses[(i / 4) % 3]);
    for (int k = 0; k < MIX_LABELS; k++)
        out[k] = bufs[k];
}

uint64_t agg_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

double mix_observation(uint64_t i, uint64_t k)
{
    uint64_t st = (i * 0x9e3779b97f4a7c15ULL) ^ (k + 1) * 0xbf58476d1ce4e5b9ULL;
    double u;

    if (st == 0)
        st = 1;
    (void)agg_rand(&st);
    u = (double)(agg_rand(&st) >> 11) / 9007199254740992.0; /* [0, 1) */
    return 0.005 * pow(1600.0, u);
}

/* ---- time and /proc ------------------------------------------------------- */

uint64_t agg_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void agg_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The whole of a small /proc file, NUL-terminated; its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (f == NULL)
        return -errno;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

int64_t agg_proc_cpu_ns(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long run, ut, st;

    snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
    if (read_small(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%llu", &run) == 1)
        return (int64_t)run;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    /* Fields 14 and 15 (utime, stime) follow the ")" that ends comm. */
    if (read_small(path, buf, sizeof(buf)) <= 0 || (p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static uint64_t status_kb(const char *buf, const char *key)
{
    const char *p = strstr(buf, key);

    return p != NULL ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int agg_proc_rss(pid_t pid, uint64_t *vmrss, uint64_t *rss_anon)
{
    char path[64], buf[4096];
    ssize_t n;

    /* smaps_rollup walks the page tables: exact, where the counters in
     * status may lag behind by per-CPU batches. */
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    if ((n = read_small(path, buf, sizeof(buf))) > 0 && strstr(buf, "\nAnonymous:") != NULL) {
        *vmrss = status_kb(buf, "\nRss:") * 1024;
        *rss_anon = status_kb(buf, "\nAnonymous:") * 1024;
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((n = read_small(path, buf, sizeof(buf))) < 0)
        return (int)n;
    *vmrss = status_kb(buf, "\nVmRSS:") * 1024;
    *rss_anon = status_kb(buf, "\nRssAnon:") * 1024;
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------- */

int agg_http_open(struct agg_http *c, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    int one = 1;

    memset(c, 0, sizeof(*c));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int rc = -errno;
        close(c->fd);
        c->fd = -1;
        return rc;
    }
    return 0;
}

void agg_http_close(struct agg_http *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Receive more into c->in; 0, or -errno (-ECONNRESET at EOF). */
static int fill(struct agg_http *c)
{
    ssize_t n;

    if (c->cap - c->len < 65536) {
        size_t ncap = c->cap * 2 + 262144;
        char *p = realloc(c->in, ncap);
        if (p == NULL)
            return -ENOMEM;
        c->in = p;
        c->cap = ncap;
    }
    n = recv(c->fd, c->in + c->len, c->cap - c->len - 1, 0);
    if (n <= 0)
        return n == 0 ? -ECONNRESET : -errno;
    c->len += (size_t)n;
    c->in[c->len] = '\0';
    return 0;
}

static int send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -EIO;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int agg_http_get(struct agg_http *c, const char *path, const char *headers, struct agg_resp *r)
{
    char req[1024], *end, *cl;
    size_t head, body;
    int rc, n;

    /* Forget the previous response (in is NULL before the first). */
    if (c->used > 0) {
        memmove(c->in, c->in + c->used, c->len - c->used);
        c->len -= c->used;
        c->used = 0;
    }
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path, headers);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -EINVAL;
    if ((rc = send_all(c->fd, req, (size_t)n)) < 0)
        return rc;
    while (c->len == 0 || (end = memmem(c->in, c->len, "\r\n\r\n", 4)) == NULL)
        if ((rc = fill(c)) < 0)
            return rc;
    head = (size_t)(end - c->in) + 4;
    *end = '\0'; /* the head is a string now */
    if (sscanf(c->in, "HTTP/1.1 %d", &r->status) != 1 ||
        (cl = strcasestr(c->in, "\r\nContent-Length:")) == NULL)
        return -EPROTO;
    body = strtoull(cl + 17, NULL, 10);
    while (c->len < head + body)
        if ((rc = fill(c)) < 0)
            return rc;
    r->body = c->in + head;
    r->body_len = body;
    c->used = head + body;
    return 0;
}

/* ---- segments ---------------------------------------------------------------- */

void agg_ns(char *buf, size_t len, const char *what)
{
    snprintf(buf, len, "shmbench-%s-%d", what, (int)getpid());
}

int agg_wait_drained(const struct shmet__seg *seg, uint64_t timeout_ms)
{
    uint64_t end = agg_mono_ns() + timeout_ms * 1000000u;

    do {
        bool empty = true;
        for (uint32_t i = 0; i < seg->slots && empty; i++) {
            struct shmet_abi_slot *sl = shmet__slot(seg, i);
            /* ACQUIRE: as the aggregator reads them; only a progress check. */
            if (atomic_load_explicit(&sl->state, memory_order_acquire) != SHMET_SLOT_ACTIVE)
                continue;
            empty = atomic_load_explicit(&sl->tail, memory_order_acquire) ==
                    atomic_load_explicit(&sl->head, memory_order_acquire);
        }
        if (empty)
            return 0;
        agg_sleep_ns(200000);
    } while (agg_mono_ns() < end);
    return -ETIMEDOUT;
}
