/* SPDX-License-Identifier: MIT */
/*
 * tests/client/test_multiproc.c - real worker processes against a real
 * segment: forked workers with several threads record known amounts while
 * the parent drains concurrently with the reference consumer; the exact
 * per-series totals must equal a single-threaded oracle computed in the
 * parent. Also: children (and their children) forked after the series
 * were made record through fresh slots of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "t_consumer.h"
#include "t_util.h"

#define WORKERS 8
#define THREADS 2
#define ITERS 20000
#define RING 4096
#define NVALS 6
#define NBOUNDS 4
#define DEADLINE_S 240

static char ns[96];
static struct shmet_client *cl;
static struct shmet__seg seg; /* the consumer's own mapping */

static const char *const methods[2] = {"GET", "POST"};
static const double bounds[NBOUNDS] = {0.25, 0.5, 1, 2};
/* Binary fractions, so that every partial sum is exact in any order;
 * 0.25 sits on a bound (le is inclusive). */
static const double vals[NVALS] = {0.125, 0.25, 0.375, 0.75, 1.5, 3.0};

/* Claims so far: every claim increments one slot's generation from 0. */
static uint64_t claims_total(void)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < seg.slots; i++)
        n += atomic_load(&shmet__slot(&seg, i)->generation);
    return n;
}

static uint32_t count_state(uint32_t state)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < seg.slots; i++)
        n += atomic_load(&shmet__slot(&seg, i)->state) == state;
    return n;
}

/* A slot that pid claimed last, or UINT32_MAX. */
static uint32_t slot_of(pid_t pid)
{
    for (uint32_t i = 0; i < seg.slots; i++)
        if (atomic_load(&shmet__slot(&seg, i)->generation) != 0 &&
            atomic_load(&shmet__slot(&seg, i)->pid) == pid)
            return i;
    return UINT32_MAX;
}

static void open_ns(const char *tag, uint32_t ring)
{
    struct shmet_options o = {
        .ns = t_ns(ns, sizeof(ns), tag), .slots = 64, .ring_records = ring, .arena_bytes = 65536};

    cl = NULL;
    CU_ASSERT_FATAL(shmet_open(&o, &cl) == 0);
    CU_ASSERT_FATAL(shmet__seg_open(ns, NULL, 0, 0, &seg) == 0);
}

static void close_ns(void)
{
    shmet_close(cl);
    cl = NULL;
    shmet__seg_close(&seg);
    t_ns_cleanup(ns);
}

/* The workload, shared by the workers and the oracle. */
static double counter_amount(unsigned i)
{
    return (double)(i % 5 + 1);
}

static unsigned method_of(unsigned t, unsigned i)
{
    return (i + t) & 1;
}

static double observed(unsigned w, unsigned t, unsigned i)
{
    return vals[(i * 7 + w + t) % NVALS];
}

/* The gauge each worker thread leaves behind (set, then two adds). */
static double gauge_final(unsigned w, unsigned t)
{
    return 10.0 * w + t + 1 + 1;
}

static unsigned bucket_of(double v)
{
    unsigned b = 0;

    while (b < NBOUNDS && v > bounds[b])
        b++;
    return b;
}

struct oracle {
    double counter[WORKERS][2];
    double shared;
    uint64_t count[2];
    double sum[2];
    uint64_t buckets[2][NBOUNDS + 1];
    double gauge;
};

static void oracle_compute(struct oracle *o)
{
    memset(o, 0, sizeof(*o));
    for (unsigned w = 0; w < WORKERS; w++) {
        for (unsigned t = 0; t < THREADS; t++) {
            for (unsigned i = 0; i < ITERS; i++) {
                unsigned m = method_of(t, i);
                double v = observed(w, t, i);
                o->counter[w][m] += counter_amount(i);
                o->shared += 1;
                o->count[m]++;
                o->sum[m] += v;
                o->buckets[m][bucket_of(v)]++;
            }
            o->gauge += gauge_final(w, t);
        }
    }
}

/* Handles made in the parent before fork; valid in every worker. */
static struct shmet_series cnt[WORKERS][2], shared, hist[2], gauge;

