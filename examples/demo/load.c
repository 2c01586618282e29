/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/load.c - shmetrics-load: the command line, the weighted
 * request mix (with the endpoint label the demo records each request by,
 * so the report can be checked against the aggregator's counts) and the
 * report. The event loop is in load_conn.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmetrics.h>

#include "load.h"

/* The mix. Weights are relative; the paths vary within a kind. */
const struct load_kind load_kinds[] = {
    {"GET", "/", "GET /", 25},
    {"GET", "/users/{id}", "GET /users/<number>", 30},
    {"GET", "/users/{id}", "GET /users/<letters> (404)", 5},
    {"GET", "/missing", "GET /missing (404)", 8},
    {"GET", "/error", "GET /error (500)", 5},
    {"GET", "/slow", "GET /slow?ms=<0..slow-max>", 4},
    {"POST", "/echo", "POST /echo (0 to 2 KiB)", 15},
    {"GET", "other", "GET /nope/<number> (404)", 5},
    {"GET", NULL, "GET /healthz (not recorded)", 3},
};
const unsigned load_nkinds = sizeof(load_kinds) / sizeof(load_kinds[0]);

static const char usage_text[] =
    "Usage: shmetrics-load [OPTIONS]\n"
    "\n"
    "An HTTP/1.1 load generator for shmetrics-demo. It keeps --connections\n"
    "connections busy with a weighted mix of the demo's routes, one request in\n"
    "flight per connection, reusing connections (keep-alive), and prints exact\n"
    "counts of what it sent and received, so they can be compared with what the\n"
    "aggregator reports.\n"
    "\n"
    "The mix (weight: request):\n"
    "%s"
    "\n"
    "Options:\n"
    "  --target HOST:PORT  the server (default 127.0.0.1:8080)\n"
    "  --connections C     concurrent connections, 1 to 10000 (default 8)\n"
    "  --requests N        stop after N requests in all (default 1000, unless\n"
    "                      --duration is given)\n"
    "  --duration S        stop starting requests after S seconds (decimals allowed);\n"
    "                      with --requests, whichever comes first. --duration 0 and\n"
    "                      no --requests: run until SIGINT or SIGTERM\n"
    "  --rate R            at most R requests per second in all (default: no limit)\n"
    "  --slow-max-ms N     /slow requests sleep 0 to N ms, at most 5000 (default 200)\n"
    "  --timeout S         a request without a full response after S seconds is an\n"
    "                      error, 1 to 3600 (default 10)\n"
    "  --close             one request per connection (Connection: close), which\n"
    "                      spreads the requests over the workers\n"
    "  --seed N            seed of the mix, for a repeatable sequence (default 1)\n"
    "  -h, --help          show this text and exit\n"
    "  --version           show the version and exit\n"
    "\n"
    "Output: a report on stdout. Lines start with a fixed key, so scripts can pick\n"
    "them out: \"sent N\" (requests written, resends included), \"responses N\",\n"
    "\"errors N\", \"retries N\" (requests resent on a fresh connection because a\n"
    "reused one was closed before any byte of the response), \"connects N\",\n"
    "\"recorded N\" (responses the demo counts in http_requests_total: all but\n"
    "/healthz), \"latency ...\" (percentiles), \"status CODE N\",\n"
    "\"request METHOD ENDPOINT STATUS N\" (ENDPOINT is the demo's endpoint label,\n"
    "\"-\" for unrecorded requests) and \"worker PID N\" (from X-Worker).\n"
    "SIGINT or SIGTERM stops starting requests and waits for those in flight; a\n"
    "second one stops at once. The report is printed either way.\n"
    "\n"
    "Exit status: 0 when every request got a response; 1 when any failed\n"
    "(connection refused or reset, timeout, malformed response); 2 on a usage\n"
    "error.\n"
    "\n"
    "Examples:\n"
    "  shmetrics-load --target 127.0.0.1:8080 --connections 16 --requests 20000\n"
    "  shmetrics-load --duration 0 --rate 20      # a trickle until Ctrl-C\n";

uint64_t load_rand(uint64_t *state)
{
    /* xorshift64*: fast, and good enough for picking requests. */
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int pick_kind(uint64_t *rng)
{
    unsigned total = 0, r;

    for (unsigned i = 0; i < load_nkinds; i++)
        total += load_kinds[i].weight;
    r = (unsigned)(load_rand(rng) % total);
    for (unsigned i = 0; i < load_nkinds; i++) {
        if (r < load_kinds[i].weight)
            return (int)i;
        r -= load_kinds[i].weight;
    }
    return 0;
}

/* The request line's target for a kind of request. */
static void kind_path(const struct load_config *cfg, int kind, uint64_t *rng, char *buf, size_t len)
{
    unsigned n = (unsigned)(load_rand(rng) % 1000) + 1;
    static const char *const fixed[] = {"/",  NULL,    NULL, "/missing", "/error",
                                        NULL, "/echo", NULL, "/healthz"};

    if (kind == 1)
        snprintf(buf, len, "/users/%u", n);
    else if (kind == 2)
        snprintf(buf, len, "/users/u%c%c", 'a' + n % 26, 'a' + n / 26 % 26);
    else if (kind == 5)
        snprintf(buf, len, "/slow?ms=%u", (unsigned)(load_rand(rng) % (cfg->slow_max_ms + 1)));
    else if (kind == 7)
        snprintf(buf, len, "/nope/%u", n);
    else
        snprintf(buf, len, "%s", fixed[kind]);
}

size_t load_build_request(const struct load_config *cfg, uint64_t *rng, char *buf, int *kind)
{
    char path[64];
    size_t body = 0;
    int n;

    *kind = pick_kind(rng);
    kind_path(cfg, *kind, rng, path, sizeof(path));
    if (strcmp(load_kinds[*kind].method, "POST") == 0)
        body = (size_t)(load_rand(rng) % 2049);
    n = snprintf(buf, LOAD_REQUEST_MAX,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: shmetrics-load\r\n%s",
                 load_kinds[*kind].method, path, cfg->target,
                 cfg->keep_alive ? "" : "Connection: close\r\n");
    if (body > 0 || strcmp(load_kinds[*kind].method, "POST") == 0)
        n += snprintf(buf + n, LOAD_REQUEST_MAX - (size_t)n,
                      "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n", body);
    n += snprintf(buf + n, LOAD_REQUEST_MAX - (size_t)n, "\r\n");
    for (size_t i = 0; i < body && (size_t)n < LOAD_REQUEST_MAX; i++)
        buf[n++] = (char)('a' + load_rand(rng) % 26);
    return (size_t)n;
}

static void count_worker(struct load_stats *st, long pid)
{
    for (unsigned i = 0; i < st->nworkers; i++) {
        if (st->workers[i].pid == pid) {
            st->workers[i].n++;
            return;
        }
    }
    if (st->nworkers < LOAD_WORKERS_MAX)
        st->workers[st->nworkers++] = (struct load_worker){pid, 1};
}

#define LAT_SAMPLE_MAX (1u << 20)

void load_stats_response(struct load_stats *st, uint64_t *rng, int kind, int status, long worker,
                         uint64_t latency_us)
{
    uint32_t us = latency_us > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_us;

    st->responses++;
    if (status >= 0 && status < LOAD_STATUS_MAX) {
        st->by_status[status]++;
        st->by_kind[(size_t)kind * LOAD_STATUS_MAX + (size_t)status]++;
    }
    if (worker > 0)
        count_worker(st, worker);
    /* Reservoir sampling: every latency seen has the same chance to stay. */
    st->lat_seen++;
    if (st->lat_n < LAT_SAMPLE_MAX) {
        st->lat_us[st->lat_n++] = us;
    } else {
        uint64_t j = load_rand(rng) % st->lat_seen;
        if (j < LAT_SAMPLE_MAX)
            st->lat_us[j] = us;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const struct load_stats *st, double q)
{
    size_t i = (size_t)ceil(q * (double)st->lat_n);

    i = i == 0 ? 0 : i - 1;
    return st->lat_n ? st->lat_us[i < st->lat_n ? i : st->lat_n - 1] / 1000.0 : 0;
}

/* "request METHOD ENDPOINT STATUS N", merging kinds with the same labels. */
static void report_requests(const struct load_stats *st)
{
    for (unsigned k = 0; k < load_nkinds; k++) {
        const char *ep = load_kinds[k].endpoint ? load_kinds[k].endpoint : "-";
        bool seen = false;
        for (unsigned j = 0; j < k; j++)
            seen = seen || (strcmp(load_kinds[j].method, load_kinds[k].method) == 0 &&
                            strcmp(load_kinds[j].endpoint ? load_kinds[j].endpoint : "-", ep) == 0);
        for (int s = 0; !seen && s < LOAD_STATUS_MAX; s++) {
            uint64_t n = 0;
            for (unsigned j = k; j < load_nkinds; j++)
                if (strcmp(load_kinds[j].method, load_kinds[k].method) == 0 &&
                    strcmp(load_kinds[j].endpoint ? load_kinds[j].endpoint : "-", ep) == 0)
                    n += st->by_kind[(size_t)j * LOAD_STATUS_MAX + (size_t)s];
            if (n > 0)
                printf("request   %-6s %-13s %3d %10llu\n", load_kinds[k].method, ep, s,
                       (unsigned long long)n);
        }
    }
}

static uint64_t recorded(const struct load_stats *st)
{
    uint64_t n = 0;

    for (unsigned k = 0; k < load_nkinds; k++)
        for (int s = 0; load_kinds[k].endpoint && s < LOAD_STATUS_MAX; s++)
            n += st->by_kind[(size_t)k * LOAD_STATUS_MAX + (size_t)s];
    return n;
}

static void report(const struct load_config *cfg, struct load_stats *st)
{
    double rate = st->elapsed_s > 0 ? (double)st->responses / st->elapsed_s : 0;

    qsort(st->lat_us, st->lat_n, sizeof(*st->lat_us), cmp_u32);
    printf("shmetrics-load: %s, %u connections, %.2f s, %.1f responses/s\n", cfg->target,
           cfg->connections, st->elapsed_s, rate);
    printf("sent      %llu\nresponses %llu\nerrors    %llu\nretries   %llu\n"
           "connects  %llu\nrecorded  %llu\n",
           (unsigned long long)st->sent, (unsigned long long)st->responses,
           (unsigned long long)st->errors, (unsigned long long)st->retries,
           (unsigned long long)st->connects, (unsigned long long)recorded(st));
    printf("latency   p50 %.3f ms  p95 %.3f ms  p99 %.3f ms  max %.3f ms\n", pct_ms(st, 0.5),
           pct_ms(st, 0.95), pct_ms(st, 0.99), pct_ms(st, 1.0));
    for (int s = 0; s < LOAD_STATUS_MAX; s++)
        if (st->by_status[s] > 0)
            printf("status    %3d %10llu\n", s, (unsigned long long)st->by_status[s]);
    report_requests(st);
    for (unsigned i = 0; i < st->nworkers; i++)
        printf("worker    %-8ld %10llu\n", st->workers[i].pid,
               (unsigned long long)st->workers[i].n);
    if (st->fatal[0] != '\0')
        fprintf(stderr, "shmetrics-load: %s\n", st->fatal);
    fflush(stdout);
}

/* A decimal in [lo, hi], fractions allowed when frac. */
static int parse_num(const char *s, double lo, double hi, bool frac, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || v < lo || v > hi || (!frac && v != floor(v)))
        return -EINVAL;
    *out = v;
    return 0;
}

enum {
    OPT_TARGET = 256,
    OPT_CONNS,
    OPT_REQUESTS,
    OPT_DURATION,
    OPT_RATE,
    OPT_SLOW,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_CLOSE,
    OPT_VERSION
};

static const struct option options[] = {
    {"target", required_argument, NULL, OPT_TARGET},
    {"connections", required_argument, NULL, OPT_CONNS},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"rate", required_argument, NULL, OPT_RATE},
    {"slow-max-ms", required_argument, NULL, OPT_SLOW},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"close", no_argument, NULL, OPT_CLOSE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    char mix[1024];
    size_t n = 0;

    for (unsigned i = 0; i < load_nkinds && n < sizeof(mix); i++)
        n += (size_t)snprintf(mix + n, sizeof(mix) - n, "  %3u  %s\n", load_kinds[i].weight,
                              load_kinds[i].what);
    printf(usage_text, mix);
}

/* One numeric option into cfg; -EINVAL when out of range. */
static int apply_number(int opt, const char *arg, struct load_config *cfg)
{
    static const struct {
        int opt;
        double lo, hi;
        bool frac;
    } limits[] = {
        {OPT_CONNS, 1, 10000, false}, {OPT_REQUESTS, 1, 1e15, false}, {OPT_DURATION, 0, 1e7, true},
        {OPT_RATE, 0, 1e9, true},     {OPT_SLOW, 0, 5000, false},     {OPT_TIMEOUT, 1, 3600, false},
        {OPT_SEED, 0, 1e15, false},
    };
    double v = 0;

    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        if (limits[i].opt == opt && parse_num(arg, limits[i].lo, limits[i].hi, limits[i].frac, &v))
            return -EINVAL;
    switch (opt) {
    case OPT_CONNS:
        cfg->connections = (unsigned)v;
        break;
    case OPT_REQUESTS:
        cfg->requests = (uint64_t)v;
        break;
    case OPT_DURATION:
        cfg->duration_s = v;
        break;
    case OPT_RATE:
        cfg->rate = v;
        break;
    case OPT_SLOW:
        cfg->slow_max_ms = (unsigned)v;
        break;
    case OPT_TIMEOUT:
        cfg->timeout_ms = (unsigned)v * 1000;
        break;
    case OPT_SEED:
        cfg->seed = (uint64_t)v;
        break;
    default:
        return -EINVAL;
    }
    return 0;
}

/* Returns 0 to run, 1 to exit 0 (help, version), 2 on a usage error. */
static int parse_args(int argc, char **argv, struct load_config *cfg)
{
    bool have_requests = false, have_duration = false;
    int opt;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int rc = 0;
        if (opt == 'h' || opt == OPT_VERSION) {
            if (opt == 'h')
                usage();
            else
                printf("shmetrics-load %s\n", SHMET_VERSION);
            return 1;
        } else if (opt == OPT_TARGET) {
            cfg->target = optarg;
        } else if (opt == OPT_CLOSE) {
            cfg->keep_alive = false;
        } else if (opt == '?') {
            rc = -EINVAL;
        } else {
            have_duration = have_duration || opt == OPT_DURATION;
            have_requests = have_requests || opt == OPT_REQUESTS;
            rc = apply_number(opt, optarg, cfg);
            if (rc < 0)
                fprintf(stderr, "shmetrics-load: bad value '%s' for --%s\n", optarg,
                        options[opt - OPT_TARGET].name);
        }
        if (rc < 0) {
            fprintf(stderr, "Try 'shmetrics-load --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shmetrics-load: unexpected argument '%s'\nTry 'shmetrics-load --help'.\n",
                argv[optind]);
        return 2;
    }
    if (!have_requests && have_duration)
        cfg->requests = 0;
    return 0;
}

int main(int argc, char **argv)
{
    struct load_config cfg = {.target = "127.0.0.1:8080",
                              .connections = 8,
                              .requests = 1000,
                              .slow_max_ms = 200,
                              .timeout_ms = 10000,
                              .seed = 1,
                              .keep_alive = true};
    struct load_stats st = {0};
    int rc = parse_args(argc, argv, &cfg);

    if (rc != 0)
        return rc == 1 ? 0 : 2;
    st.by_kind = calloc((size_t)load_nkinds * LOAD_STATUS_MAX, sizeof(*st.by_kind));
    st.lat_us = malloc(LAT_SAMPLE_MAX * sizeof(*st.lat_us));
    if (st.by_kind == NULL || st.lat_us == NULL) {
        fprintf(stderr, "shmetrics-load: out of memory\n");
        return 1;
    }
    rc = load_run(&cfg, &st);
    if (rc < 0) /* could not start: nothing to report */
        fprintf(stderr, "shmetrics-load: %s\n", st.fatal);
    else
        report(&cfg, &st);
    free(st.by_kind);
    free(st.lat_us);
    return rc < 0 || st.errors > 0 || st.fatal[0] != '\0' ? 1 : 0;
}
