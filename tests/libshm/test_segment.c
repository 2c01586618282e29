/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_segment.c - libshm/segment.c: namespace and geometry
 * validation, create and attach, and every refusal of a bad segment file
 * with its own error code. The creation race is in test_segment_race.c,
 * a full file system in test_segment_nospace.c.
 *
 * All segments live in a private directory (t_segdir.h) so that a test can
 * assert on the exact set of files left behind.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_segdir.h"
#include "t_util.h"

/* ---- helpers -------------------------------------------------------- */

static int file_exists(const char *ns)
{
    char path[PATH_MAX];
    struct stat st;

    t_segdir_path(ns, path, sizeof(path));
    return stat(path, &st) == 0;
}

/* Create a real segment for ns and unmap it, leaving the file. */
static void make_seg(const char *ns, uint32_t slots, uint32_t ring, uint32_t arena)
{
    struct shmet__geometry g = {slots, ring, arena};
    struct shmet__seg seg;

    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &seg), 0);
    shmet__seg_close(&seg);
}

static void patch(const char *ns, off_t off, const void *val, size_t len)
{
    char path[PATH_MAX];
    int fd;

    t_segdir_path(ns, path, sizeof(path));
    fd = open(path, O_RDWR);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(pwrite(fd, val, len, off), (ssize_t)len);
    close(fd);
}

static void patch_u16(const char *ns, size_t off, uint16_t v)
{
    patch(ns, (off_t)off, &v, sizeof(v));
}

static void patch_u32(const char *ns, size_t off, uint32_t v)
{
    patch(ns, (off_t)off, &v, sizeof(v));
}

static void patch_u64(const char *ns, size_t off, uint64_t v)
{
    patch(ns, (off_t)off, &v, sizeof(v));
}

static void resize(const char *ns, off_t size)
{
    char path[PATH_MAX];

    t_segdir_path(ns, path, sizeof(path));
    CU_ASSERT_EQUAL(truncate(path, size), 0);
}

/* Write a file of n bytes of value byte as the segment of ns. */
static void write_raw(const char *ns, int byte, size_t n)
{
    char path[PATH_MAX];
    uint8_t *buf = malloc(n + 1);
    int fd;

    memset(buf, byte, n + 1);
    t_segdir_path(ns, path, sizeof(path));
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, buf, n), (ssize_t)n);
    close(fd);
    free(buf);
}

/* Attach read-write (no create) and return the result; unmaps on success. */
static int try_attach(const char *ns)
{
    struct shmet__seg seg;
    int rc = shmet__seg_open(ns, NULL, 0, 0, &seg);

    if (rc == 0)
        shmet__seg_close(&seg);
    return rc;
}

/* Permissions ("r--s", "rw-s") of the mapping holding addr, from
 * /proc/self/maps. */
static int map_perms(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;

    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && (uintptr_t)addr >= lo &&
            (uintptr_t)addr < hi)
            found = 1;
    }
    fclose(f);
    return found;
}

/* ---- namespaces ------------------------------------------------------ */

static void test_ns_check_valid(void)
{
    char ns64[SHMET_NS_MAX + 1];

    memset(ns64, 'a', SHMET_NS_MAX);
    ns64[SHMET_NS_MAX] = '\0';
    CU_ASSERT_EQUAL(shmet__ns_check("a"), 0);
    CU_ASSERT_EQUAL(shmet__ns_check("default"), 0);
    CU_ASSERT_EQUAL(shmet__ns_check("AZaz09_.-"), 0);
    CU_ASSERT_EQUAL(shmet__ns_check("web.prod-1_x"), 0);
    CU_ASSERT_EQUAL(shmet__ns_check(ns64), 0);
}

