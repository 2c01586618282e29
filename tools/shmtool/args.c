/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/args.c - command-line options: a table of long options,
 * each with the command set that accepts it and a setter that parses its
 * value strictly (whole string, range-checked, no sign, no blanks). Any
 * mistake is a usage error: a message on stderr and exit status 2.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shmtool.h"

#define INTERVAL_MIN 0.01
#define INTERVAL_MAX 86400.0

struct opt_def {
    const char *name;
    unsigned flag; /* OPT_* that a command must accept */
    bool has_arg;
    const char *(*set)(struct tool_args *a, const char *val); /* NULL or an error */
};

static const char *cur_cmd; /* for messages: the command being parsed */

void usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("shmtool: ", stderr);
    if (cmd != NULL)
        fprintf(stderr, "%s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'shmtool %s%s--help' for more information.\n", cmd ? cmd : "",
            cmd ? " " : "");
}

static const char *set_ns(struct tool_args *a, const char *val)
{
    a->ns = val;
    return NULL;
}

static const char *set_json(struct tool_args *a, const char *val)
{
    (void)val;
    a->json = true;
    return NULL;
}

static const char *set_all(struct tool_args *a, const char *val)
{
    (void)val;
    a->all = true;
    return NULL;
}

static const char *set_attached(struct tool_args *a, const char *val)
{
    (void)val;
    a->attached = true;
    return NULL;
}

static const char *set_slot(struct tool_args *a, const char *val)
{
    uint64_t v;

    if (!shmet__u64_parse(val, 0, SHMET_SLOTS_MAX - 1, &v))
        return "slot must be a number between 0 and 4095";
    a->slot = (uint32_t)v;
    a->has_slot = true;
    return NULL;
}

static const char *set_count(struct tool_args *a, const char *val)
{
    uint64_t v;

    if (!shmet__u64_parse(val, 1, UINT32_MAX, &v))
        return "count must be a number between 1 and 4294967295";
    a->count = (uint32_t)v;
    return NULL;
}

/* Seconds, fractions allowed ("0.5"); no sign, no exponent, no blanks. */
static const char *set_interval(struct tool_args *a, const char *val)
{
    const char *msg = "interval must be a number of seconds between 0.01 and 86400";
    char *end;
    double v;

    if (val[strspn(val, "0123456789.")] != '\0' || strchr(val, '.') != strrchr(val, '.') ||
        !(val[0] >= '0' && val[0] <= '9'))
        return msg;
    errno = 0;
    v = strtod(val, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < INTERVAL_MIN || v > INTERVAL_MAX)
        return msg;
    a->interval = v;
    return NULL;
}

static const char *set_slots(struct tool_args *a, const char *val)
{
    uint64_t v;

    if (!shmet__u64_parse(val, SHMET_SLOTS_MIN, SHMET_SLOTS_MAX, &v))
        return "slots must be a number between 1 and 4096";
    a->geo.slots = (uint32_t)v;
    return NULL;
}

static const char *set_ring(struct tool_args *a, const char *val)
{
    uint64_t v;

    if (!shmet__u64_parse(val, SHMET_RING_MIN, SHMET_RING_MAX, &v) || (v & (v - 1)) != 0)
        return "ring-records must be a power of two between 64 and 16777216";
    a->geo.ring_records = (uint32_t)v;
    return NULL;
}

static const char *set_arena(struct tool_args *a, const char *val)
{
    uint64_t v;

    if (!shmet__u64_parse(val, SHMET_ARENA_MIN, SHMET_ARENA_MAX, &v) || v % 64 != 0)
        return "arena-bytes must be a multiple of 64 between 4096 and 67108864";
    a->geo.arena_bytes = (uint32_t)v;
    return NULL;
}

/* Octal read/write bits with the owner's, e.g. 0660 or 660. */
static const char *set_mode(struct tool_args *a, const char *val)
{
    mode_t m;

    if (shmet__mode_parse(val, &m) < 0)
        return "mode must be octal read/write bits including 0600, e.g. 0600, 0660 or 0666 "
               "(no execute bits, nothing beyond 0777)";
    a->mode = (unsigned)m;
    return NULL;
}

static const char *set_group(struct tool_args *a, const char *val)
{
    int rc = shmet__group_parse(val, &a->gid);

    if (rc == -ENOENT)
        return "no such group";
    if (rc < 0)
        return "expected a group name or a numeric GID";
    a->group = val;
    return NULL;
}

static const struct opt_def opt_defs[] = {
    {"ns", OPT_NS, true, set_ns},
    {"json", OPT_JSON, false, set_json},
    {"all", OPT_ALL, false, set_all},
    {"attached", OPT_ATTACHED, false, set_attached},
    {"slot", OPT_SLOT, true, set_slot},
    {"interval", OPT_INTERVAL, true, set_interval},
    {"count", OPT_COUNT, true, set_count},
    {"slots", OPT_GEOMETRY, true, set_slots},
    {"ring-records", OPT_GEOMETRY, true, set_ring},
    {"arena-bytes", OPT_GEOMETRY, true, set_arena},
    {"mode", OPT_MODE, true, set_mode},
    {"group", OPT_MODE, true, set_group},
};

