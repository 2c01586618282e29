/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/seg.c - the segment as shmtool sees it: attached read-only
 * through libshm (which validates the header), attach failures explained
 * with the path and the offending header field, and consistent snapshots
 * of a slot's control block that producers and the aggregator keep
 * changing while we read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmtool.h"

#define SNAPSHOT_TRIES 8

bool seg_error_is_corruption(int err)
{
    return err == SHMET_E_NOTSEG || err == SHMET_E_ABI || err == SHMET_E_TRUNCATED ||
           err == SHMET_E_GEOMETRY;
}

/* The header field behind a corruption error, read again with pread. */
static void header_detail(const char *path, int err, char *buf, size_t len)
{
    struct shmet_abi_header h;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n = -1;

    buf[0] = '\0';
    if (fd >= 0 && fstat(fd, &st) == 0)
        n = pread(fd, &h, sizeof(h), 0);
    if (fd >= 0)
        close(fd);
    if (n < 0)
        return;
    if (err == SHMET_E_TRUNCATED && (size_t)n < sizeof(h))
        snprintf(buf, len, ": the file is %lld bytes, less than the %zu-byte header",
                 (long long)st.st_size, sizeof(h));
    else if (err == SHMET_E_NOTSEG)
        snprintf(buf, len, ": magic is 0x%016llx, expected 0x%016llx", (unsigned long long)h.magic,
                 (unsigned long long)SHMET_ABI_MAGIC);
    else if (err == SHMET_E_ABI)
        snprintf(buf, len, ": ABI %u.%u, this shmtool reads %u.x", h.abi_major, h.abi_minor,
                 SHMET_ABI_MAJOR);
    else if (err == SHMET_E_TRUNCATED)
        snprintf(buf, len, ": the file is %lld bytes, the header says %llu", (long long)st.st_size,
                 (unsigned long long)h.segment_size);
    else if (err == SHMET_E_GEOMETRY)
        snprintf(buf, len,
                 ": header says %u slots, %u ring records, %u arena bytes, %llu bytes in all; "
                 "the file is %lld bytes",
                 h.slots, h.ring_records, h.arena_bytes, (unsigned long long)h.segment_size,
                 (long long)st.st_size);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a regular file";
}

/* "cause[: detail]" for an error of seg_open_ro() on path. */
void seg_describe(const char *path, int err, char *buf, size_t len)
{
    char detail[256] = "";
    struct stat st;

    if (err == SEG_E_NOTFILE && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(buf, len, "is %s, not a segment", file_kind(st.st_mode));
        return;
    }
    if (err == -ENOENT && stat(shmet__shm_dir(), &st) != 0) {
        snprintf(buf, len, "segment directory %s does not exist (see %s)", shmet__shm_dir(),
                 SHMET_DIR_ENV);
        return;
    }
    if (err == -ELOOP) {
        snprintf(buf, len, "is a symbolic link; segments are never followed through links");
        return;
    }
    if (err == -EACCES) {
        shmet__access_describe(path, buf, len);
        return;
    }
    if (seg_error_is_corruption(err))
        header_detail(path, err, detail, sizeof(detail));
    snprintf(buf, len, "%s%s", shmet__strerror(err), detail);
}

/*
 * seg_open_ro - attach read-only. Anything but a regular file (or a
 * symbolic link, which libshm refuses) is turned away first: opening a
 * FIFO for reading would block forever.
 */