static void test_ns_check_invalid(void)
{
    char ns65[SHMET_NS_MAX + 2];

    memset(ns65, 'a', SHMET_NS_MAX + 1);
    ns65[SHMET_NS_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(shmet__ns_check(NULL), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check(""), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check(ns65), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("a/b"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("/etc"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("a b"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("a\nb"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("a:b"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("caf\xc3\xa9"), -EINVAL);
    CU_ASSERT_EQUAL(shmet__ns_check("a*"), -EINVAL);
}

static void test_ns_resolve_env(void)
{
    const char *old = getenv(SHMET_NS_ENV);
    char *saved = old != NULL ? strdup(old) : NULL;

    unsetenv(SHMET_NS_ENV);
    CU_ASSERT_STRING_EQUAL(shmet__ns_resolve(NULL), SHMET_NS_DEFAULT);
    CU_ASSERT_STRING_EQUAL(shmet__ns_resolve(NULL), "default");
    setenv(SHMET_NS_ENV, "", 1);
    CU_ASSERT_STRING_EQUAL(shmet__ns_resolve(NULL), "default");
    setenv(SHMET_NS_ENV, "fromenv", 1);
    CU_ASSERT_STRING_EQUAL(shmet__ns_resolve(NULL), "fromenv");
    CU_ASSERT_STRING_EQUAL(shmet__ns_resolve("explicit"), "explicit");
    if (saved != NULL)
        setenv(SHMET_NS_ENV, saved, 1);
    else
        unsetenv(SHMET_NS_ENV);
    free(saved);
}

static void test_seg_path_format(void)
{
    char want[PATH_MAX], got[PATH_MAX], tiny[8];

    snprintf(want, sizeof(want), "%s/shmetrics.abc", getenv(SHMET_DIR_ENV));
    CU_ASSERT_EQUAL(shmet__seg_path("abc", got, sizeof(got)), 0);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT_EQUAL(shmet__seg_path("a/b", got, sizeof(got)), -EINVAL);
    CU_ASSERT_EQUAL(shmet__seg_path("abc", tiny, sizeof(tiny)), -ENAMETOOLONG);
    CU_ASSERT_STRING_EQUAL(shmet__shm_dir(), getenv(SHMET_DIR_ENV));
}

static void test_seg_open_invalid_ns(void)
{
    struct shmet__seg seg;

    CU_ASSERT_EQUAL(shmet__seg_open("a/b", NULL, SHMET_SEG_CREATE, 0600, &seg), -EINVAL);
    CU_ASSERT_EQUAL(shmet__seg_open("", NULL, SHMET_SEG_CREATE, 0600, &seg), -EINVAL);
    CU_ASSERT_EQUAL(shmet__seg_open("..", NULL, 0, 0, &seg), -ENOENT);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* ---- geometry -------------------------------------------------------- */

static int geo(uint32_t slots, uint32_t ring, uint32_t arena)
{
    struct shmet__geometry g = {slots, ring, arena};

    return shmet__geometry_check(&g);
}

static void test_geometry_check_limits(void)
{
    CU_ASSERT_EQUAL(geo(1, 64, 4096), 0);
    CU_ASSERT_EQUAL(geo(64, 16384, 262144), 0);
    CU_ASSERT_EQUAL(geo(SHMET_SLOTS_MAX, 64, 4096), 0);
    CU_ASSERT_EQUAL(geo(1, SHMET_RING_MAX, 4096), 0);
    CU_ASSERT_EQUAL(geo(1, 64, SHMET_ARENA_MAX), 0);
    CU_ASSERT_EQUAL(geo(1, 64, 4096 + 64), 0);
    /* slots */
    CU_ASSERT_EQUAL(geo(0, 64, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(SHMET_SLOTS_MAX + 1, 64, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(UINT32_MAX, 64, 4096), -EINVAL);
    /* ring: power of two in [64, 2^24] */
    CU_ASSERT_EQUAL(geo(1, 32, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 0, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 100, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 65, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, SHMET_RING_MAX * 2, 4096), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, SHMET_RING_MAX + 64, 4096), -EINVAL);
    /* arena: multiple of 64 in [4096, 64 MiB] */
    CU_ASSERT_EQUAL(geo(1, 64, 4095), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 64, 4032), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 64, 4100), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 64, SHMET_ARENA_MAX + 64), -EINVAL);
    CU_ASSERT_EQUAL(geo(1, 64, 0), -EINVAL);
}

/* The total is capped at SHMET_SEGMENT_MAX (64 GiB): 4096 slots with an
 * 8 MiB ring and an arena of 8 MiB - 320 bytes is the largest segment of
 * that shape; 64 bytes more per slot is over. */
static void test_geometry_check_total_size(void)
{
    struct shmet__geometry fit = {4096, 1u << 19, (8u << 20) - 320};
    struct shmet__geometry over = {4096, 1u << 19, (8u << 20) - 256};
    uint64_t off;

    /* 1052672 + 4096 * (8 MiB + 8 MiB - 320) */
    CU_ASSERT_EQUAL(shmet__geometry_size(&fit, &off), UINT64_C(68719218688));
    CU_ASSERT_EQUAL(off, 1052672);
    CU_ASSERT_TRUE(shmet__geometry_size(&fit, &off) <= SHMET_SEGMENT_MAX);
    CU_ASSERT_TRUE(shmet__geometry_size(&over, &off) > SHMET_SEGMENT_MAX);
    CU_ASSERT_EQUAL(shmet__geometry_check(&fit), 0);
    CU_ASSERT_EQUAL(shmet__geometry_check(&over), -EINVAL);
    CU_ASSERT_EQUAL(geo(SHMET_SLOTS_MAX, SHMET_RING_MAX, SHMET_ARENA_MAX), -EINVAL);
}

static void test_geometry_size_layout(void)
{
    struct shmet__geometry g1 = {1, 64, 4096}, g15 = {15, 64, 4096}, g16 = {16, 64, 4096};
    uint64_t off;

    CU_ASSERT_EQUAL(shmet__geometry_size(&g1, &off), 4096 + 1024 + 4096);
    CU_ASSERT_EQUAL(off, 4096);
    /* 256 + 15 * 256 = 4096 exactly: still one page. */
    CU_ASSERT_EQUAL(shmet__geometry_size(&g15, &off), 4096 + 15 * 5120);
    CU_ASSERT_EQUAL(off, 4096);
    CU_ASSERT_EQUAL(shmet__geometry_size(&g16, &off), 8192 + 16 * 5120);
    CU_ASSERT_EQUAL(off, 8192);
}

static void test_seg_open_create_invalid_geometry(void)
{
    struct shmet__geometry g = {0, 64, 4096};
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &seg), -EINVAL);
    g = (struct shmet__geometry){1, 100, 4096};
    CU_ASSERT_EQUAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &seg), -EINVAL);
    CU_ASSERT_FALSE(file_exists(ns));
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* ---- create and attach ----------------------------------------------- */

static void test_seg_open_create_then_attach(void)
{
    struct shmet__geometry g = {3, 128, 8192};
    struct shmet__seg a, b;
    char ns[64], name[128];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, &a), 0);
    CU_ASSERT_TRUE(a.created);
    CU_ASSERT_FALSE(a.readonly);
    CU_ASSERT_STRING_EQUAL(a.ns, ns);
    CU_ASSERT_EQUAL(a.slots, 3);
    CU_ASSERT_EQUAL(a.ring_records, 128);
    CU_ASSERT_EQUAL(a.arena_bytes, 8192);
    CU_ASSERT_EQUAL(a.data_offset, 4096);
    CU_ASSERT_EQUAL(a.slot_stride, 128 * 16 + 8192);
    CU_ASSERT_EQUAL(a.size, 4096 + 3 * (128 * 16 + 8192));
    CU_ASSERT_EQUAL(a.abi_minor, SHMET_ABI_MINOR);
    CU_ASSERT_EQUAL(a.hdr->magic, SHMET_ABI_MAGIC);
    CU_ASSERT_EQUAL(a.hdr->abi_major, SHMET_ABI_MAJOR);
    CU_ASSERT_EQUAL(a.hdr->segment_size, a.size);
    CU_ASSERT_NOT_EQUAL(a.hdr->created_ns, 0);
    for (uint32_t i = 0; i < a.slots; i++)
        CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&a, i)->state), SHMET_SLOT_FREE);

    /* A second attach (no create flag, no geometry) sees the same. */
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, &b), 0);
    CU_ASSERT_FALSE(b.created);
    CU_ASSERT_FALSE(b.readonly);
    CU_ASSERT_EQUAL(b.slots, a.slots);
    CU_ASSERT_EQUAL(b.ring_records, a.ring_records);
    CU_ASSERT_EQUAL(b.arena_bytes, a.arena_bytes);
    CU_ASSERT_EQUAL(b.data_offset, a.data_offset);
    CU_ASSERT_EQUAL(b.slot_stride, a.slot_stride);
    CU_ASSERT_EQUAL(b.size, a.size);
    CU_ASSERT_EQUAL(b.hdr->created_ns, a.hdr->created_ns);
    /* Same object: a store through one mapping is seen through the other. */
    T_STORE(&shmet__slot(&a, 2)->head, 12345);
    CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&b, 2)->head), 12345);
    shmet__seg_close(&b);
    shmet__seg_close(&a);
    snprintf(name, sizeof(name), "shmetrics.%s", ns);
    CU_ASSERT_EQUAL(t_segdir_count(name), 1);
    t_ns_cleanup(ns);
}

