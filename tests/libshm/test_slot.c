/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_slot.c - libshm/slot.c: the slot life cycle
 * FREE -> CLAIMING -> ACTIVE -> DEAD -> FREE, generations, the refusals of
 * stale or premature transitions, and concurrent claims from threads and
 * processes checked against what a single owner would see (every claim
 * gets a slot nobody else holds; the generations add up to the claims).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_libshm.h"
#include "t_util.h"

#define THREADS 8
#define PROCS 4
#define CHURN_ROUNDS 20000

static struct shmet__owner self_owner(void)
{
    struct shmet__owner o = {.pid = (int32_t)getpid(), .tid = shmet__gettid()};

    (void)shmet__proc_start_time(getpid(), &o.start_time);
    return o;
}

static void seg_make(struct shmet__seg *seg, char *ns, size_t len, uint32_t slots)
{
    struct shmet__geometry g = {slots, 64, 4096};

    t_ns(ns, len, "slot");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, &g, SHMET_SEG_CREATE, 0600, seg), 0);
}

static void seg_done(struct shmet__seg *seg, const char *ns)
{
    shmet__seg_close(seg);
    t_ns_cleanup(ns);
}

static uint32_t state_of(struct shmet__seg *seg, uint32_t i)
{
    return T_LOAD(&shmet__slot(seg, i)->state);
}

static void test_slot_claim_sets_active_and_owner(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
    uint32_t idx = 99, gen = 99;
    uint64_t before, after;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 4);
    CU_ASSERT_NOT_EQUAL(o.start_time, 0);
    before = shmet__now_ns();
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    after = shmet__now_ns();
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_EQUAL(gen, 1);
    sl = shmet__slot(&seg, idx);
    CU_ASSERT_EQUAL(T_LOAD(&sl->state), SHMET_SLOT_ACTIVE);
    CU_ASSERT_EQUAL(T_LOAD(&sl->generation), 1);
    CU_ASSERT_EQUAL(T_LOAD(&sl->pid), getpid());
    CU_ASSERT_EQUAL(T_LOAD(&sl->tid), shmet__gettid());
    CU_ASSERT_EQUAL(T_LOAD(&sl->start_time), o.start_time);
    CU_ASSERT_TRUE(T_LOAD(&sl->claimed_ns) >= before);
    CU_ASSERT_TRUE(T_LOAD(&sl->claimed_ns) <= after);
    CU_ASSERT_EQUAL(T_LOAD(&sl->flags), 0);
    for (uint32_t i = 1; i < 4; i++)
        CU_ASSERT_EQUAL(state_of(&seg, i), SHMET_SLOT_FREE);
    seg_done(&seg, ns);
}

/* The hint picks the first slot tried; the scan wraps around. */
static void test_slot_claim_hint(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 4);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 2, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 2);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 2, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 3);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 3, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 4 * 1000 + 2, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 1);
    seg_done(&seg, ns);
}

/* Regression: the scan computed (hint + n) % slots in 32 bits, so a hint
 * near UINT32_MAX wrapped and tried some slots twice and others never:
 * with slots 0 and 1 taken, hint UINT32_MAX on 3 slots missed free slot 2
 * and reported -EAGAIN. */
static void test_slot_claim_hint_near_wrap(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 3);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 1, &idx, &gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, UINT32_MAX, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 2);
    for (uint32_t hint = UINT32_MAX - 5; hint != 3; hint++) {
        CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 2, gen), 0);
        CU_ASSERT_EQUAL(shmet__slot_free(&seg, 2, gen), 0);
        CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, hint, &idx, &gen), 0);
        CU_ASSERT_EQUAL(idx, 2);
    }
    seg_done(&seg, ns);
}

/* Every claim increments the generation, and resets what the previous
 * owner left in the slot. */
