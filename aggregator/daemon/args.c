/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/args.c - see args.h. Options are long ("--ns NAME" or
 * "--ns=NAME"); values are checked strictly (whole string, decimal, in
 * range) and every mistake is a usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/args.h"
#include "http/conn.h"
#include "http/net.h"

/* In sections: ISO C caps one string literal at 4095 bytes. */
static const char *const usage_text[] = {
    "Usage: shmetricsd [OPTION]...\n"
    "\n"
    "The shmetrics aggregator. Instrumented processes on this host record metrics\n"
    "into per-thread rings in a shared-memory segment (/dev/shm/shmetrics.NAME);\n"
    "shmetricsd drains the rings, merges the samples of every process, and serves\n"
    "them to Prometheus over HTTP. It runs one thread and one io_uring, serves one\n"
    "namespace, and creates its segment if no producer has yet.\n"
    "\n",
    "Options:\n"
    "  --ns NAME                  namespace to serve: 1 to 64 of [A-Za-z0-9_.-]\n"
    "                             (default: $SHMETRICS_NS, else \"default\")\n"
    "  --listen ADDR:PORT         where to serve HTTP (default 127.0.0.1:9477);\n"
    "                             IPv6 as [::1]:9477, every interface as\n"
    "                             0.0.0.0:9477 or [::]:9477; port 0 takes a free\n"
    "                             port. The bound address is printed on standard\n"
    "                             output as \"listening on ADDR:PORT\". An\n"
    "                             address in use is waited for up to 5 s (a\n"
    "                             shmetricsd just killed may hold it a moment);\n"
    "                             nothing is created before it is bound.\n"
    "  --slots N                  producer slots, 1 to 4096 (default 64)\n"
    "  --ring-records N           records per slot ring, a power of two, 64 to\n"
    "                             16777216 (default 16384)\n"
    "  --arena-bytes N            definition arena per slot, a multiple of 64,\n"
    "                             4096 to 67108864 (default 262144)\n"
    "                             (--slots, --ring-records and --arena-bytes apply\n"
    "                             only when shmetricsd creates the segment; an\n"
    "                             existing segment keeps its geometry)\n"
    "  --mode OCTAL               permission bits of a segment shmetricsd creates:\n"
    "                             read/write bits including 0600, e.g. 0600, 0660,\n"
    "                             0666 (default 0660, whatever the umask)\n"
    "  --group NAME|GID           group of a segment shmetricsd creates (default:\n"
    "                             shmetricsd's own); with mode 0660, the producers\n"
    "                             of that group may record. Only root, or a member\n"
    "                             of the group, may give it.\n"
    "                             (--mode and --group apply only when shmetricsd\n"
    "                             creates the segment; an existing one keeps its\n"
    "                             mode and group, and a warning says so)\n"
    "  --drain-interval-ms N      drain period while producers record, 1 to 10000\n"
    "                             (default 1). After 16 drains in a row find\n"
    "                             nothing it doubles, up to 4 ms (or N if longer);\n"
    "                             after about 10 s without a record, 32 ms;\n"
    "                             and drops back to N when records arrive.\n"
    "                             Scrapes always drain first.\n"
    "  --max-series-per-family N  series per family, 1 to 10000000 (default 10000);\n"
    "                             further label sets fold into one series whose\n"
    "                             labels are all __overflow__, and are counted\n"
    "  --max-connections N        concurrent HTTP connections, 1 to 65536 (default\n"
    "                             1024); up to 32 more are accepted only to be\n"
    "                             answered 503 Service Unavailable\n"
    "  --head-timeout-ms N        a request head must be complete this long after\n"
    "                             its first byte, and a new connection must send\n"
    "                             one this soon; 100 to 3600000 (default 10000)\n"
    "  --idle-timeout-ms N        a keep-alive connection waiting for its next\n"
    "                             request is closed after this long; 100 to\n"
    "                             3600000 (default 30000). Both are checked once\n"
    "                             a second, so a connection may live up to 1 s more.\n"
    "  --const-label NAME=VALUE   add NAME=\"VALUE\" to every series of /metrics;\n"
    "                             repeatable. NAME follows the Prometheus label\n"
    "                             rules; VALUE is UTF-8, at most 1024 bytes. A\n"
    "                             family's own label of that name wins.\n"
    "  --log-level LEVEL          what to write to standard error: error, warn,\n"
    "                             info or debug, each including the ones before\n"
    "                             it (default info). Lines read \"shmetricsd:\n"
    "                             LEVEL: message\".\n"
    "  -h, --help                 show this help and exit\n"
    "  -V, --version              show the version and exit\n"
    "\n",
    "Endpoints (HTTP/1.1 with keep-alive and pipelining; HEAD everywhere):\n"
    "  GET /metrics   Prometheus text 0.0.4, or OpenMetrics 1.0.0 when the Accept\n"
    "                 header prefers it; gzip when Accept-Encoding allows it. All\n"
    "                 rings are drained first: every sample recorded before the\n"
    "                 request arrived is in the response.\n"
    "  GET /debug     JSON: segment, aggregator totals, producers, families with\n"
    "                 their series, histogram buckets and quantiles\n"
    "  GET /healthz   200 \"ok\"\n"
    "  GET /          a page linking the others\n"
    "  Unknown paths get 404, other methods 405, malformed requests 400, request\n"
    "  heads over 8 KiB 431, requests with a body 411 or 413. A request head must\n"
    "  arrive within 10 s of its first byte (--head-timeout-ms); an idle\n"
    "  connection is closed after 30 s (--idle-timeout-ms), a reply that makes no\n"
    "  progress for 30 s is abandoned. Connections over --max-connections get\n"
    "  503 and are closed; beyond 32 more, they are closed unanswered.\n"
    "\n",
    "Producers:\n"
    "  A producer process that dies is noticed through a pidfd (or, where pidfd\n"
    "  is unavailable, a check of /proc every second): its rings are drained,\n"
    "  its gauge contributions dropped, its slots freed. Counters and histograms\n"
    "  keep what it recorded.\n"
    "\n",
    "The segment:\n"
    "  If the segment file is truncated under it, shmetricsd says so on stderr,\n"
    "  stops reading it and keeps serving the metrics it holds; when a valid\n"
    "  segment is at the name again (made by a producer or shmtool create), it\n"
    "  attaches to that one. A segment renamed over the name is followed too,\n"
    "  after the old one is drained a last time. Counted in\n"
    "  shmetrics_segment_lost_total and shmetrics_segment_attaches_total.\n"
    "\n",
    "Signals:\n"
    "  SIGTERM, SIGINT  stop accepting, finish the replies in flight (at most\n"
    "                   2 s), exit 0; a second signal exits at once\n"
    "  SIGHUP           logged and ignored (there is no log file to reopen:\n"
    "                   messages go to standard error)\n"
    "  SIGPIPE          ignored\n"
    "\n",
    "Exit status:\n"
    "  0  stopped by a signal; or --help, --version\n"
    "  1  could not start or serve: the segment (no access to it, --group not\n"
    "     permitted), the lock (another shmetricsd already serves the\n"
    "     namespace), io_uring refused (seccomp, kernel.io_uring_disabled), the\n"
    "     listening address (still in use after 5 s)\n"
    "  2  invalid command line\n"
    "\n",
    "Environment:\n"
    "  SHMETRICS_NS       the default namespace\n"
    "  SHMETRICS_SHM_DIR  directory of the segments (default /dev/shm)\n"
    "\n",
    "Examples:\n"
    "  shmetricsd\n"
    "  shmetricsd --ns web --listen 0.0.0.0:9477 --const-label server=$(hostname)\n"
    "  shmetricsd --ns test --listen 127.0.0.1:0 --slots 8 --ring-records 1024\n"
    "  shmetricsd --ns web --group www-data --mode 0660\n"
    "  curl -s http://127.0.0.1:9477/metrics\n"
    "  curl -s -H 'Accept: application/openmetrics-text' http://127.0.0.1:9477/metrics\n"
    "  curl -s --compressed http://127.0.0.1:9477/metrics\n",
};

