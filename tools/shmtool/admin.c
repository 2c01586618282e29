/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/admin.c - the two commands that change anything:
 * "shmtool create" makes a segment with a chosen geometry (libshm builds
 * it complete, then links it into place, and refuses an existing one), and
 * "shmtool rm" unlinks one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shmtool.h"

static void admin_error(const struct tool_args *a, const char *why)
{
    fputs("shmtool: ", stderr);
    fput_escaped(stderr, a->path, strlen(a->path));
    fprintf(stderr, ": %s\n", why);
}

int cmd_create(const struct tool_args *a)
{
    struct shmet__perm perm = {.mode = (mode_t)a->mode, .gid = a->gid};
    struct shmet__seg s;
    char why[1024], size[32], group[256];
    int rc = shmet__seg_open_as(a->ns, &a->geo, SHMET_SEG_CREATE | SHMET_SEG_EXCL, &perm, &s);

    if (rc == -EEXIST) {
        snprintf(why, sizeof(why), "segment already exists (remove it first: shmtool rm --ns %s)",
                 a->ns);
        admin_error(a, why);
        return TOOL_PROBLEM;
    }
    if (rc == -EPERM && a->group != NULL) {
        snprintf(why, sizeof(why),
                 "cannot give the new segment group %s: only root, or a member of that group, "
                 "may",
                 a->group);
        admin_error(a, why);
        return TOOL_PROBLEM;
    }
    if (rc < 0) {
        seg_describe(a->path, rc, why, sizeof(why));
        admin_error(a, why);
        return TOOL_PROBLEM;
    }
    shmet__group_name(a->gid != SHMET_GID_KEEP ? a->gid : getegid(), group, sizeof(group));
    fmt_bytes(s.size, size, sizeof(size));
    printf("created ");
    fput_escaped(stdout, a->path, strlen(a->path));
    printf(": %u slots, %u records per ring, %u arena bytes per slot, %llu bytes (%s), "
           "mode %04o, group %s\n",
           s.slots, s.ring_records, s.arena_bytes, (unsigned long long)s.size, size, a->mode,
           group);
    shmet__seg_close(&s);
    return TOOL_OK;
}

int cmd_rm(const struct tool_args *a)
{
    char why[1024];
    int rc = shmet__seg_unlink(a->ns);

    if (rc < 0) {
        seg_describe(a->path, rc, why, sizeof(why));
        admin_error(a, why);
        return TOOL_PROBLEM;
    }
    printf("removed ");
    fput_escaped(stdout, a->path, strlen(a->path));
    putchar('\n');
    /* The checkpoint a gracefully stopped shmetricsd keeps beside the
     * segment belongs to it: without the segment it would restore
     * counters into a fresh one. */
    char state[512];
    if (shmet__state_path(a->ns, state, sizeof(state)) == 0 && unlink(state) == 0) {
        printf("removed ");
        fput_escaped(stdout, state, strlen(state));
        putchar('\n');
    }
    return TOOL_OK;
}