/* Geometry is fixed at creation: a later CREATE with another geometry
 * attaches to the existing segment and reports its geometry. */
static void test_seg_open_create_existing_keeps_geometry(void)
{
    struct shmet__geometry g1 = {2, 64, 4096}, g2 = {5, 256, 8192};
    struct shmet__seg a, b;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g1, SHMET_SEG_CREATE, 0600, &a), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g2, SHMET_SEG_CREATE, 0600, &b), 0);
    CU_ASSERT_TRUE(a.created);
    CU_ASSERT_FALSE(b.created);
    CU_ASSERT_EQUAL(b.slots, 2);
    CU_ASSERT_EQUAL(b.ring_records, 64);
    CU_ASSERT_EQUAL(b.arena_bytes, 4096);
    CU_ASSERT_EQUAL(b.size, a.size);
    shmet__seg_close(&b);
    shmet__seg_close(&a);
    t_ns_cleanup(ns);
}

static void test_seg_open_default_geometry(void)
{
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_CREATE, 0600, &seg), 0);
    CU_ASSERT_EQUAL(seg.slots, SHMET_DEFAULT_SLOTS);
    CU_ASSERT_EQUAL(seg.ring_records, SHMET_DEFAULT_RING_RECORDS);
    CU_ASSERT_EQUAL(seg.arena_bytes, SHMET_DEFAULT_ARENA_BYTES);
    CU_ASSERT_EQUAL(seg.size, 20480 + 64 * 524288);
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

