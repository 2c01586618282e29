/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/hold.c - see hold.h. A segment is always attached through one
 * descriptor: opened by name, locked, then validated and mapped from that
 * same descriptor (shmet__seg_attach_fd), so the file locked, the file
 * mapped and the inode compared with the name later are one and the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/guard.h"
#include "ingest/hold.h"
#include "log.h"

/* The sentence for a namespace locked by another shmetricsd; its pid, when
 * it wrote one, comes from the header (read, not mapped). */
static void busy_why(int fd, const char *ns, char *why, size_t len)
{
    struct shmet_abi_header h;

    int32_t pid = 0;

    if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.magic == SHMET_ABI_MAGIC)
        pid = atomic_load_explicit(&h.aggregator_pid, memory_order_relaxed); /* our copy */
    if (pid > 0)
        snprintf(why, len, "another shmetricsd (pid %d) already serves namespace %s", (int)pid, ns);
    else /* it holds the lock but has not written its pid yet */
        snprintf(why, len, "another shmetricsd already serves namespace %s", ns);
}

/* Open the name, lock, attach. On success *fdp and *st describe the file;
 * on failure why says what is wrong (prefixed with the path, except for a
 * busy namespace) and st is the file's, or zero when it could not be
 * opened. */
static int attach_file(const struct hold *h, struct shmet__seg *seg, int *fdp, struct stat *st,
                       char *why, size_t len)
{
    int fd = open(h->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc;

    memset(st, 0, sizeof(*st));
    if (fd < 0) {
        rc = -errno;
        snprintf(why, len, "%s: %s", h->path, strerror(errno));
        return rc;
    }
    if (fstat(fd, st) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        if (rc == -EWOULDBLOCK)
            busy_why(fd, h->ns, why, len);
        else
            snprintf(why, len, "cannot lock %s: %s", h->path, strerror(-rc));
        close(fd);
        return rc;
    }
    rc = shmet__seg_attach_fd(fd, h->ns, false, seg);
    if (rc < 0) {
        snprintf(why, len, "%s: %s", h->path, shmet__strerror(rc));
        close(fd);
        return rc;
    }
    *fdp = fd;
    return 0;
}

static void mark(void *arg)
{
    struct hold *h = arg;

    /* RELAXED: a report for shmtool and producers; nothing is published
     * through it. We hold the lock, so no other aggregator writes it. */
    atomic_store_explicit(&h->seg.hdr->aggregator_pid, h->pid, memory_order_relaxed);
    if (h->endpoint.family != 0)
        shmet__endpoint_publish(h->seg.hdr, &h->endpoint);
}

static void unmark(void *arg)
{
    struct hold *h = arg;
    int32_t mine = h->pid;

    /* RELAXED: as in mark(); clear only our own mark. */
    if (atomic_load_explicit(&h->seg.hdr->aggregator_pid, memory_order_relaxed) == mine)
        shmet__endpoint_publish(h->seg.hdr, NULL);
    atomic_compare_exchange_strong_explicit(&h->seg.hdr->aggregator_pid, &mine, 0,
                                            memory_order_relaxed, memory_order_relaxed);
}

void hold_set_endpoint(struct hold *h, const struct shmet__endpoint *e)
{
    h->endpoint = *e;
    (void)hold_run(h, mark, h);
}

/* Unmap and unlock; the geometry stays for reports. */
static void release(struct hold *h)
{
    shmet__seg_close(&h->seg);
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->lost = true;
}

static void install(struct hold *h, const struct shmet__seg *seg, int fd, const struct stat *st)
{
    h->seg = *seg;
    h->fd = fd;
    h->dev = st->st_dev;
    h->ino = st->st_ino;
    h->lost = false;
    h->attaches++;
    (void)hold_run(h, mark, h);
}

/* The file was truncated under us: say so once, stop reading it. */
static void lose(struct hold *h, const char *how)
{
    struct stat st;
    long long left = fstat(h->fd, &st) == 0 ? (long long)st.st_size : -1;

    log_error("segment %s was truncated (%lld of %llu bytes left%s): no longer "
              "reading it; the metrics drained so far are kept and served; waiting for a valid "
              "segment at that name",
            h->path, left, (unsigned long long)h->seg.size, how);
    release(h);
    h->losses++;
    h->told_dev = h->dev; /* the same file refused later needs no second word */
    h->told_ino = h->ino;
}

int hold_open(struct hold *h, const char *ns, const struct shmet__geometry *geo,
              const struct shmet__perm *perm, int32_t pid)
{
    struct shmet__seg seg;
    struct stat st;
    char why[768];
    bool created;
    int fd, rc;

    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->lost = true;
    h->pid = pid;
    ns = shmet__ns_resolve(ns);
    snprintf(h->ns, sizeof(h->ns), "%s", ns);
    if ((rc = guard_install()) < 0 || (rc = shmet__seg_path(ns, h->path, sizeof(h->path))) < 0) {
        log_error("namespace %s: %s", ns, shmet__strerror(rc));
        return rc;
    }
    if ((rc = shmet__seg_open_as(ns, geo, SHMET_SEG_CREATE, perm, &seg)) < 0) {
        h->open_failed = true; /* the caller explains, knowing the flags */
        return rc;
    }
    created = h->created = seg.created;
    shmet__seg_close(&seg); /* attached again below, through the locked file */
    if ((rc = attach_file(h, &seg, &fd, &st, why, sizeof(why))) < 0) {
        log_error("%s", why);
        return rc;
    }
    install(h, &seg, fd, &st);
    if (created)
        printf("created segment for namespace %s (%u slots, %u records, %u arena bytes, "
               "mode %04o)\n",
               h->seg.ns, h->seg.slots, h->seg.ring_records, h->seg.arena_bytes,
               (unsigned)perm->mode);
    return h->lost ? -EFAULT : 0;
}

void hold_close(struct hold *h)
{
    if (h == NULL)
        return;
    if (!h->lost)
        (void)hold_run(h, unmark, h);
    release(h);
}

int hold_run(struct hold *h, void (*fn)(void *), void *arg)
{
    uintptr_t at = 0;
    char how[96];
    int rc;

    if (h->lost)
        return -ENXIO;
    rc = guard_run(h->seg.base, h->seg.size, fn, arg, &at);
    if (rc == -EFAULT) {
        snprintf(how, sizeof(how), "; reading offset %llu raised SIGBUS",
                 (unsigned long long)(at - (uintptr_t)h->seg.base));
        lose(h, how);
    }
    return rc;
}

void hold_drop(struct hold *h, const char *why)
{
    log_warn("segment %s: %s; not reading it until it is attached again", h->path, why);
    if (!h->lost)
        (void)hold_run(h, unmark, h);
    release(h);
    h->dev = 0; /* attach to the same file again */
    h->ino = 0;
}

/* A file at the name cannot be attached: say why, once per file. */
static void refused(struct hold *h, const struct stat *st, int rc, const char *why)
{
    if (rc == -ENOENT || (st->st_dev == h->told_dev && st->st_ino == h->told_ino))
        return;
    h->told_dev = st->st_dev;
    h->told_ino = st->st_ino;
    log_warn("not attaching to %s", why);
}

/* Attach to the file at the name; move there from the old mapping, if
 * any, after last(arg) ran on it. */
static enum hold_change follow(struct hold *h, void (*last)(void *), void *arg)
{
    struct shmet__seg seg;
    struct stat st;
    char why[768];
    int fd, rc = attach_file(h, &seg, &fd, &st, why, sizeof(why));

    if (rc < 0) {
        refused(h, &st, rc, why);
        return HOLD_SAME;
    }
    if (!h->lost && hold_run(h, last, arg) == 0) {
        (void)hold_run(h, unmark, h);
        release(h);
        log_warn("segment %s was replaced by another file: drained the old one a last time; "
                 "producers still attached to it are no longer read",
                 h->path);
    }
    install(h, &seg, fd, &st);
    log_info("attached to segment %s (%u slots, %u records, %u arena bytes)", h->path,
             h->seg.slots, h->seg.ring_records, h->seg.arena_bytes);
    return HOLD_NEW;
}

enum hold_change hold_check(struct hold *h, void (*last)(void *), void *arg)
{
    struct stat st;

    if (!h->lost) {
        if (fstat(h->fd, &st) == 0 && (uint64_t)st.st_size < h->seg.size) {
            lose(h, "");
            return HOLD_LOST;
        }
        if (stat(h->path, &st) < 0 || (st.st_dev == h->dev && st.st_ino == h->ino))
            return HOLD_SAME; /* ours, or unlinked: producers may still record */
    } else if (stat(h->path, &st) < 0) {
        return HOLD_SAME; /* nothing at the name yet */
    }
    return follow(h, last, arg);
}
