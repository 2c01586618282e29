/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_fleet.c - see t_fleet.h.
 */
#include <errno.h>
#include <poll.h>
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

#include "t_fleet.h"

#define REPLY_MS 60000 /* a worker answers long before; only a hang waits this long */

static const double served_bounds[T_FLEET_NB] = {0.25, 1, 2};
static const char *const served_les[T_FLEET_NB + 1] = {"0.25", "1", "2", "+Inf"};
static const char *const kind_names[T_KINDS] = {"steady", "mortal"};
static const double job_bounds[] = {0.5};

#if T_SANITIZED
/* LeakSanitizer runs a leak check when any process exits, forked workers
 * included, and each costs about 100 ms: thousands of jobs would take
 * hours. A job's heap is its parent's plus what the client library
 * allocated on its behalf, so one job in LEAK_CHECK_ONE_IN is still
 * checked (the client's exit path); the others skip it. Served workers,
 * a few a suite, are always checked. LeakSanitizer asks this at exit
 * time. */
#define LEAK_CHECK_ONE_IN 50
static int leak_check_off;

int __lsan_is_turned_off(void);
__attribute__((visibility("default"))) int __lsan_is_turned_off(void)
{
    return leak_check_off;
}
#endif

/* ---- values, names and random numbers ------------------------------------ */

double t_fleet_obs(uint64_t i)
{
    return (double)(i % 5) * 0.5; /* 0 .. 2, exact in binary: sums are exact */
}

double t_fleet_level(int w, uint64_t i)
{
    return (double)w * 100000 + (double)i;
}

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

/* ---- the fleet ------------------------------------------------------------ */

/* The client the jobs inherit across fork, and their series. */
static int jobs_open(struct t_fleet *fl)
{
    struct shmet_options opt = {.ns = fl->ns, .slots = fl->o.slots, .ring_records = fl->o.ring};
    const char *labels[] = {"kind", NULL};
    struct shmet_family *work, *obs, *live;

    if (shmet_open(&opt, &fl->c) != 0 ||
        shmet_counter(fl->c, "ft_work_total", "Iterations recorded.", labels, &work) != 0 ||
        shmet_histogram(fl->c, "ft_work_seconds", "One observation an iteration.", labels,
                        job_bounds, 1, &obs) != 0 ||
        shmet_gauge(fl->c, "ft_live", "Live producers.", NULL, SHMET_GAUGE_SUM, &live) != 0 ||
        shmet_series_get(live, NULL, &fl->live) != 0)
        return -1;
    for (int k = 0; k < T_KINDS; k++) {
        const char *v[] = {kind_names[k], NULL};
        if (shmet_series_get(work, v, &fl->work[k]) != 0 ||
            shmet_series_get(obs, v, &fl->obs[k]) != 0)
            return -1;
    }
    return 0;
}

int t_fleet_open(struct t_fleet *fl, const char *ns, const struct t_fleet_opts *o)
{
    void *map;

    memset(fl, 0, sizeof(*fl));
    snprintf(fl->ns, sizeof(fl->ns), "%s", ns);
    fl->o = *o;
    fl->board_len = sizeof(struct t_board) +
                    (size_t)o->places * T_JOB_THREADS_MAX * sizeof(_Atomic uint64_t);
    /* Shared with every forked worker, and kept by the kernel after a
     * worker is killed: what it published survives it. Zero-filled. */
    map = mmap(NULL, fl->board_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    fl->board = map;
    fl->wk = calloc((size_t)o->places, sizeof(*fl->wk));
    if (fl->wk == NULL ||
        (o->jobs && (jobs_open(fl) != 0 ||
                     shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &fl->seg) != 0))) {
        t_fleet_close(fl);
        return -1;
    }
    return 0;
}

void t_fleet_close(struct t_fleet *fl)
{
    for (int p = 0; fl->wk != NULL && p < fl->o.places; p++)
        t_fleet_reap(fl, p, SIGKILL);
    shmet_close(fl->c);
    shmet__seg_close(&fl->seg);
    free(fl->wk);
    if (fl->board != NULL)
        munmap(fl->board, fl->board_len);
    memset(fl, 0, sizeof(*fl));
}