void args_usage(FILE *f)
{
    for (size_t i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++)
        fputs(usage_text[i], f);
}

/* The mistake as an error line, then the hint (a second line, as GNU tools
 * print it). */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
    fputs("Try 'shmetricsd --help' for more information.\n", stderr);
    return -EINVAL;
}

static int add_const_label(struct agg_args *a, char *val)
{
    char *eq = strchr(val, '=');
    struct const_label *c;

    if (eq == NULL)
        return usage_error("--const-label '%s': expected NAME=VALUE", val);
    if (!shmet__label_name_ok(val, (size_t)(eq - val)))
        return usage_error("--const-label '%s': '%.*s' is not a valid label name "
                           "([a-zA-Z_][a-zA-Z0-9_]*, not starting with __, not le)",
                           val, (int)(eq - val), val);
    if (strlen(eq + 1) > SHMET_LABEL_VALUE_MAX || !shmet__utf8_ok(eq + 1, strlen(eq + 1)))
        return usage_error("--const-label '%s': the value must be UTF-8 of at most %u bytes", val,
                           SHMET_LABEL_VALUE_MAX);
    for (size_t i = 0; i < a->nconsts; i++)
        if (strncmp(a->consts[i].name, val, (size_t)(eq - val)) == 0 &&
            a->consts[i].name[eq - val] == '\0')
            return usage_error("--const-label: label '%.*s' given twice", (int)(eq - val), val);
    c = realloc(a->consts, (a->nconsts + 1) * sizeof(*c));
    if (c == NULL)
        return usage_error("out of memory");
    a->consts = c;
    *eq = '\0'; /* argv is ours to cut */
    a->consts[a->nconsts++] = (struct const_label){.name = val, .value = eq + 1};
    return 0;
}