int seg_open_ro(const struct tool_args *a, struct shmet__seg *s)
{
    struct stat st;

    if (lstat(a->path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return SEG_E_NOTFILE;
    return shmet__seg_open(a->ns, NULL, SHMET_SEG_RDONLY, 0, s);
}

/* Attach read-only; on failure say why on stderr and return the error. */
int seg_attach(const struct tool_args *a, struct shmet__seg *s)
{
    char why[1024];
    int rc = seg_open_ro(a, s);

    if (rc < 0) {
        seg_describe(a->path, rc, why, sizeof(why));
        fprintf(stderr, "shmtool: %s: %s\n", a->path, why);
    }
    return rc;
}

/* The generation again, after everything read since the last one. */
uint32_t slot_generation(const struct shmet__seg *s, uint32_t idx)
{
    /* ACQUIRE fence: the reads of the slot before it happen before this
     * re-read, so an unchanged generation means no new claim reset the
     * slot while we were reading it (the seqlock reader pattern). */
    atomic_thread_fence(memory_order_acquire);
    /* RELAXED: ordered by the fence above. */
    return atomic_load_explicit(&shmet__slot(s, idx)->generation, memory_order_relaxed);
}

static void snap_once(const struct shmet_abi_slot *sl, struct slot_snap *o)
{
    /* ACQUIRE: pairs with the RELEASE store of ACTIVE in shmet__slot_claim()
     * (libshm/slot.c): the owner fields below were written before it. */
    o->state = atomic_load_explicit(&sl->state, memory_order_acquire);
    /* RELAXED: published by the state load above, or statistics. */
    o->generation = atomic_load_explicit(&sl->generation, memory_order_relaxed);
    o->pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
    o->tid = atomic_load_explicit(&sl->tid, memory_order_relaxed);
    o->start_time = atomic_load_explicit(&sl->start_time, memory_order_relaxed);
    o->claimed_ns = atomic_load_explicit(&sl->claimed_ns, memory_order_relaxed);
    o->flags = atomic_load_explicit(&sl->flags, memory_order_relaxed);
    /* ACQUIRE (head, tail, head again): pair with the producer's RELEASE
     * of head and the consumer's RELEASE of tail (tag-ring-publish). Both
     * only grow, so head <= tail + capacity and tail <= head_after hold
     * for a sane slot whatever the two sides do in between. */
    o->head = atomic_load_explicit(&sl->head, memory_order_acquire);
    o->tail = atomic_load_explicit(&sl->tail, memory_order_acquire);
    o->head_after = atomic_load_explicit(&sl->head, memory_order_acquire);
    /* ACQUIRE: pairs with the RELEASE of arena_used in arena_put()
     * (libshm/arena.c): the entries below it are complete. */
    o->arena_used = atomic_load_explicit(&sl->arena_used, memory_order_acquire);
    /* RELAXED: statistics with one writer. */
    o->dropped = atomic_load_explicit(&sl->dropped, memory_order_relaxed);
    o->defines = atomic_load_explicit(&sl->defines, memory_order_relaxed);
    o->arena_dropped = atomic_load_explicit(&sl->arena_dropped, memory_order_relaxed);
    o->lock_gen = atomic_load_explicit(&sl->lock_gen, memory_order_relaxed);
    o->pid_ns = atomic_load_explicit(&sl->pid_ns, memory_order_relaxed);
}

/* 1 alive, 0 gone, -1 unknown. An owner (or claimer) holding the slot lock
 * is judged by it, from any PID namespace (tag-slot-lock); others by pid
 * and start time, meaningful only in the owner's PID namespace. */
static int judge_alive(const struct shmet__seg *s, uint32_t idx, const struct slot_snap *sn)
{
    int rc;

    if (sn->state == SHMET_SLOT_FREE)
        return 0;
    if (sn->generation != 0 && sn->lock_gen == sn->generation) {
        rc = shmet__slot_lock_held(s, idx);
        if (rc >= 0 || sn->state == SHMET_SLOT_ACTIVE)
            return rc < 0 ? -1 : rc;
    }
    if (sn->state == SHMET_SLOT_CLAIMING && shmet__slot_lock_held(s, idx) == 1)
        return 1; /* a locked claim under way */
    if (sn->pid <= 0)
        return 0;
    rc = shmet__proc_alive(sn->pid, sn->start_time);
    return rc < 0 ? -1 : rc;
}

/*
 * slot_snapshot - the control block of slot idx, retried while a claim
 * changes it under us. Best effort: the writers do not follow a seqlock
 * protocol, so a snapshot of a slot in motion may still mix two moments;
 * reports built from it say what was seen.
 */
void slot_snapshot(const struct shmet__seg *s, uint32_t idx, struct slot_snap *out)
{
    const struct shmet_abi_slot *sl = shmet__slot(s, idx);

    for (int i = 0; i < SNAPSHOT_TRIES; i++) {
        snap_once(sl, out);
        if (slot_generation(s, idx) == out->generation &&
            atomic_load_explicit(&sl->state, memory_order_relaxed) == out->state)
            break;
    }
    out->alive = judge_alive(s, idx, out);
}

/* Sample records published (DEFINE records excluded); 0 if inconsistent. */
uint64_t snap_samples(const struct slot_snap *sn)
{
    return sn->head_after >= sn->defines ? sn->head_after - sn->defines : 0;
}

/* Records waiting in the ring, clamped to [0, capacity]. */
uint64_t snap_ring_used(const struct shmet__seg *s, const struct slot_snap *sn)
{
    uint64_t used;

    if (sn->tail > sn->head_after)
        return 0;
    used = sn->head_after - sn->tail;
    return used > s->ring_records ? s->ring_records : used;
}

/* 1: the owner runs; 0: it is gone (or its pid was reused); -1: unknown
 * (e.g. /proc not readable). */
int snap_alive(const struct slot_snap *sn)
{
    return sn->alive;
}