static _Atomic uint64_t *tally_of(const struct t_fleet *fl, int p, int t)
{
    return &fl->board->tally[(size_t)p * T_JOB_THREADS_MAX + (size_t)t];
}

/* Fork the worker of place p, its tallies zeroed first: as fork(). */
static pid_t fork_worker(struct t_fleet *fl, int p)
{
    pid_t pid;

    for (int t = 0; t < T_JOB_THREADS_MAX; t++)
        atomic_store_explicit(tally_of(fl, p, t), 0, memory_order_relaxed); /* before fork */
    fflush(NULL); /* the workers exit() and would flush copies */
    if ((pid = fork()) > 0) {
        fl->wk[p].pid = pid;
        fl->spawned++;
    }
    return pid;
}

/* ---- served workers: the worker process ----------------------------------- */

struct wm {
    struct shmet_series count, lat, level, busy;
    uint64_t i; /* next iteration */
    int w;      /* its place: label worker="w<w>" */
    struct t_board *b;
    _Atomic uint64_t *flat; /* where T_OP_FLAT leaves its count */
};

static int wm_open(struct wm *m, const struct t_fleet *fl)
{
    struct shmet_options o = {.ns = fl->ns, .slots = fl->o.slots, .ring_records = fl->o.ring};
    const char *labels[] = {"worker", NULL};
    char name[16];
    const char *values[] = {name, NULL};
    struct shmet_client *c;
    struct shmet_family *fc, *fh, *fg, *fb;

    snprintf(name, sizeof(name), "w%d", m->w);
    if (shmet_open(&o, &c) != 0 ||
        shmet_counter(c, "fa_records_total", "Records.", labels, &fc) != 0 ||
        shmet_histogram(c, "fa_latency_seconds", "Latency.", labels, served_bounds, T_FLEET_NB,
                        &fh) != 0 ||
        shmet_gauge(c, "fa_level", "Level.", labels, SHMET_GAUGE_SUM, &fg) != 0 ||
        shmet_gauge(c, "fa_busy", "Busy.", NULL, SHMET_GAUGE_SUM, &fb) != 0 ||
        shmet_series_get(fc, values, &m->count) != 0 ||
        shmet_series_get(fh, values, &m->lat) != 0 ||
        shmet_series_get(fg, values, &m->level) != 0 ||
        shmet_series_get(fb, NULL, &m->busy) != 0)
        return -1;
    return 0;
}

static void wm_iteration(struct wm *m)
{
    shmet_inc(m->count);
    shmet_observe(m->lat, t_fleet_obs(m->i));
    shmet_set(m->level, t_fleet_level(m->w, m->i));
    m->i++;
}

static void wm_flat(struct wm *m, uint32_t pause_us)
{
    uint64_t n = 0;

    /* RELAXED: only a flag; the count below is published with RELEASE. */
    while (!atomic_load_explicit(&m->b->stop, memory_order_relaxed)) {
        shmet_inc(m->count);
        shmet_observe(m->lat, t_fleet_obs(m->i));
        m->i++;
        if (++n % 64 == 0 && pause_us > 0)
            usleep(pause_us);
    }
    /* RELEASE: pairs with the ACQUIRE load of t_fleet_progress() after
     * our answer. */
    atomic_store_explicit(m->flat, n, memory_order_release);
}

static void wm_gate(const struct wm *m)
{
    /* RELAXED: only a flag; the records are published by the ring. */
    while (!atomic_load_explicit(&m->b->gate, memory_order_relaxed))
        usleep(100);
}

/* The wire format of a command, the same on both ends. */
struct command {
    char op;
    uint32_t n;
};