struct num_opt {
    const char *name;
    uint32_t min, max;
    size_t off; /* of the uint32_t in struct agg_args */
};

static const struct num_opt num_opts[] = {
    {"slots", SHMET_SLOTS_MIN, SHMET_SLOTS_MAX, offsetof(struct agg_args, geo.slots)},
    {"ring-records", SHMET_RING_MIN, SHMET_RING_MAX, offsetof(struct agg_args, geo.ring_records)},
    {"arena-bytes", SHMET_ARENA_MIN, SHMET_ARENA_MAX, offsetof(struct agg_args, geo.arena_bytes)},
    {"drain-interval-ms", 1, 10000, offsetof(struct agg_args, drain_interval_ms)},
    {"max-series-per-family", 1, 10000000, offsetof(struct agg_args, max_series)},
    {"max-connections", 1, 65536, offsetof(struct agg_args, max_conns)},
    {"head-timeout-ms", ARGS_TIMEOUT_MS_MIN, ARGS_TIMEOUT_MS_MAX,
     offsetof(struct agg_args, head_timeout_ms)},
    {"idle-timeout-ms", ARGS_TIMEOUT_MS_MIN, ARGS_TIMEOUT_MS_MAX,
     offsetof(struct agg_args, idle_timeout_ms)},
};

/* One option with its value (NULL for flags). */
static int set_opt(struct agg_args *a, const char *name, char *val)
{
    for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
        const struct num_opt *o = &num_opts[i];
        uint64_t v;
        if (strcmp(name, o->name) != 0)
            continue;
        if (!shmet__u64_parse(val, o->min, o->max, &v))
            return usage_error("--%s '%s': expected a number from %u to %u", name, val, o->min,
                               o->max);
        *(uint32_t *)((char *)a + o->off) = (uint32_t)v; /* max fits: a u32 */
        return 0;
    }
    if (strcmp(name, "ns") == 0) {
        if (shmet__ns_check(val) < 0)
            return usage_error("--ns '%s': expected 1 to 64 of [A-Za-z0-9_.-]", val);
        a->ns = val;
    } else if (strcmp(name, "mode") == 0) {
        if (shmet__mode_parse(val, &a->perm.mode) < 0)
            return usage_error("--mode '%s': expected octal read/write bits including 0600, "
                               "e.g. 0600, 0660 or 0666 (no execute bits, nothing beyond 0777)",
                               val);
        a->mode_set = true;
    } else if (strcmp(name, "group") == 0) {
        int rc = shmet__group_parse(val, &a->perm.gid);
        if (rc == -ENOENT)
            return usage_error("--group '%s': no such group", val);
        if (rc < 0)
            return usage_error("--group '%s': expected a group name or a numeric GID", val);
        a->group = val;
    } else if (strcmp(name, "log-level") == 0) {
        if (log_level_parse(val, &a->log_level) < 0)
            return usage_error("--log-level '%s': expected error, warn, info or debug", val);
    } else if (strcmp(name, "listen") == 0) {
        char host[256], port[8];
        if (net_split(val, host, sizeof(host), port, sizeof(port)) < 0)
            return usage_error("--listen '%s': expected ADDR:PORT, e.g. 127.0.0.1:9477 "
                               "or [::1]:9477",
                               val);
        a->listen = val;
    } else {
        return add_const_label(a, val); /* the only one left, see takes_value() */
    }
    return 0;
}

