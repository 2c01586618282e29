/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/master.c - the master process of shmetrics-demo: forks the
 * workers (after the metric families exist, so every child inherits them),
 * restarts a worker that dies, with an exponential back-off when workers
 * die as soon as they start, and stops them all on SIGTERM or SIGINT:
 * SIGTERM first, SIGKILL for those still running after the grace period.
 *
 * Signals are never handled asynchronously: they stay blocked and are
 * taken with sigtimedwait(), which doubles as the restart timer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define STABLE_MS 1000 /* a worker that lived this long did not die "at once" */

struct wslot {
    pid_t pid;           /* 0: not running */
    int64_t started_ms;  /* when it was forked */
    int64_t restart_ms;  /* when to fork it again (pid 0) */
    unsigned backoff_ms; /* the delay before the last restart */
};

struct master {
    const struct demo_config *cfg;
    int lfd;
    struct demo_metrics *m;
    pid_t pid;
    sigset_t sigs; /* SIGTERM, SIGINT, SIGCHLD: blocked, taken synchronously */
    struct wslot *ws;
    struct demo_balance *bal; /* shared with the workers */
    unsigned index;           /* in a child: which worker it is */
};

/* The child's side of fork(): die with the master, then serve. */
static void child_main(struct master *ms)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != ms->pid)
        exit(0); /* the master is gone already */
    exit(worker_run(ms->cfg, ms->lfd, ms->m, ms->bal, ms->index));
}

static void spawn(struct master *ms, unsigned i)
{
    struct wslot *w = &ms->ws[i];
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    ms->index = i;
    pid = fork();
    if (pid == 0)
        child_main(ms);
    w->started_ms = demo_now_ms();
    if (pid < 0) {
        fprintf(stderr, "shmetrics-demo: fork: %s\n", strerror(errno));
        w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
        w->backoff_ms = w->backoff_ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms;
        w->restart_ms = w->started_ms + w->backoff_ms;
        return;
    }
    w->pid = pid;
    fprintf(stderr, "shmetrics-demo: worker %u started (pid %d)\n", i, (int)pid);
}

static void describe(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

/* A worker died while serving: schedule its restart. Back-off doubles
 * while workers keep dying at once and resets once one lived a while. */
static void on_death(struct master *ms, unsigned i, int status)
{
    struct wslot *w = &ms->ws[i];
    int64_t now = demo_now_ms();
    int64_t lived = now - w->started_ms;
    char why[96];

    if (lived >= STABLE_MS)
        w->backoff_ms = 0;
    else
        w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    w->backoff_ms = w->backoff_ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms;
    w->restart_ms = now + w->backoff_ms;
    /* RELAXED: a balancing hint (tag-demo-balance); the dead worker's
     * connections are gone, and its successor starts from 0. */
    atomic_store_explicit(&ms->bal->conns[i], 0, memory_order_relaxed);
    describe(status, why, sizeof(why));
    fprintf(stderr, "shmetrics-demo: worker %u (pid %d) %s after %.1f s; restarting in %u ms\n", i,
            (int)w->pid, why, (double)lived / 1000.0, w->backoff_ms);
    w->pid = 0;
}

/* Collect every exited worker; returns how many are still running. */
static unsigned reap(struct master *ms, bool stopping)
{
    int status;
    pid_t pid;
    unsigned alive = 0;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; i < ms->cfg->workers; i++) {
            if (ms->ws[i].pid != pid)
                continue;
            if (stopping)
                ms->ws[i].pid = 0;
            else
                on_death(ms, i, status);
        }
    }
    for (unsigned i = 0; i < ms->cfg->workers; i++)
        alive += ms->ws[i].pid != 0;
    return alive;
}

/* Wait for a signal for at most ms milliseconds; the signal or 0. */
static int wait_signal(struct master *ms, int64_t ms_left)
{
    struct timespec ts;

    ms_left = ms_left < 0 ? 0 : ms_left;
    ts.tv_sec = (time_t)(ms_left / 1000);
    ts.tv_nsec = (long)(ms_left % 1000) * 1000000L;
    int sig = sigtimedwait(&ms->sigs, NULL, &ts);
    return sig < 0 ? 0 : sig;
}

/* Fork the workers that are due; returns ms until the next one is. */
static int64_t restart_due(struct master *ms)
{
    int64_t now = demo_now_ms(), next = 1000;

    for (unsigned i = 0; i < ms->cfg->workers; i++) {
        if (ms->ws[i].pid != 0)
            continue;
        if (ms->ws[i].restart_ms <= now)
            spawn(ms, i);
        else if (ms->ws[i].restart_ms - now < next)
            next = ms->ws[i].restart_ms - now;
    }
    return next;
}

static void signal_all(struct master *ms, int sig)
{
    for (unsigned i = 0; i < ms->cfg->workers; i++)
        if (ms->ws[i].pid != 0)
            kill(ms->ws[i].pid, sig);
}

/* SIGTERM to every worker; SIGKILL to those left after the grace period
 * (at once on a second SIGTERM or SIGINT). */
static void stop_workers(struct master *ms)
{
    int64_t deadline = demo_now_ms() + ms->cfg->grace_ms;
    unsigned alive = reap(ms, true);

    fprintf(stderr, "shmetrics-demo: stopping %u workers\n", alive);
    signal_all(ms, SIGTERM);
    while ((alive = reap(ms, true)) > 0) {
        int64_t left = deadline - demo_now_ms();
        if (left <= 0) {
            fprintf(stderr, "shmetrics-demo: %u workers still running; SIGKILL\n", alive);
            signal_all(ms, SIGKILL);
            while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
            return;
        }
        int sig = wait_signal(ms, left);
        if (sig == SIGTERM || sig == SIGINT)
            deadline = 0;
    }
}

int master_run(const struct demo_config *cfg, int lfd, struct demo_metrics *m)
{
    struct master ms = {.cfg = cfg, .lfd = lfd, .m = m, .pid = getpid()};
    int sig;

    ms.ws = calloc(cfg->workers, sizeof(*ms.ws));
    ms.bal = mmap(NULL, sizeof(*ms.bal), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ms.ws == NULL || ms.bal == MAP_FAILED) {
        fprintf(stderr, "shmetrics-demo: out of memory\n");
        free(ms.ws);
        return 1;
    }
    ms.bal->workers = cfg->workers; /* the mapping starts zeroed */
    sigemptyset(&ms.sigs);
    sigaddset(&ms.sigs, SIGTERM);
    sigaddset(&ms.sigs, SIGINT);
    sigaddset(&ms.sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &ms.sigs, NULL);
    do {
        int64_t next = restart_due(&ms);
        sig = wait_signal(&ms, next);
        reap(&ms, false);
    } while (sig != SIGTERM && sig != SIGINT);
    stop_workers(&ms);
    fprintf(stderr, "shmetrics-demo: stopped\n");
    munmap(ms.bal, sizeof(*ms.bal));
    free(ms.ws);
    return 0;
}