static _Noreturn void wm_run(struct wm *m, int cmd, int rep)
{
    struct command c;

    while (read(cmd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
        if (c.op == T_OP_EXIT)
            exit(0); /* atexit retires the slot */
        for (uint32_t k = 0; (c.op == T_OP_RECORD || c.op == T_OP_PACED) && k < c.n; k++) {
            if (c.op == T_OP_PACED && k == c.n / 2)
                wm_gate(m);
            wm_iteration(m);
            if (c.op == T_OP_PACED && k % 64 == 63)
                usleep(100);
        }
        if (c.op == T_OP_FLAT)
            wm_flat(m, c.n);
        if (c.op == T_OP_BUSY)
            shmet_set(m->busy, c.n);
        if (write(rep, "k", 1) != 1)
            _exit(3);
    }
    _exit(4); /* the test went away */
}

/* The served worker of place p, on its ends of the pipes. */
static _Noreturn void serve(struct t_fleet *fl, int p, int cmd, int rep)
{
    struct wm m = {.w = p, .b = fl->board, .flat = tally_of(fl, p, 0)};

    if (wm_open(&m, fl) != 0)
        _exit(2);
    if (write(rep, "k", 1) != 1) /* families defined */
        _exit(3);
    wm_run(&m, cmd, rep);
}

/* ---- served workers: commands --------------------------------------------- */

int t_fleet_serve(struct t_fleet *fl, int p)
{
    struct t_worker *wk = &fl->wk[p];
    int cmd[2], rep[2];
    pid_t pid;

    if (wk->pid != 0 || pipe(cmd) != 0 || pipe(rep) != 0)
        return -1;
    memset(wk, 0, sizeof(*wk));
    wk->served = true;
    if ((pid = fork_worker(fl, p)) < 0)
        return -1;
    if (pid == 0) {
        close(cmd[1]);
        close(rep[0]);
        serve(fl, p, cmd[0], rep[1]);
    }
    close(cmd[0]);
    close(rep[1]);
    wk->cmd = cmd[1];
    wk->rep = rep[0];
    return t_fleet_wait(fl, p);
}

int t_fleet_send(struct t_fleet *fl, int p, char op, uint32_t n)
{
    struct t_worker *wk = &fl->wk[p];
    struct command c;

    memset(&c, 0, sizeof(c)); /* no stray bytes in the padding */
    c.op = op;
    c.n = n;
    if (write(wk->cmd, &c, sizeof(c)) != (ssize_t)sizeof(c))
        return -1;
    if (op != T_OP_EXIT) { /* never answered */
        wk->op = op;
        wk->n = n;
    }
    return 0;
}

int t_fleet_wait(struct t_fleet *fl, int p)
{
    struct t_worker *wk = &fl->wk[p];
    struct pollfd pfd = {wk->rep, POLLIN, 0};
    char b;
    int rc;

    while ((rc = poll(&pfd, 1, REPLY_MS)) < 0 && errno == EINTR)
        ;
    if (rc != 1 || read(wk->rep, &b, 1) != 1)
        return -1;
    if (wk->op == T_OP_RECORD || wk->op == T_OP_PACED)
        wk->iter += wk->n;
    wk->op = 0;
    return 0;
}

int t_fleet_do(struct t_fleet *fl, int p, char op, uint32_t n)
{
    return t_fleet_send(fl, p, op, n) < 0 || t_fleet_wait(fl, p) < 0 ? -1 : 0;
}

/* ---- jobs ----------------------------------------------------------------- */

int t_job_producers(const struct t_job *job)
{
    return job->threads > 0 ? job->threads : 1;
}

struct producer_arg {
    const struct t_fleet *fl;
    enum t_kind kind;
    _Atomic uint64_t *tally;
    uint64_t iters;
};

/* One producer: count itself live, then record flat out, publishing the
 * iterations done after each. */
static void *produce(void *arg)
{
    const struct producer_arg *a = arg;

    shmet_set(a->fl->live, 1);
    for (uint64_t i = 0; i < a->iters; i++) {
        shmet_inc(a->fl->work[a->kind]);
        shmet_observe(a->fl->obs[a->kind], T_JOB_OBS);
        /* RELEASE: the records pushed above come before the count that
         * says so; pairs with the ACQUIRE load in t_fleet_progress(). */
        atomic_store_explicit(a->tally, i + 1, memory_order_release);
    }
    return NULL;
}

static _Noreturn void job_main(struct t_fleet *fl, int p)
{
    const struct t_job *job = &fl->wk[p].job;
    struct producer_arg a[T_JOB_THREADS_MAX];
    pthread_t th[T_JOB_THREADS_MAX];
    int n = t_job_producers(job);

    /* Never outlive the suite, whatever happens to it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#if T_SANITIZED
    leak_check_off = fl->spawned % LEAK_CHECK_ONE_IN != 0;
#endif
    for (int t = 0; t < n; t++)
        a[t] = (struct producer_arg){fl, job->kind, tally_of(fl, p, t), job->iters};
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
static int slots_needed(const struct t_fleet *fl, int p, const struct t_job *job)
{
    int need = t_job_producers(job);

    for (int q = 0; q < fl->o.places; q++)
        if (q != p && fl->wk[q].pid > 0)
            need += t_job_producers(&fl->wk[q].job);
    return need;
}

int t_fleet_spawn(struct t_fleet *fl, int p, const struct t_job *job)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int need = slots_needed(fl, p, job);
    pid_t pid;

    if (job->threads < 0 || job->threads > T_JOB_THREADS_MAX || fl->wk[p].pid != 0 ||
        fl->c == NULL)
        return -1;
    while (t_free_slots_of(&fl->seg) < need) {
        if (t_now_ms() > end)
            return -1;
        usleep(200);
    }
    memset(&fl->wk[p], 0, sizeof(fl->wk[p]));
    fl->wk[p].job = *job;
    if ((pid = fork_worker(fl, p)) < 0)
        return -1;
    if (pid == 0)
        job_main(fl, p);
    fl->wk[p].kill_at_us = job->kill_after_us ? now_us() + job->kill_after_us : 0;
    return 0;
}

/* ---- progress and reaping ------------------------------------------------- */

uint64_t t_fleet_progress(const struct t_fleet *fl, int p)
{
    uint64_t n = 0;

    for (int t = 0; t < t_job_producers(&fl->wk[p].job); t++)
        /* ACQUIRE: pairs with the RELEASE store in produce() or wm_flat(). */
        n += atomic_load_explicit(tally_of(fl, p, t), memory_order_acquire);
    return n;
}

bool t_fleet_finished(const struct t_fleet *fl, int p)
{
    const struct t_worker *wk = &fl->wk[p];

    if (wk->served)
        return wk->op == 0;
    return t_fleet_progress(fl, p) == (uint64_t)t_job_producers(&wk->job) * wk->job.iters;
}

/* Add up what the job of place p published, now that it has ended. */
static void account_job(struct t_fleet *fl, int p)
{
    const struct t_job *job = &fl->wk[p].job;

    fl->recorded[job->kind] += t_fleet_progress(fl, p);
    for (int t = 0; t < t_job_producers(job); t++)
        fl->producers_done +=
            atomic_load_explicit(tally_of(fl, p, t), memory_order_relaxed) == job->iters;
}

/* Add up how the worker of place p ended, with wait status st, and free
 * the place. */
static void account(struct t_fleet *fl, int p, int st)
{
    struct t_worker *wk = &fl->wk[p];
    bool all = t_fleet_finished(fl, p);

    if (!wk->served)
        account_job(fl, p);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && all) {
        fl->exits++;
    } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
        if (all)
            fl->kills_finished++;
        else
            fl->kills++;
    } else {
        fprintf(stderr, "worker %d ended with status %#x after %llu of %llu iterations\n",
                (int)wk->pid, (unsigned)st, (unsigned long long)t_fleet_progress(fl, p),
                (unsigned long long)(wk->job.iters * (uint64_t)t_job_producers(&wk->job)));
        fl->bad++;
    }
    wk->pid = 0;
}