static void make_series(void)
{
    const char *wm[] = {"worker", "method", NULL};
    const char *m[] = {"method", NULL};
    struct shmet_family *fc, *fs, *fh, *fg;
    char w[16];

    CU_ASSERT_FATAL(shmet_counter(cl, "mp_requests_total", "per worker", wm, &fc) == 0);
    CU_ASSERT_FATAL(shmet_counter(cl, "mp_shared_total", "", NULL, &fs) == 0);
    CU_ASSERT_FATAL(shmet_histogram(cl, "mp_latency_seconds", "", m, bounds, NBOUNDS, &fh) == 0);
    CU_ASSERT_FATAL(shmet_gauge(cl, "mp_value", "", NULL, SHMET_GAUGE_SUM, &fg) == 0);
    for (unsigned i = 0; i < WORKERS; i++) {
        snprintf(w, sizeof(w), "w%u", i);
        for (unsigned k = 0; k < 2; k++) {
            const char *v[] = {w, methods[k], NULL};
            CU_ASSERT_FATAL(shmet_series_get(fc, v, &cnt[i][k]) == 0);
        }
    }
    for (unsigned k = 0; k < 2; k++) {
        const char *v[] = {methods[k], NULL};
        CU_ASSERT_FATAL(shmet_series_get(fh, v, &hist[k]) == 0);
    }
    CU_ASSERT_FATAL(shmet_series_get(fs, NULL, &shared) == 0);
    CU_ASSERT_FATAL(shmet_series_get(fg, NULL, &gauge) == 0);
}

/* ---- the workers -------------------------------------------------------- */

static int ready_pipe[2], go_pipe[2];

/* The calling thread's ACTIVE slot in the client's mapping. */
static struct shmet_abi_slot *own_slot(void)
{
    pid_t pid = getpid();
    int32_t tid = shmet__gettid();

    for (uint32_t i = 0; i < cl->seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&cl->seg, i);
        if (atomic_load(&sl->state) == SHMET_SLOT_ACTIVE && atomic_load(&sl->pid) == pid &&
            atomic_load(&sl->tid) == tid)
            return sl;
    }
    return NULL;
}

/* Flow control for the test only, so that no sample may drop however the
 * consumer is scheduled, while the ring still wraps many times. */
static void wait_for_room(struct shmet_abi_slot *sl)
{
    while (atomic_load(&sl->head) - atomic_load(&sl->tail) > RING / 2)
        sched_yield();
}

struct worker_thread {
    pthread_t th;
    unsigned w, t;
    int failed;
};

static void *worker_thread_main(void *arg)
{
    struct worker_thread *wt = arg;
    struct shmet_abi_slot *sl = NULL;
    char b = 'r';

    for (unsigned i = 0; i < ITERS; i++) {
        unsigned m = method_of(wt->t, i);
        shmet_add(cnt[wt->w][m], counter_amount(i));
        shmet_inc(shared);
        shmet_observe(hist[m], observed(wt->w, wt->t, i));
        if (sl == NULL && (sl = own_slot()) == NULL) {
            wt->failed = 1;
            return NULL;
        }
        if (i % 64 == 0)
            wait_for_room(sl);
    }
    for (int j = 0; j < 100; j++) {
        shmet_set(gauge, -j);
        wait_for_room(sl);
    }
    shmet_set(gauge, gauge_final(wt->w, wt->t) - 1);
    shmet_add(gauge, 0.5);
    shmet_add(gauge, 0.5);
    /* Stay alive (so our gauge counts) until the parent has checked. */
    if (write(ready_pipe[1], &b, 1) != 1 || read(go_pipe[0], &b, 1) != 1)
        wt->failed = 1;
    return NULL;
}

static int worker_main(unsigned w)
{
    struct worker_thread wt[THREADS];
    int failed = 0;

    close(ready_pipe[0]);
    close(go_pipe[1]);
    for (unsigned t = 0; t < THREADS; t++) {
        wt[t] = (struct worker_thread){.w = w, .t = t};
        if (pthread_create(&wt[t].th, NULL, worker_thread_main, &wt[t]) != 0)
            return 1;
    }
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(wt[t].th, NULL);
        failed |= wt[t].failed;
    }
    return failed;
}

/* ---- the parent --------------------------------------------------------- */

