/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_crew.c - see t_crew.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_e2e.h"
#include "t_crew.h"

static const char *const kind_names[T_KINDS] = {"steady", "mortal"};
static const double obs_bounds[] = {0.5};

#if T_SANITIZED
/* LeakSanitizer runs a leak check when any process exits, forked workers
 * included, and each costs about 100 ms: thousands of workers would take
 * hours. A worker's heap is its parent's plus what the client library
 * allocated on its behalf, so one worker in LEAK_CHECK_ONE_IN is still
 * checked (the client's exit path); the others skip it. LeakSanitizer
 * asks this at exit time. */
#define LEAK_CHECK_ONE_IN 50
static int leak_check_off;

int __lsan_is_turned_off(void);
__attribute__((visibility("default"))) int __lsan_is_turned_off(void)
{
    return leak_check_off;
}
#endif

/* ---- names and random numbers -------------------------------------------- */

const char *t_key_work(char *buf, size_t len, enum t_kind k)
{
    snprintf(buf, len, "ft_work_total{kind=\"%s\"}", kind_names[k]);
    return buf;
}

const char *t_key_obs(char *buf, size_t len, enum t_kind k, const char *suffix)
{
    snprintf(buf, len, "ft_work_seconds_%s{kind=\"%s\"}", suffix, kind_names[k]);
    return buf;
}

static uint64_t rand_state = 0x9e3779b97f4a7c15u;

void t_rand_seed(uint64_t seed)
{
    rand_state = seed ? seed : 0x9e3779b97f4a7c15u;
}

uint64_t t_rand(uint64_t n)
{
    rand_state ^= rand_state >> 12;
    rand_state ^= rand_state << 25;
    rand_state ^= rand_state >> 27;
    return n ? (rand_state * 0x2545f4914f6cdd1du) % n : 0;
}

/* ---- setup --------------------------------------------------------------- */

static int series_open(struct t_crew *cr)
{
    struct shmet_options opt = {.ns = cr->ns};
    const char *labels[] = {"kind", NULL};
    struct shmet_family *work, *obs, *live;

    if (shmet_open(&opt, &cr->c) != 0 ||
        shmet_counter(cr->c, "ft_work_total", "Iterations recorded.", labels, &work) != 0 ||
        shmet_histogram(cr->c, "ft_work_seconds", "One observation an iteration.", labels,
                        obs_bounds, 1, &obs) != 0 ||
        shmet_gauge(cr->c, "ft_live", "Live producers.", NULL, SHMET_GAUGE_SUM, &live) != 0 ||
        shmet_series_get(live, NULL, &cr->live) != 0)
        return -1;
    for (int k = 0; k < T_KINDS; k++) {
        const char *v[] = {kind_names[k], NULL};
        if (shmet_series_get(work, v, &cr->work[k]) != 0 ||
            shmet_series_get(obs, v, &cr->obs[k]) != 0)
            return -1;
    }
    return 0;
}

int t_crew_open(struct t_crew *cr, const char *ns, int places)
{
    void *map;

    memset(cr, 0, sizeof(*cr));
    snprintf(cr->ns, sizeof(cr->ns), "%s", ns);
    cr->places = places;
    cr->tally_len = (size_t)places * T_CREW_THREADS_MAX * sizeof(_Atomic uint64_t);
    /* Shared with every forked worker, and kept by the kernel after a
     * worker is killed: what it published survives it. */
    map = mmap(NULL, cr->tally_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    cr->tally = map;
    cr->m = calloc((size_t)places, sizeof(*cr->m));
    if (cr->m == NULL || series_open(cr) != 0 ||
        shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &cr->seg) != 0) {
        t_crew_close(cr);
        return -1;
    }
    return 0;
}

void t_crew_close(struct t_crew *cr)
{
    for (int p = 0; cr->m != NULL && p < cr->places; p++)
        t_crew_reap(cr, p, SIGKILL);
    shmet_close(cr->c);
    shmet__seg_close(&cr->seg);
    free(cr->m);
    if (cr->tally != NULL)
        munmap((void *)cr->tally, cr->tally_len);
    memset(cr, 0, sizeof(*cr));
}

/* ---- the workers --------------------------------------------------------- */

int t_job_producers(const struct t_job *job)
{
    return job->threads > 0 ? job->threads : 1;
}

static _Atomic uint64_t *tally_of(const struct t_crew *cr, int p, int t)
{
    return &cr->tally[(size_t)p * T_CREW_THREADS_MAX + (size_t)t];
}

struct producer_arg {
    struct t_crew *cr;
    enum t_kind kind;
    _Atomic uint64_t *tally;
    uint64_t iters;
};

/* One producer: count itself live, then record flat out, publishing the
 * iterations done after each. */
static void *produce(void *arg)
{
    const struct producer_arg *a = arg;

    shmet_set(a->cr->live, 1);
    for (uint64_t i = 0; i < a->iters; i++) {
        shmet_inc(a->cr->work[a->kind]);
        shmet_observe(a->cr->obs[a->kind], T_CREW_OBS);
        /* RELEASE: the records pushed above come before the count that
         * says so; pairs with the ACQUIRE load in t_crew_progress(). */
        atomic_store_explicit(a->tally, i + 1, memory_order_release);
    }
    return NULL;
}

