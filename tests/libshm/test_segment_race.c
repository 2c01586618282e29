/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_segment_race.c - libshm/segment.c, the creation race:
 * eight processes, released at once through a pipe, each open the same
 * missing namespace with SHMET_SEG_CREATE, each asking for a different
 * geometry. Exactly one creates it, all see the creator's segment (same
 * created_ns, same geometry), and no temporary file is left behind. Runs
 * in a private segment directory (t_segdir.h) to check the last part.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_segdir.h"
#include "t_util.h"

#define RACERS 8
#define RACE_ROUNDS 16

struct race_report {
    int id; /* the racer: reports arrive in any order */
    int rc;
    int created;
    uint64_t created_ns;
    uint32_t slots, ring_records, arena_bytes;
    uint64_t size;
};

/* Racer i asks for i + 1 slots, so the geometry tells who created it. */
static void race_child(const char *ns, int i, int ready, int go, int res)
{
    struct shmet__geometry g = {(uint32_t)i + 1, 64, 4096};
    struct race_report r;
    struct shmet__seg seg;
    char c;

    memset(&r, 0, sizeof(r));
    r.id = i;
    if (write(ready, "r", 1) != 1)
        _exit(2);
    /* Blocks until the parent closes the write end: all racers go at once. */
    if (read(go, &c, 1) != 0)
        _exit(3);
    r.rc = shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0660, &seg);
    if (r.rc == 0) {
        r.created = seg.created;
        r.created_ns = seg.hdr->created_ns;
        r.slots = seg.slots;
        r.ring_records = seg.ring_records;
        r.arena_bytes = seg.arena_bytes;
        r.size = seg.size;
        shmet__seg_close(&seg);
    }
    /* sizeof(r) < PIPE_BUF: the write is atomic. */
    _exit(write(res, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 4);
}

/* Fork the racers, wait until all are ready, release them together and
 * collect their reports (in arrival order). */
static void race_run(const char *ns, struct race_report r[RACERS])
{
    int ready[2], go[2], res[2], status;
    pid_t pids[RACERS];
    char c;

    CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0 && pipe(res) == 0);
    for (int i = 0; i < RACERS; i++) {
        pids[i] = fork();
        CU_ASSERT_FATAL(pids[i] >= 0);
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(res[0]);
            race_child(ns, i, ready[1], go[0], res[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(res[1]);
    for (int i = 0; i < RACERS; i++)
        CU_ASSERT_EQUAL(read(ready[0], &c, 1), 1);
    close(go[1]); /* release them all */
    for (int i = 0; i < RACERS; i++)
        CU_ASSERT_EQUAL(read(res[0], &r[i], sizeof(r[i])), (ssize_t)sizeof(r[i]));
    for (int i = 0; i < RACERS; i++) {
        CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(ready[0]);
    close(res[0]);
}

static void race_round(void)
{
    struct race_report r[RACERS];
    int creators = 0, creator = -1, ok = 1;
    unsigned ids = 0;
    struct shmet__seg seg;
    char ns[64], name[128];

    t_ns(ns, sizeof(ns), "race");
    memset(r, 0, sizeof(r));
    race_run(ns, r);
    for (int i = 0; i < RACERS; i++) {
        ok &= r[i].rc == 0 && r[i].id >= 0 && r[i].id < RACERS && !(ids & (1u << r[i].id));
        ids |= 1u << (r[i].id & 31);
        if (r[i].created) {
            creators++;
            creator = r[i].id;
        }
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(ids, (1u << RACERS) - 1); /* every racer reported once */
    CU_ASSERT_EQUAL_FATAL(creators, 1);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg), 0);
    for (int i = 0; i < RACERS; i++) {
        CU_ASSERT_EQUAL(r[i].created_ns, seg.hdr->created_ns);
        CU_ASSERT_EQUAL(r[i].slots, seg.slots);
        CU_ASSERT_EQUAL(r[i].ring_records, seg.ring_records);
        CU_ASSERT_EQUAL(r[i].arena_bytes, seg.arena_bytes);
        CU_ASSERT_EQUAL(r[i].size, seg.size);
    }
    /* The creator's geometry won: racer i asked for i + 1 slots. */
    CU_ASSERT_EQUAL(seg.slots, (uint32_t)creator + 1);
    shmet__seg_close(&seg);
    /* Exactly one file: the segment; no temporary left by any racer. */
    snprintf(name, sizeof(name), "shmetrics.%s", ns);
    CU_ASSERT_EQUAL(t_segdir_count(name), 1);
    t_ns_cleanup(ns);
    CU_ASSERT_EQUAL(t_segdir_count(NULL), 0);
}

static void test_seg_open_creation_race(void)
{
    for (int round = 0; round < RACE_ROUNDS; round++)
        race_round();
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_seg_open_creation_race", test_seg_open_creation_race},
    };
    int rc;

    if (t_segdir_setup() < 0) {
        perror("segment directory");
        return 1;
    }
    rc = T_RUN("segment_race", tests);
    t_segdir_teardown();
    return rc;
}
