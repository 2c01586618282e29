/* SPDX-License-Identifier: MIT */
/*
 * libshm/segment.c - create, attach, validate and remove the shared-memory
 * segment of a namespace.
 *
 * A segment is built complete under no name (O_TMPFILE, or a temporary name
 * where the file system lacks it), space reserved with posix_fallocate, the
 * header written, and only then linked to shmetrics.<ns>. link(2) fails if
 * the name exists, so of several racing creators exactly one wins and the
 * others attach to its segment; nobody can map a half-made segment.
 *
 * The file gets exactly the mode asked for (fchmod after creation, so the
 * umask neither widens nor narrows it) and, when asked, a group (fchown),
 * both before it is linked: nobody ever sees it with other permissions.
 * An existing segment keeps its mode and group.
 *
 * Attaching reads the header with pread (no mapping yet), validates it and
 * keeps private copies of the geometry; the mapping is made only when the
 * file is at least as large as the header claims.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

#define PAGE_BYTES 4096u

int shmet__ns_check(const char *ns)
{
    size_t n = 0;

    if (ns == NULL)
        return -EINVAL;
    for (; ns[n] != '\0'; n++) {
        char ch = ns[n];
        if (n >= SHMET_NS_MAX)
            return -EINVAL;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return -EINVAL;
    }
    return n == 0 ? -EINVAL : 0;
}

const char *shmet__ns_resolve(const char *ns)
{
    const char *env;

    if (ns != NULL)
        return ns;
    env = getenv(SHMET_NS_ENV);
    return (env != NULL && env[0] != '\0') ? env : SHMET_NS_DEFAULT;
}

const char *shmet__shm_dir(void)
{
    const char *env = getenv(SHMET_DIR_ENV);

    return (env != NULL && env[0] != '\0') ? env : SHMET_DIR_DEFAULT;
}

int shmet__seg_path(const char *ns, char *buf, size_t len)
{
    int n;

    ns = shmet__ns_resolve(ns);
    if (shmet__ns_check(ns) < 0)
        return -EINVAL;
    n = snprintf(buf, len, "%s/shmetrics.%s", shmet__shm_dir(), ns);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* The checkpoint a gracefully stopped shmetricsd keeps beside the segment
 * (aggregator/ingest/checkpoint.c); it belongs with the segment. */