static void test_slot_claim_generation_increments(void)
{
    struct shmet__owner o1 = {1111, 1112, 42, 0}, o2 = {2222, 2223, 43, 0};
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 1);
    sl = shmet__slot(&seg, 0);
    for (uint32_t round = 1; round <= 5; round++) {
        const struct shmet__owner *o = (round & 1) ? &o1 : &o2;

        CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&seg, o, 0, &idx, &gen), 0);
        CU_ASSERT_EQUAL(idx, 0);
        CU_ASSERT_EQUAL(gen, round);
        CU_ASSERT_EQUAL(T_LOAD(&sl->generation), round);
        CU_ASSERT_EQUAL(T_LOAD(&sl->pid), o->pid);
        CU_ASSERT_EQUAL(T_LOAD(&sl->tid), o->tid);
        CU_ASSERT_EQUAL(T_LOAD(&sl->start_time), o->start_time);
        CU_ASSERT_EQUAL(T_LOAD(&sl->head), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->tail), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->dropped), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->arena_used), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->defines), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->arena_dropped), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->flags), 0);
        /* Leave debris for the next owner, then retire and free. */
        T_STORE(&sl->head, 100 + round);
        T_STORE(&sl->tail, 100 + round);
        T_STORE(&sl->dropped, 7);
        T_STORE(&sl->arena_used, 64);
        T_STORE(&sl->defines, 3);
        T_STORE(&sl->arena_dropped, 2);
        T_STORE(&sl->flags, SHMET_SLOT_F_QUARANTINED);
        CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 0, gen), 0);
        CU_ASSERT_EQUAL(shmet__slot_free(&seg, 0, gen), 0);
        CU_ASSERT_EQUAL(T_LOAD(&sl->state), SHMET_SLOT_FREE);
    }
    seg_done(&seg, ns);
}

/* Generation 0 means "never claimed": the counter skips it on wrap. */
static void test_slot_claim_generation_wraps_past_zero(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 1);
    T_STORE(&shmet__slot(&seg, 0)->generation, UINT32_MAX - 1);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(gen, UINT32_MAX);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 0, gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, 0, gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(gen, 1);
    CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&seg, 0)->generation), 1);
    seg_done(&seg, ns);
}

static void test_slot_claim_all_taken_eagain(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    uint32_t idx, gen, seen = 0;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 5);
    for (uint32_t i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
        seen |= 1u << idx;
    }
    CU_ASSERT_EQUAL(seen, 0x1f);
    idx = gen = 77;
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), -EAGAIN);
    CU_ASSERT_EQUAL(idx, 77); /* outputs written only on success */
    CU_ASSERT_EQUAL(gen, 77);
    /* DEAD and CLAIMING slots are not free either. */
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 3, 1), 0);
    T_STORE(&shmet__slot(&seg, 1)->state, SHMET_SLOT_CLAIMING);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), -EAGAIN);
    /* Freeing one makes exactly that one available. */
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, 3, 1), 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(idx, 3);
    CU_ASSERT_EQUAL(gen, 2);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), -EAGAIN);
    seg_done(&seg, ns);
}

/* ACTIVE -> DEAD only for the generation that holds it. */
static void test_slot_retire_generation_check(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 2);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 0, 0), -ESTALE); /* FREE */
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 0, 1), -ESTALE); /* FREE, gen 0 */
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, idx, gen + 1), -ESTALE);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, idx, gen - 1), -ESTALE);
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_ACTIVE);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, idx, gen), 0);
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_DEAD);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, idx, gen), -ESTALE); /* already DEAD */
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_DEAD);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 2, gen), -EINVAL);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, UINT32_MAX, gen), -EINVAL);
    /* A CLAIMING slot is not ACTIVE. */
    T_STORE(&shmet__slot(&seg, 1)->state, SHMET_SLOT_CLAIMING);
    T_STORE(&shmet__slot(&seg, 1)->generation, 5);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, 1, 5), -ESTALE);
    CU_ASSERT_EQUAL(state_of(&seg, 1), SHMET_SLOT_CLAIMING);
    seg_done(&seg, ns);
}

