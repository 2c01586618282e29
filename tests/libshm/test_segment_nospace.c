/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_segment_nospace.c - libshm/segment.c when the shared
 * memory file system is full: space is reserved at creation
 * (posix_fallocate), so a segment that does not fit fails with -ENOSPC at
 * create time and leaves nothing behind, instead of a SIGBUS later.
 *
 * Needs a private 1 MiB tmpfs: the test enters its own mount namespace
 * (so the mount disappears with the process, whatever happens) and mounts
 * one on a mkdtemp directory. Without the privilege to do so it exits 77
 * (skipped).
 */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_segdir.h"
#include "t_util.h"

#define SKIP 77

static char g_dir[256]; /* the private segment directory */

/* The default geometry (~32 MiB) cannot be reserved in 1 MiB. */
static void test_seg_open_nospace_default(void)
{
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "nospc");
    memset(&seg, 0x5a, sizeof(seg));
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, SHMET_SEG_CREATE, 0600, &seg), -ENOSPC);
    CU_ASSERT_EQUAL(seg.slots, 0x5a5a5a5a);   /* out untouched */
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0); /* no segment, no temporary */
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, 0, 0, &seg), -ENOENT);
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &seg),
                    -ENOSPC);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* Just over the free space fails, a small one fits, and a failure after
 * that leaves the existing segment alone and its space reusable. */
static void test_seg_open_nospace_partial(void)
{
    struct shmet__geometry small = {1, 64, 4096}, big = {2, 64, 512u << 10};
    struct shmet__seg a, b;
    char ns1[64], ns2[64], ns3[64];

    t_ns(ns1, sizeof(ns1), "nospc");
    t_ns(ns2, sizeof(ns2), "nospc");
    t_ns(ns3, sizeof(ns3), "nospc");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns1, &small, SHMET_SEG_CREATE, 0600, &a), 0);
    CU_ASSERT_TRUE(a.created);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 1);
    /* 4096 + 2 * (1024 + 512 KiB) > 1 MiB */
    CU_ASSERT_EQUAL(shmet__seg_open(ns2, &big, SHMET_SEG_CREATE, 0600, &b), -ENOSPC);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 1);
    /* The first segment is intact and usable. */
    CU_ASSERT_EQUAL(a.hdr->magic, SHMET_ABI_MAGIC);
    T_STORE(&shmet__slot(&a, 0)->head, 7);
    shmet__seg_close(&a);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns1, NULL, 0, 0, &a), 0);
    CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&a, 0)->head), 7);
    shmet__seg_close(&a);
    /* The failed creation released what it had reserved. */
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns3, &small, SHMET_SEG_CREATE, 0600, &b), 0);
    shmet__seg_close(&b);
    t_ns_cleanup(ns1);
    t_ns_cleanup(ns3);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* Enter a private mount namespace and mount a 1 MiB tmpfs on g_dir.
 * Returns 0, or -1 when not permitted. */
static int mount_tiny(void)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

    if (unshare(CLONE_NEWNS) < 0)
        return -1;
    /* Keep our mounts from propagating to the parent namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    snprintf(g_dir, sizeof(g_dir), "%s/shmetrics-nospace-XXXXXX", base);
    if (mkdtemp(g_dir) == NULL)
        return -1;
    if (mount("tmpfs", g_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") < 0) {
        rmdir(g_dir);
        return -1;
    }
    return setenv(SHMET_DIR_ENV, g_dir, 1);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_seg_open_nospace_default", test_seg_open_nospace_default},
        {"test_seg_open_nospace_partial", test_seg_open_nospace_partial},
    };
    int rc;

    if (mount_tiny() < 0) {
        fprintf(stderr, "skipped: cannot mount a private tmpfs (needs CAP_SYS_ADMIN)\n");
        return SKIP;
    }
    rc = T_RUN("segment_nospace", tests);
    umount(g_dir);
    rmdir(g_dir);
    return rc;
}