static bool takes_value(const char *name)
{
    static const char *const names[] = {"ns",   "listen", "const-label",
                                        "mode", "group",  "log-level"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++)
        if (strcmp(name, num_opts[i].name) == 0)
            return true;
    return false;
}

static void defaults(struct agg_args *a)
{
    memset(a, 0, sizeof(*a));
    a->listen = ARGS_LISTEN_DEFAULT;
    a->geo = (struct shmet__geometry){SHMET_DEFAULT_SLOTS, SHMET_DEFAULT_RING_RECORDS,
                                      SHMET_DEFAULT_ARENA_BYTES};
    a->drain_interval_ms = ARGS_DRAIN_MS_DEFAULT;
    a->max_series = ARGS_MAX_SERIES_DEFAULT;
    a->max_conns = ARGS_MAX_CONNS_DEFAULT;
    a->perm = (struct shmet__perm){.mode = SHMET_MODE_DEFAULT, .gid = SHMET_GID_KEEP};
    a->head_timeout_ms = CONN_HEAD_TIMEOUT_MS;
    a->idle_timeout_ms = CONN_IDLE_TIMEOUT_MS;
    a->log_level = LOG_LEVEL_INFO;
}

/* argv[*i] is "--name[=value]": apply it, taking the value from the next
 * argument when needed. */
static int long_opt(struct agg_args *a, int argc, char **argv, int *i)
{
    char name[32], *arg = argv[*i] + 2, *eq = strchr(arg, '='), *val = NULL;
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

    if (n == 0 || n >= sizeof(name))
        return usage_error("unknown option '%s'", argv[*i]);
    memcpy(name, arg, n);
    name[n] = '\0';
    if (strcmp(name, "help") == 0 || strcmp(name, "version") == 0) {
        if (eq != NULL)
            return usage_error("option '--%s' takes no value", name);
        *(name[0] == 'h' ? &a->help : &a->version) = true;
        return 0;
    }
    if (!takes_value(name))
        return usage_error("unknown option '%s'", argv[*i]);
    if (eq != NULL)
        val = eq + 1;
    else if (*i + 1 < argc)
        val = argv[++*i];
    else
        return usage_error("option '--%s' needs a value", name);
    return set_opt(a, name, val);
}

int args_parse(int argc, char **argv, struct agg_args *a)
{
    int rc;

    defaults(a);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0) {
            a->help = true;
        } else if (strcmp(argv[i], "-V") == 0) {
            a->version = true;
        } else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
            if ((rc = long_opt(a, argc, argv, &i)) < 0)
                goto err;
        } else {
            rc = usage_error("unexpected argument '%s'", argv[i]);
            goto err;
        }
    }
    if (!a->help && !a->version && shmet__geometry_check(&a->geo) < 0) {
        rc = usage_error("--ring-records must be a power of two and --arena-bytes a multiple "
                         "of 64, within the limits in --help");
        goto err;
    }
    return 0;
err:
    args_free(a);
    return rc;
}

void args_free(struct agg_args *a)
{
    free(a->consts);
    a->consts = NULL;
    a->nconsts = 0;
}