static void worker_main(struct t_crew *cr, int p)
{
    const struct t_job *job = &cr->m[p].job;
    struct producer_arg a[T_CREW_THREADS_MAX];
    pthread_t th[T_CREW_THREADS_MAX];
    int n = t_job_producers(job);

    /* Never outlive the suite, whatever happens to it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#if T_SANITIZED
    leak_check_off = cr->spawned % LEAK_CHECK_ONE_IN != 0;
#endif
    for (int t = 0; t < n; t++)
        a[t] = (struct producer_arg){cr, job->kind, tally_of(cr, p, t), job->iters};
    if (job->threads == 0) {
        produce(&a[0]);
    } else {
        for (int t = 0; t < n; t++)
            if (pthread_create(&th[t], NULL, produce, &a[t]) != 0)
                _exit(3);
        for (int t = 0; t < n; t++)
            pthread_join(th[t], NULL); /* each thread's exit retires its slot */
    }
    while (job->linger)
        pause();
    exit(0); /* atexit retires the process's own slot */
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Slots that the workers of the other places hold or may still claim,
 * plus what job needs. */
static int slots_needed(const struct t_crew *cr, int p, const struct t_job *job)
{
    int need = t_job_producers(job);

    for (int q = 0; q < cr->places; q++)
        if (q != p && cr->m[q].pid > 0)
            need += t_job_producers(&cr->m[q].job);
    return need;
}

int t_crew_spawn(struct t_crew *cr, int p, const struct t_job *job)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int need = slots_needed(cr, p, job);
    pid_t pid;

    if (job->threads < 0 || job->threads > T_CREW_THREADS_MAX || cr->m[p].pid != 0)
        return -1;
    while (t_free_slots_of(&cr->seg) < need) {
        if (t_now_ms() > end)
            return -1;
        usleep(200);
    }
    for (int t = 0; t < T_CREW_THREADS_MAX; t++)
        atomic_store_explicit(tally_of(cr, p, t), 0, memory_order_relaxed); /* before fork */
    cr->m[p].job = *job;
    fflush(NULL); /* the workers exit() and would flush copies */
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0)
        worker_main(cr, p);
    cr->m[p].pid = pid;
    cr->m[p].kill_at_us = job->kill_after_us ? now_us() + job->kill_after_us : 0;
    cr->spawned++;
    return 0;
}

/* ---- progress and reaping ------------------------------------------------ */

uint64_t t_crew_progress(const struct t_crew *cr, int p)
{
    uint64_t n = 0;

    for (int t = 0; t < t_job_producers(&cr->m[p].job); t++)
        /* ACQUIRE: pairs with the RELEASE store in produce(). */
        n += atomic_load_explicit(tally_of(cr, p, t), memory_order_acquire);
    return n;
}

bool t_crew_finished(const struct t_crew *cr, int p)
{
    const struct t_job *job = &cr->m[p].job;

    return t_crew_progress(cr, p) == (uint64_t)t_job_producers(job) * job->iters;
}

/* Add up what the worker of place p did, now that it has ended with wait
 * status st, and free the place. */
static void account(struct t_crew *cr, int p, int st)
{
    const struct t_job *job = &cr->m[p].job;
    uint64_t got = t_crew_progress(cr, p);
    bool all = t_crew_finished(cr, p);

    cr->recorded[job->kind] += got;
    for (int t = 0; t < t_job_producers(job); t++)
        cr->producers_done +=
            atomic_load_explicit(tally_of(cr, p, t), memory_order_relaxed) == job->iters;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && all) {
        cr->exits++;
    } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
        if (all)
            cr->kills_finished++;
        else
            cr->kills++;
    } else {
        fprintf(stderr, "worker %d ended with status %#x after %llu of %llu iterations\n",
                (int)cr->m[p].pid, (unsigned)st, (unsigned long long)got,
                (unsigned long long)(job->iters * (uint64_t)t_job_producers(job)));
        cr->bad++;
    }
    cr->m[p].pid = 0;
}

void t_crew_reap(struct t_crew *cr, int p, int sig)
{
    pid_t pid = cr->m[p].pid;
    int st = 0;

    if (pid <= 0)
        return;
    if (sig != 0)
        kill(pid, sig);
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            st = -1;
            break;
        }
    }
    account(cr, p, st);
}

int t_crew_reap_exited(struct t_crew *cr)
{
    int st;

    for (int p = 0; p < cr->places; p++) {
        if (cr->m[p].pid > 0 && waitpid(cr->m[p].pid, &st, WNOHANG) == cr->m[p].pid) {
            account(cr, p, st);
            return p;
        }
    }
    return -1;
}

int t_crew_busy(const struct t_crew *cr)
{
    int n = 0;

    for (int p = 0; p < cr->places; p++)
        n += cr->m[p].pid > 0;
    return n;
}

/* Whether the worker in place p is due for its SIGKILL. */
static bool due(const struct t_crew *cr, int p, uint64_t now)
{
    const struct t_member *m = &cr->m[p];

    return (m->job.linger && t_crew_finished(cr, p)) || (m->kill_at_us && now >= m->kill_at_us);
}

int t_crew_step(struct t_crew *cr, t_next_job_fn *next, void *ctx)
{
    uint64_t now = now_us();
    struct t_job job;
    int moved = 0;

    while (t_crew_reap_exited(cr) >= 0)
        moved = 1;
    for (int p = 0; p < cr->places; p++) {
        if (cr->m[p].pid > 0 && due(cr, p, now)) {
            t_crew_reap(cr, p, SIGKILL);
            moved = 1;
        }
        if (cr->m[p].pid == 0 && next(ctx, &job)) {
            if (t_crew_spawn(cr, p, &job) != 0)
                return -1;
            moved = 1;
        }
    }
    return moved;
}
