/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/watch.c - "shmtool watch": a table of the slots in use,
 * redrawn every interval, with samples and drops per second computed from
 * the change since the previous refresh (per slot and generation, so a
 * slot that changed owner starts afresh). Stops on SIGINT or SIGTERM, or
 * after --count refreshes.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "shmtool.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* What the previous refresh saw of one slot. */
struct prev {
    bool valid;
    uint32_t generation;
    uint64_t samples;
    uint64_t dropped;
};

struct watch {
    const struct tool_args *a;
    const struct shmet__seg *s;
    struct prev *prev;   /* one per slot */
    double last;         /* CLOCK_MONOTONIC seconds of the previous refresh */
    bool tty;            /* stdout is a terminal: clear it between refreshes */
    uint32_t refreshes;  /* done so far */
    double rate_samples; /* all slots, this refresh */
    double rate_dropped;
    bool have_rates;
};

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "%.1f" of (cur - before) / dt into buf, or "-" when there is no base. */
static bool rate(const struct prev *p, uint32_t gen, uint64_t before, uint64_t cur, double dt,
                 char *buf, size_t len, double *out)
{
    if (!p->valid || p->generation != gen || dt <= 0 || cur < before) {
        snprintf(buf, len, "-");
        return false;
    }
    *out = (double)(cur - before) / dt;
    snprintf(buf, len, "%.1f", *out);
    return true;
}

static void draw_slot(struct watch *w, uint32_t i, const struct shmet__slot_snap *sn, double dt)
{
    struct prev *p = &w->prev[i];
    uint64_t samples = shmet__snap_samples(sn);
    char rs[32], rd[32];
    double vs = 0, vd = 0;

    if (rate(p, sn->generation, p->samples, samples, dt, rs, sizeof(rs), &vs) &&
        rate(p, sn->generation, p->dropped, sn->dropped, dt, rd, sizeof(rd), &vd)) {
        w->rate_samples += vs;
        w->rate_dropped += vd;
        w->have_rates = true;
    } else {
        snprintf(rd, sizeof(rd), "-");
    }
    printf("%4u  %-8s %7d %7d %6u %11s %9s %9llu %12llu %9llu\n", i,
           sn->state <= SHMET_SLOT_DEAD ? shmet__slot_state_name(sn->state) : "invalid", sn->pid,
           sn->tid, sn->generation, rs, rd, (unsigned long long)shmet__snap_ring_used(w->s, sn),
           (unsigned long long)samples, (unsigned long long)sn->dropped);
    *p = (struct prev){true, sn->generation, samples, sn->dropped};
}

static void draw_header(const struct watch *w)
{
    /* RELAXED: live statistics, read for display. */
    int32_t agg = atomic_load_explicit(&w->s->hdr->aggregator_pid, memory_order_relaxed);
    uint64_t noslot = atomic_load_explicit(&w->s->hdr->noslot_dropped, memory_order_relaxed);
    char now[64];

    fmt_time(shmet__now_ns(), now, sizeof(now));
    printf("shmetrics.%s  %s  every %gs  aggregator ", w->a->ns, now, w->a->interval);
    if (agg > 0)
        printf("pid %d%s", agg,
               shmet__aggregator_live(w->s->hdr, shmet__now_ns()) ? "" : " (not attached)");
    else
        printf("none");
    printf("  no-slot drops %llu\n\n", (unsigned long long)noslot);
    printf("SLOT  STATE        PID     TID    GEN   SAMPLES/S   DROPS/S      RING      SAMPLES"
           "   DROPPED\n");
}

static void draw(struct watch *w)
{
    double now = mono_now(), dt = w->refreshes ? now - w->last : 0;
    struct shmet__slot_snap sn;
    uint32_t in_use = 0;

    if (w->tty)
        fputs("\033[H\033[2J", stdout);
    else if (w->refreshes > 0)
        putchar('\n');
    draw_header(w);
    w->rate_samples = w->rate_dropped = 0;
    w->have_rates = false;
    for (uint32_t i = 0; i < w->s->slots; i++) {
        shmet__slot_snapshot(w->s, i, true, &sn);
        if (sn.state == SHMET_SLOT_FREE) {
            w->prev[i].valid = false;
            continue;
        }
        in_use++;
        draw_slot(w, i, &sn, dt);
    }
    if (w->have_rates)
        printf("\n%u of %u slots in use, %.1f samples/s, %.1f drops/s\n", in_use, w->s->slots,
               w->rate_samples, w->rate_dropped);
    else
        printf("\n%u of %u slots in use\n", in_use, w->s->slots);
    fflush(stdout);
    w->last = now;
    w->refreshes++;
}

/* Sleep for the interval with SIGINT and SIGTERM unblocked, atomically,
 * so a signal that arrived while we drew ends the wait at once. */
static void wait_interval(double secs, const sigset_t *unblocked)
{
    struct timespec ts;

    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    if (!stop_requested)
        (void)pselect(0, NULL, NULL, NULL, &ts, unblocked);
}

/* Block SIGINT and SIGTERM except while waiting: *old is the mask to
 * restore, *unblocked the one to wait with. */
static void signals_setup(sigset_t *old, sigset_t *unblocked)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, old);
    *unblocked = *old;
    sigdelset(unblocked, SIGINT);
    sigdelset(unblocked, SIGTERM);
}

int cmd_watch(const struct tool_args *a)
{
    struct watch w = {.a = a};
    struct shmet__seg s;
    sigset_t old, unblocked;

    if (seg_attach(a, &s) < 0)
        return TOOL_PROBLEM;
    w.s = &s;
    w.prev = xrealloc_array(NULL, s.slots, sizeof(*w.prev));
    memset(w.prev, 0, s.slots * sizeof(*w.prev));
    w.tty = isatty(STDOUT_FILENO);
    signals_setup(&old, &unblocked);
    while (!stop_requested) {
        draw(&w);
        if (a->count != 0 && w.refreshes >= a->count)
            break;
        wait_interval(a->interval, &unblocked);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(w.prev);
    shmet__seg_close(&s);
    return TOOL_OK;
}