/* The mode is applied as given (fchmod), whatever the umask. */
static void test_seg_open_create_mode(void)
{
    struct shmet__geometry g = {1, 64, 4096};
    struct shmet__seg seg;
    char ns[64], path[PATH_MAX];
    struct stat st;
    mode_t old = umask(077);

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0640, &seg), 0);
    umask(old);
    t_segdir_path(ns, path, sizeof(path));
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
    CU_ASSERT_TRUE(S_ISREG(st.st_mode));
    CU_ASSERT_EQUAL((uint64_t)st.st_size, seg.size);
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

static void test_seg_open_excl(void)
{
    struct shmet__geometry g = {1, 64, 4096}, g2 = {2, 64, 4096};
    struct shmet__seg a, b;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &a), 0);
    CU_ASSERT_TRUE(a.created);
    memset(&b, 0x5a, sizeof(b));
    CU_ASSERT_EQUAL(shmet__seg_open(ns, &g2, SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &b), -EEXIST);
    CU_ASSERT_EQUAL(b.slots, 0x5a5a5a5a); /* out written only on success */
    CU_ASSERT_EQUAL(a.hdr->slots, 1);     /* the existing one is untouched */
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 1);
    shmet__seg_close(&a);
    t_ns_cleanup(ns);
}

static void test_seg_open_missing_enoent(void)
{
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, 0, 0, &seg), -ENOENT);
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), -ENOENT);
    CU_ASSERT_FALSE(file_exists(ns));
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