/* DEAD -> FREE only for the right generation and once the ring is empty. */
static void test_slot_free_requires_dead_and_empty(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    struct shmet_abi_slot *sl;
    uint32_t idx, gen;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 1);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, 0, 0), -ESTALE); /* already FREE */
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    sl = shmet__slot(&seg, idx);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen), -ESTALE); /* ACTIVE */
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_ACTIVE);
    CU_ASSERT_EQUAL(shmet__slot_retire(&seg, idx, gen), 0);
    /* Records left in the ring: head != tail. */
    T_STORE(&sl->head, 10);
    T_STORE(&sl->tail, 7);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen), -EBUSY);
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_DEAD);
    /* A corrupt tail beyond head is not empty either. */
    T_STORE(&sl->tail, 11);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen), -EBUSY);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen + 1), -ESTALE);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, 1, gen), -EINVAL);
    T_STORE(&sl->tail, 10);
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen), 0);
    CU_ASSERT_EQUAL(state_of(&seg, idx), SHMET_SLOT_FREE);
    CU_ASSERT_EQUAL(T_LOAD(&sl->generation), gen); /* kept until the next claim */
    CU_ASSERT_EQUAL(shmet__slot_free(&seg, idx, gen), -ESTALE);
    seg_done(&seg, ns);
}

/* A pid that names no process: a reaped child's. */
static int32_t gone_pid(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return (int32_t)pid;
}

/* A claimer killed in the middle of a claim (tag-slot-claim) leaves its
 * tid in the claim word: nobody else claims that slot, and unclaiming it
 * for that claimer (found gone) gives it back, whether it died before or
 * after moving the state. A claim word naming someone else is left. */
static void test_slot_unclaim_after_claimer_died(void)
{
    struct shmet__owner o = self_owner();
    struct shmet__seg seg;
    struct shmet_abi_slot *sl0, *sl1;
    uint32_t idx, gen;
    int32_t dead = gone_pid();
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 2);
    sl0 = shmet__slot(&seg, 0);
    sl1 = shmet__slot(&seg, 1);
    /* Slot 0: died after taking the word and moving the state. */
    T_STORE(&sl0->claimer, dead);
    T_STORE(&sl0->state, SHMET_SLOT_CLAIMING);
    /* Slot 1: died after taking the word, before moving the state. */
    T_STORE(&sl1->claimer, dead);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), -EAGAIN);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 0, dead + 1), -ESTALE);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 0, 0), -EINVAL);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 2, dead), -EINVAL);
    CU_ASSERT_EQUAL(T_LOAD(&sl0->claimer), dead);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 0, dead), 0);
    CU_ASSERT_EQUAL(state_of(&seg, 0), SHMET_SLOT_FREE);
    CU_ASSERT_EQUAL(T_LOAD(&sl0->claimer), 0);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 1, dead), 0);
    CU_ASSERT_EQUAL(state_of(&seg, 1), SHMET_SLOT_FREE);
    CU_ASSERT_EQUAL(T_LOAD(&sl1->claimer), 0);
    /* Both claimable again; a successful claim gives its word back. */
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(shmet__slot_claim(&seg, &o, 0, &idx, &gen), 0);
    CU_ASSERT_EQUAL(T_LOAD(&sl0->claimer), 0);
    CU_ASSERT_EQUAL(T_LOAD(&sl1->claimer), 0);
    /* An ACTIVE slot keeps its state; only the word is cleared. */
    T_STORE(&sl0->claimer, dead);
    CU_ASSERT_EQUAL(shmet__slot_unclaim(&seg, 0, dead), 0);
    CU_ASSERT_EQUAL(state_of(&seg, 0), SHMET_SLOT_ACTIVE);
    CU_ASSERT_EQUAL(T_LOAD(&sl0->claimer), 0);
    seg_done(&seg, ns);
}

static void test_slot_state_name(void)
{
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(SHMET_SLOT_FREE), "free");
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(SHMET_SLOT_CLAIMING), "claiming");
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(SHMET_SLOT_ACTIVE), "active");
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(SHMET_SLOT_DEAD), "dead");
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(4), "invalid");
    CU_ASSERT_STRING_EQUAL(shmet__slot_state_name(UINT32_MAX), "invalid");
}

/* ---- concurrency --------------------------------------------------------
 * Oracle: one owner at a time per slot. Each worker claims, marks the slot
 * as held in a side table (which must show nobody else), checks that the
 * slot carries its generation and identity, unmarks, retires and frees.
 * Afterwards the generations of all slots add up to the number of claims,
 * exactly as if the claims had run one after another. */

