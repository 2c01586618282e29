/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/t_segdir.c - see t_segdir.h.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "t_segdir.h"

static char g_dir[256];

int t_segdir_setup(void)
{
    struct stat st;
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
        base = "/dev/shm";
    snprintf(g_dir, sizeof(g_dir), "%s/shmetrics-test-XXXXXX", base);
    if (mkdtemp(g_dir) == NULL)
        return -1;
    return setenv(SHMET_DIR_ENV, g_dir, 1);
}

void t_segdir_teardown(void)
{
    DIR *d = opendir(g_dir);
    struct dirent *e;
    char path[PATH_MAX];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%.255s", g_dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(g_dir);
}

int t_segdir_count(const char *only)
{
    DIR *d = opendir(shmet__shm_dir());
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (only != NULL && strcmp(e->d_name, only) != 0) {
            n = -1;
            break;
        }
        n++;
    }
    closedir(d);
    return n;
}

void t_segdir_path(const char *ns, char *buf, size_t len)
{
    snprintf(buf, len, "%.255s/shmetrics.%.64s", shmet__shm_dir(), ns);
}
