/* SPDX-License-Identifier: MIT */
/*
 * libshm/perm.c - who may use a segment: the --mode and --group values
 * that shmetricsd and shmtool give a segment they create, and the
 * explanation of a refused access (the file's mode, owner and group, and
 * what to do), so every tool says the same thing in the same words.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

#define MODE_OWNER_RW 0600 /* the creator itself must read and write it */
#define MODE_ALLOWED 0666  /* read and write bits only */

/* Octal ("0660" or "660"): read/write bits only, the owner's included. A
 * segment is never executed, and a mode its own creator could not use
 * only makes every later open fail. */
int shmet__mode_parse(const char *s, mode_t *out)
{
    unsigned long v;
    char *end;

    if (s[0] == '\0' || s[strspn(s, "01234567")] != '\0' || strlen(s) > 4)
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 8);
    if (errno != 0 || *end != '\0' || (v & ~(unsigned long)MODE_ALLOWED) != 0 ||
        (v & MODE_OWNER_RW) != MODE_OWNER_RW)
        return -EINVAL;
    *out = (mode_t)v;
    return 0;
}

/* A group name from the group database, or a numeric GID (any number, as
 * chown takes it). -ENOENT: no such group; -EINVAL: empty or out of range. */
int shmet__group_parse(const char *s, gid_t *out)
{
    struct group gr, *res = NULL;
    char buf[4096];
    int rc;

    if (s[0] == '\0')
        return -EINVAL;
    if (s[strspn(s, "0123456789")] == '\0') {
        unsigned long long v;
        errno = 0;
        v = strtoull(s, NULL, 10);
        if (errno != 0 || v >= (unsigned long long)(gid_t)-1)
            return -EINVAL;
        *out = (gid_t)v;
        return 0;
    }
    rc = getgrnam_r(s, &gr, buf, sizeof(buf), &res);
    if (rc != 0)
        return -rc;
    if (res == NULL)
        return -ENOENT;
    *out = gr.gr_gid;
    return 0;
}

/* "name" of gid, or its number when it has none. */
void shmet__group_name(gid_t gid, char *buf, size_t len)
{
    struct group gr, *res = NULL;
    char tmp[4096];

    if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res != NULL)
        snprintf(buf, len, "%s", gr.gr_name);
    else
        snprintf(buf, len, "%u", (unsigned)gid);
}

static void user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[4096];

    if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
        snprintf(buf, len, "%s", pw.pw_name);
    else
        snprintf(buf, len, "%u", (unsigned)uid);
}

/* Why an open (or the creation) of path was refused with EACCES, and what
 * to do about it. */
void shmet__access_describe(const char *path, char *buf, size_t len)
{
    char group[256], owner[256], mine[256];
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(buf, len,
                 errno == ENOENT ? "permission denied: this user may not create files in %s"
                                 : "permission denied: this user may not search %s",
                 shmet__shm_dir());
        return;
    }
    shmet__group_name(st.st_gid, group, sizeof(group));
    shmet__group_name(getegid(), mine, sizeof(mine));
    user_name(st.st_uid, owner, sizeof(owner));
    snprintf(buf, len,
             "permission denied: the segment has mode %04o, owner %s, group %s; run as a "
             "member of group %s, or have whoever creates it (shmetricsd or shmtool create) "
             "give it this process's group, e.g. --group %s --mode 0660 (or --mode 0666 for "
             "every user)",
             (unsigned)(st.st_mode & 07777), owner, group, group, mine);
}