static void test_seg_open_rdonly_cannot_create(void)
{
    struct shmet__geometry g = {1, 64, 4096};
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    CU_ASSERT_EQUAL(shmet__seg_open(ns, &g, SHMET_SEG_RDONLY | SHMET_SEG_CREATE, 0600, &seg),
                    -EINVAL);
    CU_ASSERT_EQUAL(
        shmet__seg_open(ns, &g, SHMET_SEG_RDONLY | SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &seg),
        -EINVAL);
    CU_ASSERT_EQUAL(shmet__seg_open(ns, &g, SHMET_SEG_RDONLY, 0600, &seg), -ENOENT);
    CU_ASSERT_FALSE(file_exists(ns));
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* A read-only attach maps the object PROT_READ and refuses to write. */
static void test_seg_open_rdonly_maps_readonly(void)
{
    struct shmet__owner o = {.pid = 1, .tid = 1, .start_time = 1};
    struct shmet__seg rw, ro;
    uint32_t idx, gen;
    char ns[64], perms[5] = "";

    t_ns(ns, sizeof(ns), "seg");
    make_seg(ns, 2, 64, 4096);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &ro), 0);
    CU_ASSERT_TRUE(ro.readonly);
    CU_ASSERT_FALSE(ro.created);
    CU_ASSERT_EQUAL(ro.slots, 2);
    CU_ASSERT_TRUE(map_perms(ro.base, perms));
    CU_ASSERT_STRING_EQUAL(perms, "r--s");
    CU_ASSERT_EQUAL(shmet__slot_claim(&ro, &o, 0, &idx, &gen), -EROFS);
    CU_ASSERT_EQUAL(shmet__slot_retire(&ro, 0, 1), -EINVAL);
    CU_ASSERT_EQUAL(shmet__slot_free(&ro, 0, 1), -EINVAL);
    /* A read-write attach of the same object is writable. */
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, &rw), 0);
    CU_ASSERT_TRUE(map_perms(rw.base, perms));
    CU_ASSERT_STRING_EQUAL(perms, "rw-s");
    CU_ASSERT_EQUAL(shmet__slot_claim(&rw, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&ro, idx)->state), SHMET_SLOT_ACTIVE);
    shmet__seg_close(&rw);
    shmet__seg_close(&ro);
    t_ns_cleanup(ns);
}

static void test_seg_close_null_noop(void)
{
    struct shmet__seg seg;
    char ns[64];

    shmet__seg_close(NULL);
    t_ns(ns, sizeof(ns), "seg");
    make_seg(ns, 1, 64, 4096);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg), 0);
    shmet__seg_close(&seg);
    CU_ASSERT_PTR_NULL(seg.base);
    CU_ASSERT_PTR_NULL(seg.hdr);
    shmet__seg_close(&seg); /* a second close is a no-op */
    t_ns_cleanup(ns);
}

static void test_seg_unlink_removes(void)
{
    char ns[64];

    t_ns(ns, sizeof(ns), "seg");
    make_seg(ns, 1, 64, 4096);
    CU_ASSERT_TRUE(file_exists(ns));
    CU_ASSERT_EQUAL(shmet__seg_unlink(ns), 0);
    CU_ASSERT_FALSE(file_exists(ns));
    CU_ASSERT_EQUAL(try_attach(ns), -ENOENT);
    CU_ASSERT_EQUAL(shmet__seg_unlink(ns), -ENOENT);
    CU_ASSERT_EQUAL(shmet__seg_unlink("a/b"), -EINVAL);
}

/* ---- refusals of bad files ------------------------------------------- */

static void test_seg_open_refuses_bad_magic(void)
{
    char ns[64];

    t_ns(ns, sizeof(ns), "bad");
    make_seg(ns, 1, 64, 4096);
    patch_u64(ns, 0, SHMET_ABI_MAGIC ^ 1);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_NOTSEG);
    CU_ASSERT_EQUAL(try_attach(ns), -EBADMSG);
    t_ns_cleanup(ns);

    /* Some other file of the right size class: text, zeros. */
    write_raw(ns, 'x', 9216);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_NOTSEG);
    write_raw(ns, 0, 4096);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_NOTSEG);
    t_ns_cleanup(ns);
}