/* waitpid() through EINTR: the wait status, or -1. */
static int wait_status(pid_t pid)
{
    int st = 0;

    while (waitpid(pid, &st, 0) != pid)
        if (errno != EINTR)
            return -1;
    return st;
}

bool t_fleet_reap(struct t_fleet *fl, int p, int sig)
{
    struct t_worker *wk = &fl->wk[p];
    bool sent;
    int st;

    if (wk->pid <= 0)
        return false;
    if (sig != 0)
        sent = kill(wk->pid, sig) == 0;
    else
        sent = !wk->served || t_fleet_send(fl, p, T_OP_EXIT, 0) == 0;
    if (wk->served) { /* a served worker that missed T_OP_EXIT ends at EOF */
        close(wk->cmd);
        close(wk->rep);
    }
    st = wait_status(wk->pid);
    account(fl, p, st);
    if (!sent || st < 0)
        return false;
    return sig != 0 ? WIFSIGNALED(st) && WTERMSIG(st) == sig
                    : WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int t_fleet_reap_exited(struct t_fleet *fl)
{
    int st;

    for (int p = 0; p < fl->o.places; p++) {
        if (fl->wk[p].pid > 0 && waitpid(fl->wk[p].pid, &st, WNOHANG) == fl->wk[p].pid) {
            account(fl, p, st);
            return p;
        }
    }
    return -1;
}

int t_fleet_busy(const struct t_fleet *fl)
{
    int n = 0;

    for (int p = 0; p < fl->o.places; p++)
        n += fl->wk[p].pid > 0;
    return n;
}

/* Whether the job in place p is due for its SIGKILL. */
static bool due(const struct t_fleet *fl, int p, uint64_t now)
{
    const struct t_worker *wk = &fl->wk[p];

    return (wk->job.linger && t_fleet_finished(fl, p)) ||
           (wk->kill_at_us && now >= wk->kill_at_us);
}

int t_fleet_step(struct t_fleet *fl, t_next_job_fn *next, void *ctx)
{
    uint64_t now = now_us();
    struct t_job job;
    int moved = 0;

    while (t_fleet_reap_exited(fl) >= 0)
        moved = 1;
    for (int p = 0; p < fl->o.places; p++) {
        if (fl->wk[p].pid > 0 && due(fl, p, now)) {
            t_fleet_reap(fl, p, SIGKILL);
            moved = 1;
        }
        if (fl->wk[p].pid == 0 && next(ctx, &job)) {
            if (t_fleet_spawn(fl, p, &job) != 0)
                return -1;
            moved = 1;
        }
    }
    return moved;
}

int t_slot_of(const struct shmet__seg *seg, pid_t pid)
{
    for (uint32_t i = 0; i < seg->slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(seg, i);
        /* ACQUIRE: pairs with the RELEASE store of ACTIVE in slot claim,
         * which publishes the pid. */
        if (atomic_load_explicit(&sl->state, memory_order_acquire) == SHMET_SLOT_ACTIVE &&
            atomic_load_explicit(&sl->pid, memory_order_relaxed) == pid)
            return (int)i;
    }
    return -1;
}

/* ---- expected totals of served workers ------------------------------------ */

void t_expect_records(struct t_expect *e, int w, uint64_t first, uint64_t nrec)
{
    for (uint64_t k = 0; k < nrec; k++) {
        uint64_t i = first + k / 3;
        double v = t_fleet_obs(i);
        switch (k % 3) {
        case 0:
            e->count += 1;
            break;
        case 1:
            e->hcount++;
            e->hsum += v;
            for (int b = 0; b <= T_FLEET_NB; b++)
                e->le[b] += b == T_FLEET_NB || v <= served_bounds[b];
            break;
        default:
            e->level = t_fleet_level(w, i);
            e->has_level = true;
        }
    }
}

static int diff_one(const struct t_samples *ss, const char *key, double want)
{
    double got = t_samples_get(ss, key);

    if (got == want)
        return 0;
    fprintf(stderr, "%s: %.17g, expected %.17g\n", key, got, want);
    return 1;
}

int t_expect_diff(const struct t_samples *ss, int w, const struct t_expect *e)
{
    char key[128];
    int bad = 0;

    snprintf(key, sizeof(key), "fa_records_total{worker=\"w%d\"}", w);
    bad += diff_one(ss, key, e->count);
    snprintf(key, sizeof(key), "fa_latency_seconds_count{worker=\"w%d\"}", w);
    bad += diff_one(ss, key, (double)e->hcount);
    snprintf(key, sizeof(key), "fa_latency_seconds_sum{worker=\"w%d\"}", w);
    bad += diff_one(ss, key, e->hsum);
    for (int b = 0; b <= T_FLEET_NB; b++) {
        snprintf(key, sizeof(key), "fa_latency_seconds_bucket{worker=\"w%d\",le=\"%s\"}", w,
                 served_les[b]);
        bad += diff_one(ss, key, (double)e->le[b]);
    }
    snprintf(key, sizeof(key), "fa_level{worker=\"w%d\"}", w);
    if (e->has_level || t_samples_get(ss, key) != -1) /* no producer: 0, or no series at all */
        bad += diff_one(ss, key, e->has_level ? e->level : 0);
    return bad;
}
