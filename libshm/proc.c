/* SPDX-License-Identifier: MIT */
/*
 * libshm/proc.c - process identity: thread ids, clocks, and the start time
 * of a process (/proc/<pid>/stat field 22), which together with the pid
 * names a process uniquely even after its pid is reused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

int32_t shmet__gettid(void)
{
    return (int32_t)syscall(SYS_gettid);
}

uint64_t shmet__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fields 3 (state) and 22 (start time) of /proc/<pid>/stat. The command
 * name (field 2) may hold spaces and parentheses, so fields are counted
 * from the last ')'. */
static int read_stat(pid_t pid, char *state, uint64_t *out)
{
    char path[64], buf[1024];
    ssize_t n;
    char *p, *end;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return n < 0 ? -errno : -EIO;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL)
        return -EIO;
    /* After ')' comes " state" = field 3; walk to field 22. */
    *state = p[1] == ' ' ? p[2] : '?';
    for (field = 2, p++; field < 22 && *p != '\0'; p++)
        if (*p == ' ')
            field++;
    if (field != 22)
        return -EIO;
    errno = 0;
    *out = strtoull(p, &end, 10);
    return (end == p || errno != 0) ? -EIO : 0;
}

int shmet__proc_start_time(pid_t pid, uint64_t *out)
{
    char state;

    return read_stat(pid, &state, out);
}

/* 1 if pid is alive and (when start_time is non-zero) started at
 * start_time; 0 if it is gone or is another process now; <0 on error. */
int shmet__proc_alive(pid_t pid, uint64_t start_time)
{
    uint64_t st;
    char state = '?'; /* read_stat() sets it only when it could read */
    int rc;

    if (pid <= 0)
        return 0;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    rc = read_stat(pid, &state, &st);
    if (rc == -ENOENT || rc == -ESRCH || state == 'Z' || state == 'X')
        return 0; /* gone, or a zombie that will record nothing more */
    if (rc < 0)
        return rc;
    return (start_time == 0 || st == start_time) ? 1 : 0;
}

uint64_t shmet__pid_ns(void)
{
    struct stat st;

    return stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}