static void test_seg_open_refuses_abi_major(void)
{
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "bad");
    make_seg(ns, 1, 64, 4096);
    patch_u16(ns, 8, SHMET_ABI_MAJOR + 1);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_ABI);
    CU_ASSERT_EQUAL(try_attach(ns), -EPROTONOSUPPORT);
    patch_u16(ns, 8, 0);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_ABI);
    patch_u16(ns, 8, 0xffff);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_ABI);
    /* A newer minor of the same major is accepted and reported. */
    patch_u16(ns, 8, SHMET_ABI_MAJOR);
    patch_u16(ns, 10, SHMET_ABI_MINOR + 7);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg), 0);
    CU_ASSERT_EQUAL(seg.abi_minor, SHMET_ABI_MINOR + 7);
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

static void test_seg_open_refuses_truncated(void)
{
    uint64_t size = 4096 + 1024 + 4096;
    char ns[64];

    t_ns(ns, sizeof(ns), "bad");
    /* Shorter than a header, whatever it holds. */
    write_raw(ns, 0, 0);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_TRUNCATED);
    CU_ASSERT_EQUAL(try_attach(ns), -ENODATA);
    write_raw(ns, 'x', 100);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_TRUNCATED);
    t_ns_cleanup(ns);
    /* A real segment chopped just below a full header. */
    make_seg(ns, 1, 64, 4096);
    resize(ns, sizeof(struct shmet_abi_header) - 1);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_TRUNCATED);
    t_ns_cleanup(ns);
    /* A valid header, the file shorter than segment_size. */
    make_seg(ns, 1, 64, 4096);
    CU_ASSERT_EQUAL(try_attach(ns), 0);
    resize(ns, (off_t)size - 1);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_TRUNCATED);
    resize(ns, sizeof(struct shmet_abi_header));
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_TRUNCATED);
    resize(ns, (off_t)size);
    CU_ASSERT_EQUAL(try_attach(ns), 0);
    t_ns_cleanup(ns);
}

/* Each header field that describes the geometry, broken on its own. */
static void test_seg_open_refuses_geometry(void)
{
    static const struct {
        size_t off;
        int width;
        uint64_t value;
    } cases[] = {
        {12, 4, 128},                       /* header_size */
        {12, 4, 512},                       /* header_size */
        {36, 4, 128},                       /* slot_size */
        {24, 4, 0},                         /* slots below minimum */
        {24, 4, SHMET_SLOTS_MAX + 1},       /* slots above maximum */
        {24, 4, 2},                         /* slots inconsistent with sizes */
        {28, 4, 100},                       /* ring not a power of two */
        {28, 4, 32},                        /* ring below minimum */
        {28, 4, SHMET_RING_MAX * 2u},       /* ring above maximum */
        {28, 4, 128},                       /* ring inconsistent with sizes */
        {32, 4, 4100},                      /* arena not a multiple of 64 */
        {32, 4, 2048},                      /* arena below minimum */
        {32, 4, SHMET_ARENA_MAX + 64u},     /* arena above maximum */
        {16, 8, 4096 + 1024 + 4096 + 4096}, /* segment_size */
        {16, 8, 0},                         /* segment_size */
        {40, 8, 8192},                      /* data_offset */
        {40, 8, 256},                       /* data_offset */
        {48, 8, 1024 + 4096 + 64},          /* slot_stride */
        {48, 8, 0},                         /* slot_stride */
    };
    char ns[64];

    t_ns(ns, sizeof(ns), "bad");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_seg(ns, 1, 64, 4096);
        if (cases[i].width == 4)
            patch_u32(ns, cases[i].off, (uint32_t)cases[i].value);
        else
            patch_u64(ns, cases[i].off, cases[i].value);
        CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_GEOMETRY);
        t_ns_cleanup(ns);
    }
    /* A file larger than its header says is inconsistent too. */
    make_seg(ns, 1, 64, 4096);
    resize(ns, 4096 + 1024 + 4096 + 4096);
    CU_ASSERT_EQUAL(try_attach(ns), SHMET_E_GEOMETRY);
    CU_ASSERT_EQUAL(try_attach(ns), -EDOM);
    t_ns_cleanup(ns);
}