struct churn {
    struct shmet__seg *seg;
    _Atomic uint32_t *held; /* per slot: holders right now (must be 0/1) */
    uint32_t rounds;
    int32_t id;
    uint64_t claims, eagain, errors;
};

/* The side table needs no ordering of its own (RELAXED): its updates are
 * read-modify-writes on one counter per slot, totally ordered, and a
 * correct claim/free pair already orders one holder's decrement before the
 * next holder's increment; an overlap shows as a non-zero old value. */
static void churn_one(struct churn *c, const struct shmet__owner *o)
{
    uint32_t idx, gen;
    int rc = shmet__slot_claim(c->seg, o, (uint32_t)c->id, &idx, &gen);
    struct shmet_abi_slot *sl;

    if (rc == -EAGAIN) {
        c->eagain++;
        return;
    }
    if (rc != 0 || idx >= c->seg->slots) {
        c->errors++;
        return;
    }
    c->claims++;
    sl = shmet__slot(c->seg, idx);
    if (atomic_fetch_add_explicit(&c->held[idx], 1, memory_order_relaxed) != 0)
        c->errors++;
    if (atomic_load_explicit(&sl->generation, memory_order_relaxed) != gen ||
        atomic_load_explicit(&sl->tid, memory_order_relaxed) != o->tid ||
        atomic_load_explicit(&sl->state, memory_order_relaxed) != SHMET_SLOT_ACTIVE)
        c->errors++;
    atomic_fetch_sub_explicit(&c->held[idx], 1, memory_order_relaxed);
    if (shmet__slot_retire(c->seg, idx, gen) != 0 || shmet__slot_free(c->seg, idx, gen) != 0)
        c->errors++;
}

static void *churn_thread(void *arg)
{
    struct churn *c = arg;
    struct shmet__owner o = {(int32_t)getpid(), shmet__gettid(), 1, 0};

    for (uint32_t r = 0; r < c->rounds; r++)
        churn_one(c, &o);
    return NULL;
}

static uint64_t generation_sum(struct shmet__seg *seg)
{
    uint64_t sum = 0;

    for (uint32_t i = 0; i < seg->slots; i++)
        sum += T_LOAD(&shmet__slot(seg, i)->generation);
    return sum;
}

