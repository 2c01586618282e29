/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_fleet.c - see t_fleet.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_fleet.h"

#define REPLY_MS 60000 /* a worker answers long before; only a hang waits this long */

static const double bounds[T_FLEET_NB] = {0.25, 1, 2};
static const char *const les[T_FLEET_NB + 1] = {"0.25", "1", "2", "+Inf"};

double t_fleet_obs(uint64_t i)
{
    return (double)(i % 5) * 0.5; /* 0 .. 2, exact in binary: sums are exact */
}

double t_fleet_level(int w, uint64_t i)
{
    return (double)w * 100000 + (double)i;
}

struct t_board *t_board_new(void)
{
    void *p = mmap(NULL, sizeof(struct t_board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);

    return p == MAP_FAILED ? NULL : p; /* zero-filled */
}

void t_board_free(struct t_board *b)
{
    if (b != NULL)
        munmap(b, sizeof(*b));
}

/* ---- the worker process -------------------------------------------------- */

struct wm {
    struct shmet_series count, lat, level, busy;
    uint64_t i; /* next iteration */
};

static int wm_open(struct wm *m, int w, const char *ns, uint32_t slots, uint32_t ring)
{
    struct shmet_options o = {.ns = ns, .slots = slots, .ring_records = ring};
    const char *labels[] = {"worker", NULL};
    char name[16];
    const char *values[] = {name, NULL};
    struct shmet_client *c;
    struct shmet_family *fc, *fh, *fl, *fb;

    snprintf(name, sizeof(name), "w%d", w);
    if (shmet_open(&o, &c) != 0 ||
        shmet_counter(c, "fa_records_total", "Records.", labels, &fc) != 0 ||
        shmet_histogram(c, "fa_latency_seconds", "Latency.", labels, bounds, T_FLEET_NB, &fh) !=
            0 ||
        shmet_gauge(c, "fa_level", "Level.", labels, SHMET_GAUGE_SUM, &fl) != 0 ||
        shmet_gauge(c, "fa_busy", "Busy.", NULL, SHMET_GAUGE_SUM, &fb) != 0 ||
        shmet_series_get(fc, values, &m->count) != 0 ||
        shmet_series_get(fh, values, &m->lat) != 0 ||
        shmet_series_get(fl, values, &m->level) != 0 || shmet_series_get(fb, NULL, &m->busy) != 0)
        return -1;
    return 0;
}

static void wm_iteration(struct wm *m, int w)
{
    shmet_inc(m->count);
    shmet_observe(m->lat, t_fleet_obs(m->i));
    shmet_set(m->level, t_fleet_level(w, m->i));
    m->i++;
}

static void wm_flat(struct wm *m, struct t_board *b, int w, uint32_t pause_us)
{
    uint64_t n = 0;

    /* RELAXED: only a flag; the count below is published with RELEASE. */
    while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        shmet_inc(m->count);
        shmet_observe(m->lat, t_fleet_obs(m->i));
        m->i++;
        if (++n % 64 == 0 && pause_us > 0)
            usleep(pause_us);
    }
    /* RELEASE: pairs with the ACQUIRE load in the test after our answer. */
    atomic_store_explicit(&b->flat[w], n, memory_order_release);
}

static void wm_gate(struct t_board *b)
{
    /* RELAXED: only a flag; the records are published by the ring. */
    while (!atomic_load_explicit(&b->gate, memory_order_relaxed))
        usleep(100);
}

static void wm_run(struct wm *m, int w, struct t_board *b, int cmd, int rep)
{
    struct {
        char op;
        uint32_t n;
    } c;

    while (read(cmd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
        if (c.op == T_OP_EXIT)
            exit(0); /* atexit retires the slot */
        for (uint32_t k = 0; (c.op == T_OP_RECORD || c.op == T_OP_PACED) && k < c.n; k++) {
            if (c.op == T_OP_PACED && k == c.n / 2 && b != NULL)
                wm_gate(b);
            wm_iteration(m, w);
            if (c.op == T_OP_PACED && k % 64 == 63)
                usleep(100);
        }
        if (c.op == T_OP_FLAT)
            wm_flat(m, b, w, c.n);
        if (c.op == T_OP_BUSY)
            shmet_set(m->busy, c.n);
        if (write(rep, "k", 1) != 1)
            _exit(3);
    }
    _exit(4); /* the test went away */
}

int t_worker_spawn(struct t_worker *wk, int w, const char *ns, uint32_t slots, uint32_t ring,
                   struct t_board *b)
{
    int cmd[2], rep[2];

    memset(wk, 0, sizeof(*wk));
    wk->w = w;
    if (pipe(cmd) != 0 || pipe(rep) != 0)
        return -1;
    fflush(NULL); /* the child exit()s and would flush copies */
    if ((wk->pid = fork()) < 0)
        return -1;
    if (wk->pid == 0) {
        struct wm m = {0};
        close(cmd[1]);
        close(rep[0]);
        if (wm_open(&m, w, ns, slots, ring) != 0)
            _exit(2);
        if (write(rep[1], "k", 1) != 1)
            _exit(3);
        wm_run(&m, w, b, cmd[0], rep[1]);
    }
    close(cmd[0]);
    close(rep[1]);
    wk->cmd = cmd[1];
    wk->rep = rep[0];
    return t_worker_wait(wk);
}

int t_worker_send(struct t_worker *wk, char op, uint32_t n)
{
    struct {
        char op;
        uint32_t n;
    } c;

    memset(&c, 0, sizeof(c));
    c.op = op;
    c.n = n;
    return write(wk->cmd, &c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : -1;
}

int t_worker_wait(struct t_worker *wk)
{
    struct pollfd p = {wk->rep, POLLIN, 0};
    char b;
    int rc;

    while ((rc = poll(&p, 1, REPLY_MS)) < 0 && errno == EINTR)
        ;
    return rc == 1 && read(wk->rep, &b, 1) == 1 ? 0 : -1;
}

int t_worker_do(struct t_worker *wk, char op, uint32_t n)
{
    if (t_worker_send(wk, op, n) < 0 || t_worker_wait(wk) < 0)
        return -1;
    if (op == T_OP_RECORD || op == T_OP_PACED)
        wk->iter += n;
    return 0;
}

static void worker_close(struct t_worker *wk)
{
    close(wk->cmd);
    close(wk->rep);
    wk->pid = 0;
}

bool t_worker_exit(struct t_worker *wk)
{
    int st = -1;

    if (t_worker_send(wk, T_OP_EXIT, 0) < 0 || waitpid(wk->pid, &st, 0) != wk->pid)
        st = -1;
    worker_close(wk);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool t_worker_kill(struct t_worker *wk)
{
    int st = -1;

    if (kill(wk->pid, SIGKILL) != 0 || waitpid(wk->pid, &st, 0) != wk->pid)
        st = -1;
    worker_close(wk);
    return st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

int t_worker_slot(const struct shmet__seg *seg, pid_t pid)
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

/* ---- expected totals ----------------------------------------------------- */

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
                e->le[b] += b == T_FLEET_NB || v <= bounds[b];
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
                 les[b]);
        bad += diff_one(ss, key, (double)e->le[b]);
    }
    snprintf(key, sizeof(key), "fa_level{worker=\"w%d\"}", w);
    if (e->has_level || t_samples_get(ss, key) != -1) /* no producer: 0, or no series at all */
        bad += diff_one(ss, key, e->has_level ? e->level : 0);
    return bad;
}