static const struct opt_def *opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++)
        if (strlen(opt_defs[i].name) == len && memcmp(opt_defs[i].name, name, len) == 0)
            return &opt_defs[i];
    return NULL;
}

void args_defaults(struct tool_args *a)
{
    memset(a, 0, sizeof(*a));
    a->interval = 1.0;
    a->geo.slots = SHMET_DEFAULT_SLOTS;
    a->geo.ring_records = SHMET_DEFAULT_RING_RECORDS;
    a->geo.arena_bytes = SHMET_DEFAULT_ARENA_BYTES;
    a->mode = SHMET_MODE_DEFAULT;
    a->gid = SHMET_GID_KEEP;
}

/* One "--name[=value]" at argv[*i] (value possibly in argv[*i + 1]). */
static enum args_result parse_long(unsigned accept, int argc, char **argv, int *i,
                                   struct tool_args *a)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *val = NULL, *err;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt_def *d = opt_find(arg, len);

    if (d == NULL || !(accept & d->flag)) {
        usage_error(cur_cmd, "unknown option '--%.*s'", (int)len, arg);
        return ARGS_USAGE;
    }
    if (d->has_arg) {
        val = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (val == NULL) {
            usage_error(cur_cmd, "option '--%s' needs a value", d->name);
            return ARGS_USAGE;
        }
    } else if (eq != NULL) {
        usage_error(cur_cmd, "option '--%s' takes no value", d->name);
        return ARGS_USAGE;
    }
    err = d->set(a, val);
    if (err != NULL) {
        usage_error(cur_cmd, "--%s '%s': %s", d->name, val, err);
        return ARGS_USAGE;
    }
    return ARGS_RUN;
}

/* --help, -h and --version; ARGS_RUN when arg is none of them. */
static enum args_result parse_info_opt(const struct tool_cmd *cmd, const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(cmd ? cmd->usage : usage_tool, stdout);
        return ARGS_EXIT_OK;
    }
    if (strcmp(arg, "--version") == 0) {
        print_version();
        return ARGS_EXIT_OK;
    }
    return ARGS_RUN;
}

/*
 * args_parse - parse argv[0..argc) into a. With cmd NULL (the options
 * before the command) stop at the first non-option and set *next to its
 * index; with a command, every argument must be one of its options.
 */
enum args_result args_parse(const struct tool_cmd *cmd, int argc, char **argv, struct tool_args *a,
                            int *next)
{
    unsigned accept = cmd ? cmd->opts : OPT_NS;
    enum args_result r;
    int i;

    cur_cmd = cmd ? cmd->name : NULL;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if ((r = parse_info_opt(cmd, arg)) != ARGS_RUN)
            return r;
        if (arg[0] != '-' || strcmp(arg, "-") == 0 || strcmp(arg, "--") == 0) {
            if (cmd == NULL && strcmp(arg, "--") != 0)
                break;
            usage_error(cur_cmd, "unexpected argument '%s'", arg);
            return ARGS_USAGE;
        }
        if (arg[1] != '-') {
            usage_error(cur_cmd, "unknown option '%s'", arg);
            return ARGS_USAGE;
        }
        if ((r = parse_long(accept, argc, argv, &i, a)) != ARGS_RUN)
            return r;
    }
    *next = i;
    return ARGS_RUN;
}

/* Resolve the namespace and the segment path; check what spans options. */
int args_finish(const struct tool_cmd *cmd, struct tool_args *a)
{
    uint64_t data_offset;
    int rc;

    a->ns = shmet__ns_resolve(a->ns);
    if (shmet__ns_check(a->ns) < 0) {
        char esc[300];
        escape(esc, sizeof(esc), a->ns, strlen(a->ns));
        usage_error(cmd->name, "invalid namespace \"%s\" (1 to 64 of A-Z a-z 0-9 _ . -)", esc);
        return TOOL_USAGE;
    }
    rc = shmet__seg_path(a->ns, a->path, sizeof(a->path));
    if (rc < 0) {
        fprintf(stderr, "shmtool: segment path %s/shmetrics.%s: %s\n", shmet__shm_dir(), a->ns,
                shmet__strerror(rc));
        return TOOL_PROBLEM;
    }
    if ((cmd->opts & OPT_GEOMETRY) && shmet__geometry_check(&a->geo) < 0) {
        usage_error(cmd->name, "the segment would be %llu bytes, more than the 64 GiB limit",
                    (unsigned long long)shmet__geometry_size(&a->geo, &data_offset));
        return TOOL_USAGE;
    }
    return TOOL_OK;
}
