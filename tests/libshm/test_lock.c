/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_lock.c - libshm/lock.c and the locked claim of
 * libshm/slot.c (tag-slot-lock): a claim takes the slot lock and marks
 * the generation; another open file description sees it held, cannot take
 * it, and can once the owner releases it or dies; a slot whose lock is
 * held is skipped by claimers; a forked child gets a description of its
 * own, so that it neither pins its parent's locks nor has its own survive
 * it; a read-only attach can test locks but not take them.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_util.h"

static struct shmet__owner self_owner(void)
{
    struct shmet__owner o = {.pid = (int32_t)getpid(), .tid = shmet__gettid()};

    (void)shmet__proc_start_time(getpid(), &o.start_time);
    o.pid_ns = shmet__pid_ns();
    return o;
}

/* Two attachments of one new segment: each its own file description. */
static void seg_pair(struct shmet__seg *a, struct shmet__seg *b, char *ns, size_t len)
{
    struct shmet__geometry g = {4, 64, 4096};

    t_ns(ns, len, "lock");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, a), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, 0, 0, b), 0);
    CU_ASSERT_FATAL(a->has_lock_fd && b->has_lock_fd);
}

static void seg_pair_done(struct shmet__seg *a, struct shmet__seg *b, const char *ns)
{
    shmet__seg_close(a);
    shmet__seg_close(b);
    t_ns_cleanup(ns);
}

static void test_lock_held_seen_by_other_description(void)
{
    struct shmet__seg a, b;
    char ns[64];

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&a, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&a, 1), 0); /* our own: taken again */
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 1), 1);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&a, 1), 0); /* not held by another */
    CU_ASSERT_EQUAL(shmet__slot_lock(&b, 1), -EAGAIN);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 0), 0); /* one byte per slot */
    CU_ASSERT_EQUAL(shmet__slot_lock(&b, 2), 0);
    CU_ASSERT_EQUAL(shmet__slot_unlock(&a, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&b, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&a, 4), -EBADF); /* beyond the slots */
    seg_pair_done(&a, &b, ns);
}

static void test_claim_takes_lock_and_marks_generation(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg a, b;
    struct shmet_abi_slot *sl;
    uint32_t idx, gen;
    char ns[64];

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&a, &o, 2, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 2);
    sl = shmet__slot(&a, idx);
    CU_ASSERT_EQUAL(T_LOAD(&sl->lock_gen), gen);
    CU_ASSERT_EQUAL(T_LOAD(&sl->lock_claimer), 0); /* cleared with the word */
    CU_ASSERT_EQUAL(T_LOAD(&sl->claimer), 0);
    CU_ASSERT_EQUAL(T_LOAD(&sl->pid_ns), o.pid_ns);
    CU_ASSERT(o.pid_ns != 0);
    CU_ASSERT(shmet__slot_lock_aware(sl, gen));
    CU_ASSERT(!shmet__slot_lock_aware(sl, gen + 1));
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, idx), 1);
    seg_pair_done(&a, &b, ns);
}

/* A FREE slot whose lock another description holds (a claim under way
 * there) is skipped: the claim lands on the next one. */
static void test_claim_skips_locked_slot(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg a, b;
    uint32_t idx, gen;
    char ns[64];

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_EQUAL(shmet__slot_lock(&b, 0), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&a, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 1);
    CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&a, 0)->state), SHMET_SLOT_FREE);
    seg_pair_done(&a, &b, ns);
}

/* A claim without a descriptor for locks still works, marked as holding
 * none (lock_gen differs from the generation): judged by pid. */
static void test_claim_without_lock_fd(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg a, b;
    uint32_t idx, gen;
    char ns[64];

    seg_pair(&a, &b, ns, sizeof(ns));
    close(a.lock_fd);
    a.has_lock_fd = false;
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&a, &o, 0, &idx, &gen), 0);
    CU_ASSERT(!shmet__slot_lock_aware(shmet__slot(&a, idx), gen));
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, idx), 0);
    seg_pair_done(&a, &b, ns);
}

/* The kernel drops a dead owner's lock, whatever killed it. */
static void test_lock_dropped_when_owner_dies(void)
{
    struct shmet__seg a, b;
    int p[2], st;
    char ns[64], c;
    pid_t pid;

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_FATAL(pipe(p) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct shmet__seg own;
        struct shmet__owner o = self_owner();
        uint32_t idx, gen;
        if (shmet__seg_open(ns, NULL, 0, 0, &own) != 0 ||
            shmet__slot_claim(&own, &o, 3, &idx, &gen) != 0 || idx != 3)
            _exit(1);
        (void)!write(p[1], "c", 1);
        pause();
        _exit(0);
    }
    close(p[1]);
    CU_ASSERT_EQUAL_FATAL(read(p[0], &c, 1), 1);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 3), 1);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 3), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&b, 3), 0);
    close(p[0]);
    seg_pair_done(&a, &b, ns);
}

/* After fork, the child's descriptor is a description of its own: the
 * parent's locks go when the parent releases them even while the child
 * lives, and the child's go with the child. */
static void test_fork_child_reopens(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg a, b;
    uint32_t idx, gen;
    int to_child[2], to_parent[2], st;
    char ns[64], c;
    pid_t pid;

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&a, &o, 0, &idx, &gen), 0);
    CU_ASSERT_FATAL(pipe(to_child) == 0 && pipe(to_parent) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct shmet__owner co = self_owner();
        uint32_t ci, cg;
        int fd = a.lock_fd;
        shmet__seg_lock_fd_reopen(&a);
        if (!a.has_lock_fd || a.lock_fd != fd || shmet__slot_lock_held(&a, 0) != 1 ||
            shmet__slot_claim(&a, &co, 1, &ci, &cg) != 0 || ci != 1)
            _exit(1);
        (void)!write(to_parent[1], "c", 1);
        (void)!read(to_child[0], &c, 1);
        _exit(0);
    }
    CU_ASSERT_EQUAL_FATAL(read(to_parent[0], &c, 1), 1);
    /* The child's claim is its own: held against us too. */
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&a, 1), 1);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 1), 1);
    /* Ours is released by us alone, the child alive. */
    CU_ASSERT_EQUAL(shmet__slot_unlock(&a, 0), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 0), 0);
    CU_ASSERT_EQUAL(write(to_child[1], "x", 1), 1);
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&b, 1), 0); /* gone with the child */
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    seg_pair_done(&a, &b, ns);
}

static void test_readonly_tests_but_never_takes(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg a, b, ro;
    uint32_t idx, gen;
    char ns[64];

    seg_pair(&a, &b, ns, sizeof(ns));
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &ro), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&a, &o, 2, &idx, &gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&ro, idx), 1);
    CU_ASSERT_EQUAL(shmet__slot_lock_held(&ro, 0), 0);
    CU_ASSERT_EQUAL(shmet__slot_lock(&ro, 0), -EBADF);
    shmet__seg_close(&ro);
    CU_ASSERT(!ro.has_lock_fd);
    seg_pair_done(&a, &b, ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_lock_held_seen_by_other_description", test_lock_held_seen_by_other_description},
        {"test_claim_takes_lock_and_marks_generation",
         test_claim_takes_lock_and_marks_generation},
        {"test_claim_skips_locked_slot", test_claim_skips_locked_slot},
        {"test_claim_without_lock_fd", test_claim_without_lock_fd},
        {"test_lock_dropped_when_owner_dies", test_lock_dropped_when_owner_dies},
        {"test_fork_child_reopens", test_fork_child_reopens},
        {"test_readonly_tests_but_never_takes", test_readonly_tests_but_never_takes},
    };

    return T_RUN("lock", tests);
}