/* Fewer slots than threads, so claims collide and some find none free. */
static void test_slot_claim_concurrent_threads_churn(void)
{
    struct churn c[THREADS];
    pthread_t th[THREADS];
    _Atomic uint32_t held[3];
    struct shmet__seg seg;
    uint64_t claims = 0, errors = 0;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 3);
    for (int i = 0; i < 3; i++)
        atomic_init(&held[i], 0);
    for (int i = 0; i < THREADS; i++) {
        c[i] = (struct churn){.seg = &seg, .held = held, .rounds = CHURN_ROUNDS, .id = i};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, churn_thread, &c[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        claims += c[i].claims;
        errors += c[i].errors;
        CU_ASSERT_EQUAL(c[i].claims + c[i].eagain + c[i].errors, CHURN_ROUNDS);
    }
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_TRUE(claims > 0);
    CU_ASSERT_EQUAL(generation_sum(&seg), claims);
    for (uint32_t i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(state_of(&seg, i), SHMET_SLOT_FREE);
    seg_done(&seg, ns);
}

struct grab {
    struct shmet__seg *seg;
    int32_t id;
    uint32_t n;
    uint32_t idx[64];
    int last_rc;
};

static void *grab_thread(void *arg)
{
    struct grab *g = arg;
    struct shmet__owner o = {(int32_t)getpid(), shmet__gettid(), 1, 0};
    uint32_t idx, gen;
    int rc;

    while ((rc = shmet__slot_claim(g->seg, &o, 0, &idx, &gen)) == 0 && g->n < 64)
        g->idx[g->n++] = idx;
    g->last_rc = rc;
    return NULL;
}

/* Threads grab slots until none is left: together they hold every slot
 * exactly once, each with generation 1. */
static void test_slot_claim_concurrent_threads_exhaust(void)
{
    struct grab g[THREADS];
    pthread_t th[THREADS];
    struct shmet__seg seg;
    uint32_t count[64] = {0}, total = 0;
    char ns[64];

    seg_make(&seg, ns, sizeof(ns), 64);
    for (int i = 0; i < THREADS; i++) {
        g[i] = (struct grab){.seg = &seg, .id = i};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, grab_thread, &g[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(g[i].last_rc, -EAGAIN);
        for (uint32_t k = 0; k < g[i].n; k++)
            count[g[i].idx[k]]++;
        total += g[i].n;
    }
    CU_ASSERT_EQUAL(total, 64);
    for (uint32_t i = 0; i < 64; i++) {
        CU_ASSERT_EQUAL(count[i], 1);
        CU_ASSERT_EQUAL(T_LOAD(&shmet__slot(&seg, i)->generation), 1);
        CU_ASSERT_EQUAL(state_of(&seg, i), SHMET_SLOT_ACTIVE);
    }
    seg_done(&seg, ns);
}

/* The same churn from several processes sharing the segment; the side
 * table lives in a shared anonymous mapping. Each child's result comes
 * back through a pipe. */
static void test_slot_claim_concurrent_processes(void)
{
    struct shmet__seg seg;
    _Atomic uint32_t *held;
    uint64_t claims = 0, errors = 0, r[2];
    int fds[2], go[2], status;
    pid_t pids[PROCS];
    char ns[64], c;

    seg_make(&seg, ns, sizeof(ns), 3);
    held = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(held != MAP_FAILED);
    CU_ASSERT_FATAL(pipe(fds) == 0 && pipe(go) == 0);
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        CU_ASSERT_FATAL(pids[i] >= 0);
        if (pids[i] == 0) {
            struct churn ch = {.seg = &seg, .held = held, .rounds = CHURN_ROUNDS, .id = i};
            close(fds[0]);
            close(go[1]);
            if (read(go[0], &c, 1) != 0)
                _exit(3);
            churn_thread(&ch);
            r[0] = ch.claims;
            r[1] = ch.errors;
            _exit(write(fds[1], r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 4);
        }
    }
    close(fds[1]);
    close(go[0]);
    close(go[1]); /* start them together */
    for (int i = 0; i < PROCS; i++) {
        CU_ASSERT_EQUAL(read(fds[0], r, sizeof(r)), (ssize_t)sizeof(r));
        claims += r[0];
        errors += r[1];
    }
    for (int i = 0; i < PROCS; i++) {
        CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(fds[0]);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_TRUE(claims > 0);
    CU_ASSERT_EQUAL(generation_sum(&seg), claims);
    for (uint32_t i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(state_of(&seg, i), SHMET_SLOT_FREE);
    munmap((void *)held, 4096);
    seg_done(&seg, ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_slot_claim_sets_active_and_owner", test_slot_claim_sets_active_and_owner},
        {"test_slot_claim_hint", test_slot_claim_hint},
        {"test_slot_claim_hint_near_wrap", test_slot_claim_hint_near_wrap},
        {"test_slot_claim_generation_increments", test_slot_claim_generation_increments},
        {"test_slot_claim_generation_wraps_past_zero", test_slot_claim_generation_wraps_past_zero},
        {"test_slot_claim_all_taken_eagain", test_slot_claim_all_taken_eagain},
        {"test_slot_retire_generation_check", test_slot_retire_generation_check},
        {"test_slot_free_requires_dead_and_empty", test_slot_free_requires_dead_and_empty},
        {"test_slot_unclaim_after_claimer_died", test_slot_unclaim_after_claimer_died},
        {"test_slot_state_name", test_slot_state_name},
        {"test_slot_claim_concurrent_threads_churn", test_slot_claim_concurrent_threads_churn},
        {"test_slot_claim_concurrent_threads_exhaust", test_slot_claim_concurrent_threads_exhaust},
        {"test_slot_claim_concurrent_processes", test_slot_claim_concurrent_processes},
    };

    return T_RUN("slot", tests);
}