int shmet__state_path(const char *ns, char *buf, size_t len)
{
    int n;

    ns = shmet__ns_resolve(ns);
    if (shmet__ns_check(ns) < 0)
        return -EINVAL;
    n = snprintf(buf, len, "%s/shmetrics-state.%s", shmet__shm_dir(), ns);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int shmet__state_unlink(const char *ns)
{
    char path[256];
    int rc = shmet__state_path(ns, path, sizeof(path));

    if (rc < 0)
        return rc;
    return unlink(path) < 0 ? -errno : 0;
}

int shmet__geometry_check(const struct shmet__geometry *g)
{
    uint64_t dummy;

    if (g->slots < SHMET_SLOTS_MIN || g->slots > SHMET_SLOTS_MAX)
        return -EINVAL;
    if (g->ring_records < SHMET_RING_MIN || g->ring_records > SHMET_RING_MAX ||
        (g->ring_records & (g->ring_records - 1)) != 0)
        return -EINVAL;
    if (g->arena_bytes < SHMET_ARENA_MIN || g->arena_bytes > SHMET_ARENA_MAX ||
        g->arena_bytes % 64 != 0)
        return -EINVAL;
    if (shmet__geometry_size(g, &dummy) > SHMET_SEGMENT_MAX)
        return -EINVAL;
    return 0;
}

/* Bytes of a segment with geometry g (already range-checked, so no
 * overflow: 4096 slots * (2^24 * 16 + 2^26) < 2^50). */
uint64_t shmet__geometry_size(const struct shmet__geometry *g, uint64_t *data_offset)
{
    uint64_t table =
        sizeof(struct shmet_abi_header) + (uint64_t)g->slots * sizeof(struct shmet_abi_slot);
    uint64_t stride = (uint64_t)g->ring_records * sizeof(struct shmet_abi_record) + g->arena_bytes;

    *data_offset = (table + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
    return *data_offset + (uint64_t)g->slots * stride;
}

/* Validate a header copy against the object's real size; on success fill
 * the geometry of *out from the copy. */
int shmet__header_check(const struct shmet_abi_header *h, uint64_t size, struct shmet__seg *out)
{
    struct shmet__geometry g;
    uint64_t data_offset, want;

    if (size < sizeof(*h))
        return SHMET_E_TRUNCATED;
    if (h->magic != SHMET_ABI_MAGIC)
        return SHMET_E_NOTSEG;
    if (h->abi_major != SHMET_ABI_MAJOR)
        return SHMET_E_ABI;
    if (h->header_size != sizeof(*h) || h->slot_size != sizeof(struct shmet_abi_slot))
        return SHMET_E_GEOMETRY;
    g.slots = h->slots;
    g.ring_records = h->ring_records;
    g.arena_bytes = h->arena_bytes;
    if (shmet__geometry_check(&g) < 0)
        return SHMET_E_GEOMETRY;
    want = shmet__geometry_size(&g, &data_offset);
    if (h->data_offset != data_offset || h->segment_size != want ||
        h->slot_stride !=
            (uint64_t)g.ring_records * sizeof(struct shmet_abi_record) + g.arena_bytes)
        return SHMET_E_GEOMETRY;
    if (size < want)
        return SHMET_E_TRUNCATED;
    if (size > want)
        return SHMET_E_GEOMETRY;
    out->slots = g.slots;
    out->ring_records = g.ring_records;
    out->arena_bytes = g.arena_bytes;
    out->data_offset = data_offset;
    out->slot_stride = h->slot_stride;
    out->size = want;
    out->abi_minor = h->abi_minor;
    return 0;
}

static int attach_fd(int fd, bool readonly, struct shmet__seg *out)
{
    struct shmet_abi_header h;
    struct stat st;
    ssize_t n;
    void *map;
    int rc;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return SHMET_E_NOTSEG; /* a FIFO, socket or device by that name */
    n = pread(fd, &h, sizeof(h), 0);
    if (n < 0)
        return -errno;
    if ((size_t)n < sizeof(h))
        return SHMET_E_TRUNCATED;
    rc = shmet__header_check(&h, (uint64_t)st.st_size, out);
    if (rc < 0)
        return rc;
    map = mmap(NULL, out->size, readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -errno;
    out->base = map;
    out->hdr = map;
    out->readonly = readonly;
    return 0;
}

int shmet__seg_attach_fd(int fd, const char *ns, bool readonly, struct shmet__seg *out)
{
    struct shmet__seg seg;
    int rc;

    ns = shmet__ns_resolve(ns);
    if (shmet__ns_check(ns) < 0)
        return -EINVAL;
    memset(&seg, 0, sizeof(seg));
    snprintf(seg.ns, sizeof(seg.ns), "%s", ns);
    if ((rc = attach_fd(fd, readonly, &seg)) == 0) {
        seg.lock_fd = fd; /* the caller's: never closed here */
        seg.has_lock_fd = true;
        *out = seg;
    }
    return rc;
}

/* Write the geometry of g into a header: shared with the fuzz targets and
 * their seed generator so that their segments are laid out exactly like a
 * created one. created_ns is given, not read from the clock, so that those
 * (whose headers are committed as seeds) stay reproducible. */
void shmet__header_init(struct shmet_abi_header *h, const struct shmet__geometry *g,
                        uint64_t created_ns)
{
    uint64_t data_offset, size = shmet__geometry_size(g, &data_offset);

    h->magic = SHMET_ABI_MAGIC;
    h->abi_major = SHMET_ABI_MAJOR;
    h->abi_minor = SHMET_ABI_MINOR;
    h->header_size = sizeof(*h);
    h->segment_size = size;
    h->slots = g->slots;
    h->ring_records = g->ring_records;
    h->arena_bytes = g->arena_bytes;
    h->slot_size = sizeof(struct shmet_abi_slot);
    h->data_offset = data_offset;
    h->slot_stride = (uint64_t)g->ring_records * sizeof(struct shmet_abi_record) + g->arena_bytes;
    h->created_ns = created_ns;
}

/* Make an unnamed (or temporarily named) file in dirfd; *tmp is set to the
 * temporary name when O_TMPFILE was not available. */
static int make_file(int dirfd, const char *ns, mode_t mode, char *tmp, size_t tmplen)
{
    static _Atomic unsigned counter;
    int fd;

    tmp[0] = '\0';
    fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd < 0 ? -errno : fd;
    /* RELAXED: only uniqueness of the value matters. */
    snprintf(tmp, tmplen, ".shmetrics.%s.%d.%u.tmp", ns, (int)getpid(),
             atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed));
    fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    return fd < 0 ? -errno : fd;
}

static int link_file(int dirfd, int fd, const char *tmp, const char *name)
{
    char proc[64];

    if (tmp[0] != '\0')
        return linkat(dirfd, tmp, dirfd, name, 0) < 0 ? -errno : 0;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    return linkat(fd, "", dirfd, name, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

/* Build a complete segment and link it as name. -EEXIST: somebody else
 * linked first (the caller attaches to theirs). */
static int create_linked(int dirfd, const char *ns, const char *name,
                         const struct shmet__geometry *g, const struct shmet__perm *perm,
                         struct shmet__seg *out)
{
    uint64_t data_offset, size = shmet__geometry_size(g, &data_offset);
    char tmp[128];
    void *map;
    int fd, rc;

    fd = make_file(dirfd, ns, perm->mode, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    /* The group first: a change of owner may clear mode bits. */
    if (perm->gid != SHMET_GID_KEEP && fchown(fd, (uid_t)-1, perm->gid) < 0) {
        rc = -errno; /* EPERM: neither root nor a member of that group */
        goto err_file;
    }
    if (fchmod(fd, perm->mode) < 0) {
        rc = -errno;
        goto err_file;
    }
    rc = -posix_fallocate(fd, 0, (off_t)size);
    if (rc < 0)
        goto err_file;
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = -errno;
        goto err_file;
    }
    /* Slots and live fields are zero (fallocate): every slot is FREE. */
    shmet__header_init(map, g, shmet__now_ns());
    rc = link_file(dirfd, fd, tmp, name);
    if (rc < 0)
        goto err_map;
    if (tmp[0] != '\0')
        unlinkat(dirfd, tmp, 0);
    out->lock_fd = fd; /* kept for slot locks (tag-slot-lock) */
    out->has_lock_fd = true;
    out->own_lock_fd = true;
    out->base = map;
    out->hdr = map;
    out->size = size;
    out->slots = g->slots;
    out->ring_records = g->ring_records;
    out->arena_bytes = g->arena_bytes;
    out->data_offset = data_offset;
    out->slot_stride = ((struct shmet_abi_header *)map)->slot_stride;
    out->abi_minor = SHMET_ABI_MINOR;
    out->readonly = false;
    out->created = true;
    return 0;

err_map:
    munmap(map, size);
err_file:
    if (tmp[0] != '\0')
        unlinkat(dirfd, tmp, 0);
    close(fd);
    return rc;
}

int shmet__seg_open(const char *ns, const struct shmet__geometry *g, unsigned flags, mode_t mode,
                    struct shmet__seg *out)
{
    struct shmet__perm perm = {.mode = mode, .gid = SHMET_GID_KEEP};

    return shmet__seg_open_as(ns, g, flags, &perm, out);
}

int shmet__seg_open_as(const char *ns, const struct shmet__geometry *g, unsigned flags,
                       const struct shmet__perm *perm, struct shmet__seg *out)
{
    struct shmet__geometry def = {SHMET_DEFAULT_SLOTS, SHMET_DEFAULT_RING_RECORDS,
                                  SHMET_DEFAULT_ARENA_BYTES};
    bool readonly = (flags & SHMET_SEG_RDONLY) != 0;
    struct shmet__seg seg;
    char name[SHMET_NS_MAX + 16];
    int dirfd, fd, rc = -EAGAIN;

    ns = shmet__ns_resolve(ns);
    if (shmet__ns_check(ns) < 0)
        return -EINVAL;
    if (g == NULL)
        g = &def;
    if ((flags & SHMET_SEG_CREATE) && (readonly || shmet__geometry_check(g) < 0))
        return -EINVAL;
    memset(&seg, 0, sizeof(seg));
    snprintf(seg.ns, sizeof(seg.ns), "%s", ns);
    snprintf(name, sizeof(name), "shmetrics.%s", ns);
    dirfd = open(shmet__shm_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    /* A creator that loses the link race retries the attach; a segment
     * removed between our ENOENT and link is retried too, a few times. */
    for (int attempt = 0; attempt < 8; attempt++) {
        /* O_NONBLOCK: opening a FIFO planted at this name must not block;
         * attach_fd() then refuses anything but a regular file. */
        fd = openat(dirfd, name,
                    (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd >= 0) {
            rc = (flags & SHMET_SEG_EXCL) ? -EEXIST : attach_fd(fd, readonly, &seg);
            if (rc == 0) { /* kept for slot locks (tag-slot-lock) */
                seg.lock_fd = fd;
                seg.has_lock_fd = true;
                seg.own_lock_fd = true;
            } else {
                close(fd);
            }
            break;
        }
        rc = -errno;
        if (rc != -ENOENT || !(flags & SHMET_SEG_CREATE))
            break;
        rc = create_linked(dirfd, ns, name, g, perm, &seg);
        if (rc != -EEXIST || (flags & SHMET_SEG_EXCL))
            break;
    }
    close(dirfd);
    if (rc == 0)
        *out = seg;
    return rc;
}

void shmet__seg_close(struct shmet__seg *s)
{
    if (s == NULL || s->base == NULL)
        return;
    munmap(s->base, s->size);
    s->base = NULL;
    s->hdr = NULL;
    if (s->has_lock_fd && s->own_lock_fd)
        close(s->lock_fd);
    s->has_lock_fd = false;
    s->own_lock_fd = false;
}

int shmet__seg_unlink(const char *ns)
{
    char path[256];
    int rc = shmet__seg_path(ns, path, sizeof(path));

    if (rc < 0)
        return rc;
    return unlink(path) < 0 ? -errno : 0;
}