static void check_totals(struct t_consumer *tc, const struct oracle *o)
{
    char key[64];

    for (unsigned w = 0; w < WORKERS; w++) {
        for (unsigned m = 0; m < 2; m++) {
            snprintf(key, sizeof(key), "w%u|%s", w, methods[m]);
            CU_ASSERT(t_counter(tc, "mp_requests_total", key) == o->counter[w][m]);
        }
    }
    CU_ASSERT(t_counter(tc, "mp_shared_total", "") == o->shared);
    for (unsigned m = 0; m < 2; m++) {
        CU_ASSERT(t_hist_count(tc, "mp_latency_seconds", methods[m]) == o->count[m]);
        CU_ASSERT(t_hist_sum(tc, "mp_latency_seconds", methods[m]) == o->sum[m]);
        for (unsigned b = 0; b <= NBOUNDS; b++)
            CU_ASSERT(t_hist_bucket(tc, "mp_latency_seconds", methods[m], b) == o->buckets[m][b]);
    }
    CU_ASSERT(t_hist_count(tc, "mp_latency_seconds", "__overflow__") == 0);
    CU_ASSERT(t_invalid(tc) == 0);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Drain until n ready bytes arrived; false on timeout or an early exit. */
static bool drain_until_ready(struct t_consumer *tc, const pid_t *pids, int n)
{
    double deadline = now_s() + DEADLINE_S;
    int ready = 0;
    char buf[64];

    while (ready < n) {
        ssize_t r = read(ready_pipe[0], buf, sizeof(buf));
        if (r > 0)
            ready += (int)r;
        if (t_consumer_drain(tc) == 0)
            sched_yield();
        for (int i = 0; i < WORKERS; i++)
            if (waitpid(pids[i], NULL, WNOHANG) != 0)
                return false; /* a worker died before it was told to */
        if (now_s() > deadline)
            return false;
    }
    return true;
}

static void check_live_slots(const pid_t *pids)
{
    unsigned per_worker[WORKERS] = {0};

    CU_ASSERT(claims_total() == WORKERS * THREADS);
    for (uint32_t i = 0; i < seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&seg, i);
        if (atomic_load(&sl->state) != SHMET_SLOT_ACTIVE)
            continue;
        for (int w = 0; w < WORKERS; w++)
            per_worker[w] += atomic_load(&sl->pid) == pids[w];
    }
    for (int w = 0; w < WORKERS; w++)
        CU_ASSERT(per_worker[w] == THREADS);
}

static void spawn_workers(pid_t *pids)
{
    CU_ASSERT_FATAL(pipe(ready_pipe) == 0 && pipe(go_pipe) == 0);
    CU_ASSERT_FATAL(fcntl(ready_pipe[0], F_SETFL, O_NONBLOCK) == 0);
    fflush(NULL);
    for (unsigned w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        CU_ASSERT_FATAL(pids[w] >= 0);
        if (pids[w] == 0)
            exit(worker_main(w));
    }
    close(ready_pipe[1]);
    close(go_pipe[0]);
}

/* Tell every worker thread to finish, then reap them all. */
static void release_and_reap(const pid_t *pids, bool ready)
{
    char go[WORKERS * THREADS];
    int status;

    memset(go, 'g', sizeof(go));
    CU_ASSERT(write(go_pipe[1], go, sizeof(go)) == (ssize_t)sizeof(go));
    close(go_pipe[1]);
    for (unsigned w = 0; w < WORKERS; w++) {
        if (!ready)
            kill(pids[w], SIGKILL);
        CU_ASSERT(waitpid(pids[w], &status, 0) == pids[w]);
        CU_ASSERT(ready && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(ready_pipe[0]);
}

/* The workers are gone: their slots were retired, drained and freed;
 * counters and histograms stay, SUM gauges of dead producers go. */
static void check_after_exit(struct t_consumer *tc, const struct oracle *o)
{
    t_consumer_drain(tc);
    check_totals(tc, o);
    CU_ASSERT(t_gauge_sum(tc, "mp_value", "") == 0);
    CU_ASSERT(count_state(SHMET_SLOT_FREE) == seg.slots);
    CU_ASSERT(claims_total() == WORKERS * THREADS);
    for (uint32_t i = 0; i < seg.slots; i++) {
        CU_ASSERT(atomic_load(&shmet__slot(&seg, i)->dropped) == 0);
        CU_ASSERT(atomic_load(&shmet__slot(&seg, i)->arena_dropped) == 0);
    }
    CU_ASSERT(atomic_load(&seg.hdr->noslot_dropped) == 0);
}

static void test_shmet_record_multiproc_exact(void)
{
    static struct oracle o;
    pid_t pids[WORKERS];
    struct t_consumer *tc;
    bool ready;

    oracle_compute(&o);
    open_ns("multiproc", RING);
    make_series();
    tc = t_consumer_new(&seg);
    spawn_workers(pids);
    /* Everything a worker recorded was published before its ready byte;
     * the workers stay alive (so their gauges count) until released. */
    ready = drain_until_ready(tc, pids, WORKERS * THREADS);
    CU_ASSERT(ready);
    t_consumer_drain(tc);
    if (ready) {
        check_totals(tc, &o);
        check_live_slots(pids);
        CU_ASSERT(t_gauge_sum(tc, "mp_value", "") == o.gauge);
    }
    release_and_reap(pids, ready);
    check_after_exit(tc, &o);
    t_consumer_free(tc);
    close_ns();
}

/* ---- fork after the series were made ----------------------------------- */

static struct shmet_series who[3]; /* parent, child, grandchild */

static int grandchild_main(void)
{
    for (int i = 0; i < 11; i++)
        shmet_inc(who[2]);
    shmet_observe(hist[0], 0.75);
    return 0;
}

/* Records, then forks a grandchild (which inherits this process's
 * producer) and reports its pid through the pipe. */
static int child_main(int fd)
{
    pid_t pid;
    int status;

    for (int i = 0; i < 7; i++)
        shmet_inc(who[1]);
    shmet_inc(who[0]);
    shmet_observe(hist[0], 0.125);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        exit(grandchild_main());
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    if (write(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        return 1;
    shmet_inc(who[1]); /* still recording after the grandchild left */
    return 0;
}

static void make_fork_series(void)
{
    const char *whol[] = {"who", NULL};
    const char *names[3] = {"parent", "child", "grandchild"};
    struct shmet_family *f, *fh;

    CU_ASSERT_FATAL(shmet_counter(cl, "fk_total", "", whol, &f) == 0);
    CU_ASSERT_FATAL(shmet_histogram(cl, "fk_seconds", "", NULL, bounds, NBOUNDS, &fh) == 0);
    for (int i = 0; i < 3; i++) {
        const char *v[] = {names[i], NULL};
        CU_ASSERT_FATAL(shmet_series_get(f, v, &who[i]) == 0);
    }
    CU_ASSERT_FATAL(shmet_series_get(fh, NULL, &hist[0]) == 0);
}

/* Fork the child, wait for it; returns its pid, and the grandchild's. */
static pid_t run_child(pid_t *grandchild)
{
    pid_t child;
    int status, fds[2];

    CU_ASSERT_FATAL(pipe(fds) == 0);
    fflush(NULL);
    child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0)
        exit(child_main(fds[1]));
    close(fds[1]);
    CU_ASSERT(waitpid(child, &status, 0) == child);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT(read(fds[0], grandchild, sizeof(*grandchild)) == (ssize_t)sizeof(*grandchild));
    close(fds[0]);
    return child;
}

/* Three slots, three owners; nothing was pushed into the parent's ring by
 * the processes that inherited its producer. */
static void check_fork_slots(uint32_t ps, uint64_t parent_head, pid_t child, pid_t grandchild)
{
    uint32_t cs = slot_of(child), gs = slot_of(grandchild);

    CU_ASSERT_FATAL(cs != UINT32_MAX && gs != UINT32_MAX);
    CU_ASSERT(cs != ps && gs != ps && cs != gs);
    CU_ASSERT(claims_total() == 3);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, ps)->pid) == getpid());
    CU_ASSERT(atomic_load(&shmet__slot(&seg, ps)->state) == SHMET_SLOT_ACTIVE);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, ps)->head) == parent_head);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, cs)->state) == SHMET_SLOT_DEAD);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, gs)->state) == SHMET_SLOT_DEAD);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, cs)->tid) == child);
    CU_ASSERT(atomic_load(&shmet__slot(&seg, gs)->tid) == grandchild);
}

