/* SPDX-License-Identifier: MIT */
/*
 * libshm/lock.c - slot locks (tag-slot-lock in include/shmetrics/abi.h).
 *
 * A slot's owner holds an open-file-description write lock on one byte of
 * the segment file. Unlike a pid, the lock means the same thing in every
 * PID namespace, and the kernel drops it when the owner dies. The bytes
 * themselves are never read through the lock: it is only a name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

static int ofd_lock(const struct shmet__seg *s, uint32_t idx, int cmd, short type, short *held)
{
    struct flock fl;

    if (!s->has_lock_fd || idx >= s->slots)
        return -EBADF;
    memset(&fl, 0, sizeof(fl)); /* l_pid must be 0 for OFD locks */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)SHMET_SLOT_LOCK_OFFSET(idx);
    fl.l_len = 1;
    if (fcntl(s->lock_fd, cmd, &fl) < 0)
        return errno == EACCES ? -EAGAIN : -errno; /* EACCES: POSIX's "held" */
    if (held != NULL)
        *held = fl.l_type;
    return 0;
}

int shmet__slot_lock(const struct shmet__seg *s, uint32_t idx)
{
    if (s->readonly)
        return -EBADF;
    return ofd_lock(s, idx, F_OFD_SETLK, F_WRLCK, NULL);
}

int shmet__slot_unlock(const struct shmet__seg *s, uint32_t idx)
{
    if (s->readonly)
        return -EBADF;
    return ofd_lock(s, idx, F_OFD_SETLK, F_UNLCK, NULL);
}

int shmet__slot_lock_held(const struct shmet__seg *s, uint32_t idx)
{
    short held = F_UNLCK;
    int rc = ofd_lock(s, idx, F_OFD_GETLK, F_WRLCK, &held);

    return rc < 0 ? rc : held != F_UNLCK;
}

bool shmet__slot_lock_aware(const struct shmet_abi_slot *sl, uint32_t gen)
{
    /* RELAXED: written with the reset that the RELEASE store of ACTIVE
     * published; the caller loaded state with ACQUIRE. */
    return gen != 0 && atomic_load_explicit(&sl->lock_gen, memory_order_relaxed) == gen;
}

/* The same file as s->lock_fd, opened anew: through /proc/self/fd, else by
 * name as long as the name still leads to the same inode. */
static int reopen(const struct shmet__seg *s, const struct stat *was)
{
    char path[256];
    struct stat now;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", s->lock_fd);
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        fd = open(path, O_RDWR | O_CLOEXEC); /* a magic link, followed */
    if (fd < 0 && shmet__seg_path(s->ns, path, sizeof(path)) == 0)
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, &now) < 0 || now.st_dev != was->st_dev || now.st_ino != was->st_ino) {
        close(fd);
        return -1;
    }
    return fd;
}

void shmet__seg_lock_fd_reopen(struct shmet__seg *s)
{
    struct stat was;
    int fd;

    if (!s->has_lock_fd || s->readonly)
        return;
    fd = fstat(s->lock_fd, &was) == 0 ? reopen(s, &was) : -1;
    /* dup3 replaces our copy of the parent's description with the new
     * one, keeping the number; closing a copy never releases its locks. */
    if (fd >= 0 && dup3(fd, s->lock_fd, O_CLOEXEC) >= 0) {
        close(fd);
        return;
    }
    if (fd >= 0)
        close(fd);
    if (s->own_lock_fd)
        close(s->lock_fd);
    s->has_lock_fd = false;
    s->own_lock_fd = false;
}