/* Regression: a FIFO (anything but a regular file) at the segment's name
 * made a read-only attach block in open(2) until a writer appeared, and a
 * read-write attach fail with -ESPIPE. Both must refuse it as not a
 * segment, at once. The attach runs in a child with a watchdog alarm so
 * that a regression fails the test instead of hanging it. */
static void test_seg_open_refuses_fifo(void)
{
    char ns[64], path[PATH_MAX];
    int status, rc;
    pid_t pid;

    t_ns(ns, sizeof(ns), "bad");
    t_segdir_path(ns, path, sizeof(path));
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct shmet__seg seg;

        alarm(60); /* watchdog only: the correct outcome is immediate */
        rc = shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg);
        if (rc != SHMET_E_NOTSEG)
            _exit(1);
        rc = shmet__seg_open(ns, NULL, 0, 0, &seg);
        if (rc != SHMET_E_NOTSEG)
            _exit(2);
        rc = shmet__seg_open(ns, NULL, SHMET_SEG_CREATE, 0600, &seg);
        _exit(rc == SHMET_E_NOTSEG ? 0 : 3);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
    CU_ASSERT_EQUAL(unlink(path), 0);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

/* Refusals happen before anything is mapped and leave the file alone. */
static void test_seg_open_refusal_keeps_file(void)
{
    struct shmet__seg seg;
    char ns[64];

    t_ns(ns, sizeof(ns), "bad");
    make_seg(ns, 1, 64, 4096);
    patch_u64(ns, 0, 0);
    memset(&seg, 0x5a, sizeof(seg));
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, SHMET_SEG_CREATE, 0600, &seg), SHMET_E_NOTSEG);
    CU_ASSERT_EQUAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), SHMET_E_NOTSEG);
    CU_ASSERT_EQUAL(seg.slots, 0x5a5a5a5a);
    CU_ASSERT_TRUE(file_exists(ns));
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 1);
    t_ns_cleanup(ns);
}

/* ---- main ------------------------------------------------------------- */

int main(void)
{
    static const struct t_case tests[] = {
        {"test_ns_check_valid", test_ns_check_valid},
        {"test_ns_check_invalid", test_ns_check_invalid},
        {"test_ns_resolve_env", test_ns_resolve_env},
        {"test_seg_path_format", test_seg_path_format},
        {"test_seg_open_invalid_ns", test_seg_open_invalid_ns},
        {"test_geometry_check_limits", test_geometry_check_limits},
        {"test_geometry_check_total_size", test_geometry_check_total_size},
        {"test_geometry_size_layout", test_geometry_size_layout},
        {"test_seg_open_create_invalid_geometry", test_seg_open_create_invalid_geometry},
        {"test_seg_open_create_then_attach", test_seg_open_create_then_attach},
        {"test_seg_open_create_existing_keeps_geometry",
         test_seg_open_create_existing_keeps_geometry},
        {"test_seg_open_default_geometry", test_seg_open_default_geometry},
        {"test_seg_open_create_mode", test_seg_open_create_mode},
        {"test_seg_open_excl", test_seg_open_excl},
        {"test_seg_open_missing_enoent", test_seg_open_missing_enoent},
        {"test_seg_open_rdonly_cannot_create", test_seg_open_rdonly_cannot_create},
        {"test_seg_open_rdonly_maps_readonly", test_seg_open_rdonly_maps_readonly},
        {"test_seg_close_null_noop", test_seg_close_null_noop},
        {"test_seg_unlink_removes", test_seg_unlink_removes},
        {"test_seg_open_refuses_bad_magic", test_seg_open_refuses_bad_magic},
        {"test_seg_open_refuses_abi_major", test_seg_open_refuses_abi_major},
        {"test_seg_open_refuses_truncated", test_seg_open_refuses_truncated},
        {"test_seg_open_refuses_geometry", test_seg_open_refuses_geometry},
        {"test_seg_open_refuses_fifo", test_seg_open_refuses_fifo},
        {"test_seg_open_refusal_keeps_file", test_seg_open_refusal_keeps_file},
    };
    int rc;

    if (t_segdir_setup() < 0) {
        perror("segment directory");
        return 1;
    }
    rc = T_RUN("segment", tests);
    t_segdir_teardown();
    return rc;
}
