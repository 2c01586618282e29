/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/shmtool.h - private interface between the files of shmtool,
 * the command-line inspector of a shmetrics segment.
 *
 *   main.c      command table, dispatch, exit status
 *   args.c      option parsing and strict number parsing
 *   usage.c     --help texts and --version
 *   seg.c       attaching read-only, error messages, slot snapshots
 *   defs.c      loading a slot's definition arena into owned copies
 *   out.c       allocation, escaping, formatting and JSON helpers
 *   info.c, series.c, watch.c, admin.c (create, rm)
 *   check.c     the check command and its problem report
 *   check_slot.c, check_defs.c   validation of a slot and of its arena
 *
 * Everything read from the segment is untrusted: libshm validates the
 * header at attach, and shmtool validates every slot field, arena entry
 * and ring record it uses.
 */
#ifndef SHMETRICS_TOOLS_SHMTOOL_H
#define SHMETRICS_TOOLS_SHMTOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "shm.h"

/* Exit status of every command. */
enum tool_exit {
    TOOL_OK = 0,      /* success; check: no corruption */
    TOOL_PROBLEM = 1, /* segment missing, unreadable, corrupt, or exists (create) */
    TOOL_USAGE = 2,   /* unknown command or option, malformed value */
};

/* Options a command accepts (struct tool_cmd.opts). */
enum {
    OPT_NS = 1u << 0,
    OPT_JSON = 1u << 1,
    OPT_ALL = 1u << 2,
    OPT_SLOT = 1u << 3,
    OPT_INTERVAL = 1u << 4,
    OPT_COUNT = 1u << 5,
    OPT_GEOMETRY = 1u << 6, /* --slots, --ring-records, --arena-bytes */
    OPT_MODE = 1u << 7,     /* --mode, --group */
    OPT_ATTACHED = 1u << 8, /* check --attached */
};

#define TOOL_PATH_MAX 4096

struct tool_args {
    const char *ns;             /* resolved and valid once a command runs */
    char path[TOOL_PATH_MAX];   /* the segment's file */
    bool json;                  /* --json */
    bool all;                   /* info --all */
    bool attached;              /* check --attached */
    bool has_slot;              /* series --slot given */
    uint32_t slot;              /* series --slot */
    double interval;            /* watch --interval, seconds */
    uint32_t count;             /* watch --count; 0: until a signal */
    struct shmet__geometry geo; /* create */
    unsigned mode;              /* create --mode */
    gid_t gid;                  /* create --group; SHMET_GID_KEEP: none */
    const char *group;          /* create --group as given */
};

struct tool_cmd {
    const char *name;
    unsigned opts; /* OPT_* accepted besides --help and --version */
    int (*run)(const struct tool_args *a);
    const char *usage; /* full --help text */
};

/* args.c */
enum args_result { ARGS_RUN, ARGS_EXIT_OK, ARGS_USAGE };
enum args_result args_parse(const struct tool_cmd *cmd, int argc, char **argv, struct tool_args *a,
                            int *next);
void args_defaults(struct tool_args *a);
int args_finish(const struct tool_cmd *cmd, struct tool_args *a);
void usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* usage.c */
extern const char usage_tool[], usage_info[], usage_series[], usage_check[], usage_watch[],
    usage_create[], usage_rm[];
void print_version(void);

/* commands */
int cmd_info(const struct tool_args *a);
int cmd_series(const struct tool_args *a);
int cmd_check(const struct tool_args *a);
int cmd_watch(const struct tool_args *a);
int cmd_create(const struct tool_args *a);
int cmd_rm(const struct tool_args *a);

/* seg.c */

#define SEG_E_NOTFILE (-ENOTSUP) /* the path is a FIFO, directory, device... */

int seg_open_ro(const struct tool_args *a, struct shmet__seg *s);
int seg_attach(const struct tool_args *a, struct shmet__seg *s);
void seg_describe(const char *path, int err, char *buf, size_t len);
bool seg_error_is_corruption(int err);

/* defs.c: one slot's arena, copied out and validated by libshm. */
struct def_family {
    uint64_t off;
    uint32_t id;
    uint32_t overflow; /* series id of the family's __overflow__ */
    uint8_t type;
    uint8_t gauge_mode;
    uint16_t nlabels;
    uint32_t nbounds;
    char *name;
    char *help;
    char **labels;
    double *bounds;
};

struct def_series {
    uint64_t off;
    uint32_t id;
    uint32_t family;
    uint16_t nvalues;
    char **values;
};

struct def_bad {
    uint64_t off;
    int err;        /* from shmet__def_read() */
    char what[400]; /* the cause, in words */
};

struct defs {
    struct def_family *fam;
    size_t nfam, capfam;
    struct def_series *ser;
    size_t nser, capser;
    struct def_bad *bad;
    size_t nbad, capbad;
    const struct def_family **fam_by_id; /* sorted by (id, off) */
    const struct def_series **ser_by_id; /* sorted by (id, off) */
    uint64_t used;                       /* the arena_used snapshot that was walked */
    bool stopped;                        /* the walk stopped at an entry of insane size */
    uint64_t stop_off;
};

void defs_load(const struct shmet__seg *s, uint32_t idx, struct defs *d);
bool defs_load_slot(const struct shmet__seg *s, uint32_t idx, struct shmet__slot_snap *sn, struct defs *d);
void defs_free(struct defs *d);
const struct def_family *defs_family(const struct defs *d, uint32_t id);
const struct def_series *defs_series(const struct defs *d, uint32_t id);
const char *type_name(uint8_t type);
const char *gauge_mode_name(uint8_t mode);

/* check.c: the problem report of "check". */
enum severity { SEV_ERROR, SEV_WARNING };

struct report {
    json_t *problems;     /* --json: the array being built; NULL for text */
    unsigned errors;      /* corruption found */
    unsigned warnings;    /* stale or quarantined slots, a dead aggregator */
    int64_t slot;         /* slot being checked, -1 for the header */
    unsigned in_slot;     /* problems listed for that slot */
    unsigned hidden_slot; /* problems beyond the listing limit, that slot */
    unsigned unlisted;    /* the same, all slots */
};

void report_slot(struct report *r, int64_t slot);
void report_slot_end(struct report *r);
void problem(struct report *r, enum severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* check_slot.c, check_defs.c */
void check_slot(const struct shmet__seg *s, uint32_t idx, struct report *r);
void check_defs(const struct shmet__seg *s, const struct defs *d, struct report *r);
void check_ring(const struct shmet__seg *s, uint32_t idx, const struct shmet__slot_snap *sn,
                const struct defs *d, struct report *r);

/* out.c */
void die_nomem(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xrealloc_array(void *p, size_t n, size_t size);
char *xstrndup(const char *s, size_t n);
void grow(void **arr, size_t *cap, size_t need, size_t size);
size_t escape(char *dst, size_t cap, const char *s, size_t n);
void fput_escaped(FILE *f, const char *s, size_t n);
void fmt_time(uint64_t ns, char *buf, size_t len);
void fmt_bytes(uint64_t n, char *buf, size_t len);
void jset(json_t *obj, const char *key, json_t *val);
void jpush(json_t *arr, json_t *val);
json_t *jnew_object(void);
json_t *jnew_array(void);
json_t *ju64(uint64_t v);
json_t *jstrn(const char *s, size_t n);
int json_print(json_t *root);

#endif /* SHMETRICS_TOOLS_SHMTOOL_H */
