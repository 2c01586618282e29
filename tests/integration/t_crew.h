/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_crew.h - a crew of forked worker processes that
 * record into the same three series through the client library, for the
 * fault suites (test_fault_worker_kill, test_fault_churn) and the churn
 * driver of tools/soak.sh (it_churn).
 *
 * Every producer records iterations of one counter increment and one
 * histogram observation of T_CREW_OBS into the series of its kind, and
 * after each iteration publishes how many it has recorded on a side
 * channel: a MAP_SHARED anonymous mapping with one counter per producer,
 * which survives the producer's SIGKILL. The sum of those counters (S) is
 * a lower bound of what the aggregator must count, and S plus one per
 * producer killed while recording an upper bound. Each producer also sets
 * a SUM gauge to 1, so the gauge counts the live producers.
 *
 * The crew runs a fixed number of places, each holding at most one worker;
 * the caller spawns a worker into a free place and reaps it (after a kill,
 * or once it exited), and the crew adds up what the reaped workers did.
 */
#ifndef SHMETRICS_TESTS_T_CREW_H
#define SHMETRICS_TESTS_T_CREW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <shmetrics.h>

#include "shm.h"

/* Series kinds (label kind=...): workers that only ever end by themselves
 * or after they finished, and workers that may be killed while recording. */
enum t_kind { T_KIND_STEADY = 0, T_KIND_MORTAL = 1, T_KINDS = 2 };

/* Every observation: a power of two, so each histogram sum is exactly
 * T_CREW_OBS times its count. */
#define T_CREW_OBS 0.25

/* Most producer threads one worker may run. */
#define T_CREW_THREADS_MAX 4

/* What one worker does. */
struct t_job {
    enum t_kind kind;
    uint64_t iters; /* iterations per producer */
    int threads;    /* 0: the process records itself; n: n threads each record */
    bool linger;    /* after recording, wait (alive) to be killed */
    uint32_t kill_after_us; /* t_crew_step: SIGKILL it this long after the
                             * spawn, finished or not (0: never) */
};

struct t_member {
    pid_t pid; /* 0: the place is free */
    struct t_job job;
    uint64_t kill_at_us; /* CLOCK_MONOTONIC, from job.kill_after_us */
};

struct t_crew {
    struct shmet_client *c;
    struct shmet_series work[T_KINDS], obs[T_KINDS], live;
    char ns[64];
    struct shmet__seg seg; /* read-only: how many slots are free */
    int places;
    struct t_member *m;
    _Atomic uint64_t *tally; /* the side channel: T_CREW_THREADS_MAX per place */
    size_t tally_len;        /* bytes mapped */

    /* What the reaped workers did. */
    uint64_t recorded[T_KINDS]; /* S: iterations published on the side channel */
    uint64_t spawned;
    uint64_t exits;          /* exited with status 0 after recording all */
    uint64_t kills;          /* SIGKILLed before they finished recording */
    uint64_t kills_finished; /* SIGKILLed after they finished */
    uint64_t producers_done; /* producers that recorded everything planned */
    uint64_t bad;            /* any other end: a failure */
};

/* Open the client on ns (the segment must exist), make the families and
 * series, map the side channel for places workers at a time. 0 or -1. */
int t_crew_open(struct t_crew *cr, const char *ns, int places);
void t_crew_close(struct t_crew *cr);

/* Wait (up to T_DEADLINE_MS) until the segment has free slots for a new
 * worker, however many slots the other places' workers hold or are about
 * to claim; then fork a worker doing job into place p (which must be
 * free). 0, or -1 when no slot came free or fork failed. */
int t_crew_spawn(struct t_crew *cr, int p, const struct t_job *job);
/* Iterations the worker in place p has published so far. */
uint64_t t_crew_progress(const struct t_crew *cr, int p);
/* True when the worker in place p has recorded everything planned. */
bool t_crew_finished(const struct t_crew *cr, int p);
/* Send sig (0: none) to the worker in place p, wait for it and account
 * for how it ended; the place is free again. */
void t_crew_reap(struct t_crew *cr, int p, int sig);
/* Reap one worker that ended by itself, without waiting: its place, or -1
 * when none has. */
int t_crew_reap_exited(struct t_crew *cr);
/* Places holding a worker. */
int t_crew_busy(const struct t_crew *cr);

/* The next job to run, false when there is none (now). */
typedef bool t_next_job_fn(void *ctx, struct t_job *job);
/* One pass over the places: reap the workers that ended, SIGKILL the
 * lingering ones that finished and those whose kill time has come, and
 * fill the free places with jobs from next. 1 when something happened, 0
 * when nothing did, -1 when a spawn failed. */
int t_crew_step(struct t_crew *cr, t_next_job_fn *next, void *ctx);

/* Producers a job runs. */
int t_job_producers(const struct t_job *job);

/* Sample keys of the crew's series in the text format, in buf. */
const char *t_key_work(char *buf, size_t len, enum t_kind k);
const char *t_key_obs(char *buf, size_t len, enum t_kind k, const char *suffix);
#define T_KEY_LIVE "ft_live"

/* A pseudo-random number in [0, n) (xorshift). The suites seed it from the
 * clock and print the seed with their figures. */
uint64_t t_rand(uint64_t n);
void t_rand_seed(uint64_t seed);

#endif /* SHMETRICS_TESTS_T_CREW_H */
