/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/seg.c - the segment as shmtool sees it: attached read-only
 * through libshm (which validates the header), attach failures explained
 * with the path and the offending header field. Snapshots of a slot's
 * control block come from libshm (snap.c), as the aggregator's do.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmtool.h"

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