static void test_shmet_record_after_fork(void)
{
    struct t_consumer *tc;
    uint32_t ps;
    uint64_t parent_head;
    pid_t child, grandchild = 0;

    open_ns("fork", 1024);
    make_fork_series();
    for (int i = 0; i < 5; i++)
        shmet_inc(who[0]);
    ps = slot_of(getpid());
    CU_ASSERT_FATAL(ps != UINT32_MAX);
    parent_head = atomic_load(&shmet__slot(&seg, ps)->head);
    CU_ASSERT(parent_head == 3 + 5); /* family, __overflow__ and series DEFINEs */
    child = run_child(&grandchild);
    check_fork_slots(ps, parent_head, child, grandchild);

    for (int i = 0; i < 2; i++)
        shmet_inc(who[0]);
    tc = t_consumer_new(&seg);
    CU_ASSERT(t_consumer_drain(tc) == 5 + 2 + (7 + 1 + 1 + 1) + (11 + 1));
    CU_ASSERT(t_counter(tc, "fk_total", "parent") == 5 + 2 + 1);
    CU_ASSERT(t_counter(tc, "fk_total", "child") == 7 + 1);
    CU_ASSERT(t_counter(tc, "fk_total", "grandchild") == 11);
    CU_ASSERT(t_hist_count(tc, "fk_seconds", "") == 2);
    CU_ASSERT(t_hist_sum(tc, "fk_seconds", "") == 0.875);
    CU_ASSERT(t_hist_bucket(tc, "fk_seconds", "", 0) == 1);
    CU_ASSERT(t_hist_bucket(tc, "fk_seconds", "", 2) == 1);
    CU_ASSERT(t_invalid(tc) == 0);
    CU_ASSERT(count_state(SHMET_SLOT_ACTIVE) == 1 && count_state(SHMET_SLOT_DEAD) == 0);
    t_consumer_free(tc);
    close_ns();
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_shmet_record_multiproc_exact", test_shmet_record_multiproc_exact},
        {"test_shmet_record_after_fork", test_shmet_record_after_fork},
    };

    return T_RUN("multiproc", tests);
}
