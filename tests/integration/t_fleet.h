/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_fleet.h - forked worker processes for the
 * integration suites (test_fault_aggregator, test_fault_worker_kill,
 * test_fault_churn) and the churn driver of tools/soak.sh (it_churn).
 *
 * A fleet runs a fixed number of places, each holding at most one worker,
 * and a board: a MAP_SHARED anonymous page shared with every worker and
 * kept by the kernel when a worker is SIGKILLed, so that what a worker
 * published there survives it. The test reaps a worker (after a kill, or
 * once it ended) and the fleet adds up how the reaped workers ended.
 *
 * A worker is one of two sorts:
 *
 * - Served (t_fleet_serve): it opens a client of its own on the fleet's
 *   namespace (creating the segment, with the fleet's geometry, when it
 *   comes first), defines a counter, a histogram and a SUM gauge labelled
 *   worker="w<p>" (p: its place) plus an unlabelled SUM gauge, and
 *   records on command, one command at a time over a pipe, answering each
 *   with one byte. An iteration i of worker w records three samples in
 *   this order: the counter + 1, an observation t_fleet_obs(i), and the
 *   gauge set to t_fleet_level(w, i). Flat-out recording (counter +
 *   observation only) runs until the board says stop, and the worker
 *   leaves its exact count on the board. t_expect replays a run of
 *   records, cut where a full ring would have dropped the rest, to give
 *   exact totals.
 *
 * - A job (t_fleet_spawn): forked from the fleet's own client, it records
 *   on its own, with no command, iterations of one counter increment and
 *   one histogram observation of T_JOB_OBS into the series of its kind,
 *   and after each iteration publishes how many it has recorded on the
 *   board. The sum of those counts (S) is a lower bound of what the
 *   aggregator must count, and S plus one per producer killed while
 *   recording an upper bound. Each producer also sets a SUM gauge to 1,
 *   so the gauge counts the live producers.
 */
#ifndef SHMETRICS_TESTS_T_FLEET_H
#define SHMETRICS_TESTS_T_FLEET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_e2e.h"

/* ---- served workers ------------------------------------------------------ */

#define T_FLEET_NB 3 /* histogram bounds */

/* Commands (the byte sent); n is the argument. */
enum t_fleet_op {
    T_OP_RECORD = 'r', /* n iterations */
    T_OP_PACED = 'p',  /* n iterations, pausing 100 us every 64; half way
                        * waits for the board's gate */
    T_OP_FLAT = 'f',   /* counter + observation until the board says stop,
                        * pausing n us every 64 (0: flat out) */
    T_OP_BUSY = 'g',   /* set the unlabelled gauge to n */
    T_OP_EXIT = 'x',   /* exit(0), never answered: t_fleet_reap sends it */
};

double t_fleet_obs(uint64_t i);
double t_fleet_level(int w, uint64_t i);

/* What an aggregator holds for one served worker's labelled series. */
struct t_expect {
    double count;    /* the counter */
    uint64_t hcount; /* observations */
    double hsum;
    uint64_t le[T_FLEET_NB + 1]; /* cumulative buckets, last +Inf */
    double level;                /* the gauge: last set applied */
    bool has_level;
};

/* Apply the first nrec records of worker w's iterations from first on. */
void t_expect_records(struct t_expect *e, int w, uint64_t first, uint64_t nrec);
/* Compare a scrape with e for worker w; mismatches, each printed. */
int t_expect_diff(const struct t_samples *ss, int w, const struct t_expect *e);

/* ---- jobs ----------------------------------------------------------------- */

/* Series kinds (label kind=...): workers that only ever end by themselves
 * or after they finished, and workers that may be killed while recording. */
enum t_kind { T_KIND_STEADY = 0, T_KIND_MORTAL = 1, T_KINDS = 2 };

/* Every observation: a power of two, so each histogram sum is exactly
 * T_JOB_OBS times its count. */
#define T_JOB_OBS 0.25

/* Most producer threads one job may run. */
#define T_JOB_THREADS_MAX 4

/* What one job worker does. */
struct t_job {
    enum t_kind kind;
    uint64_t iters;         /* iterations per producer */
    int threads;            /* 0: the process records itself; n: n threads each record */
    bool linger;            /* after recording, wait (alive) to be killed */
    uint32_t kill_after_us; /* t_fleet_step: SIGKILL it this long after the
                             * spawn, finished or not (0: never) */
};

/* Producers a job runs. */
int t_job_producers(const struct t_job *job);

/* Sample keys of the jobs' series in the text format, in buf. */
const char *t_key_work(char *buf, size_t len, enum t_kind k);
const char *t_key_obs(char *buf, size_t len, enum t_kind k, const char *suffix);
#define T_KEY_LIVE "ft_live"

/* ---- the fleet ------------------------------------------------------------ */

/* Shared with every worker of a fleet. */
struct t_board {
    _Atomic int stop; /* ends T_OP_FLAT */
    _Atomic int gate; /* lets T_OP_PACED finish */
    /* T_JOB_THREADS_MAX a place: what each producer of a job published,
     * or (first) the count of a served worker's last T_OP_FLAT. */
    _Atomic uint64_t tally[];
};

struct t_worker {
    pid_t pid; /* 0: the place is free */
    bool served;
    struct t_job job;    /* a job: what it does; served: all zero (one producer) */
    uint64_t kill_at_us; /* CLOCK_MONOTONIC, from job.kill_after_us */
    int cmd, rep;        /* served: our ends of its command and reply pipes */
    char op;             /* served: the command awaiting its answer (0: none) */
    uint32_t n;          /* its argument */
    uint64_t iter;       /* served: iterations of the answered RECORD and PACED */
};

struct t_fleet_opts {
    int places;
    /* The geometry the fleet's clients ask for (0: the default), used by
     * the one that creates the segment. */
    uint32_t slots, ring;
    /* Run jobs: open the client and series the jobs inherit, and map the
     * segment read-only to see its free slots. The segment must exist. */
    bool jobs;
};

struct t_fleet {
    char ns[64];
    struct t_fleet_opts o;
    struct t_worker *wk; /* o.places of them */
    struct t_board *board;
    size_t board_len; /* bytes mapped */

    /* With o.jobs. */
    struct shmet_client *c;
    struct shmet_series work[T_KINDS], obs[T_KINDS], live;
    struct shmet__seg seg;

    /* What the reaped workers did. */
    uint64_t recorded[T_KINDS]; /* S: iterations jobs published on the board */
    uint64_t spawned;
    uint64_t exits;          /* exited with status 0 after finishing */
    uint64_t kills;          /* SIGKILLed before they finished */
    uint64_t kills_finished; /* SIGKILLed after they finished */
    uint64_t producers_done; /* job producers that recorded everything planned */
    uint64_t bad;            /* any other end: a failure */
};

/* Open a fleet on namespace ns and map its board. 0 or -1. */
int t_fleet_open(struct t_fleet *fl, const char *ns, const struct t_fleet_opts *o);
/* SIGKILL and reap the workers left, then release everything. */
void t_fleet_close(struct t_fleet *fl);

/* Fork a served worker into place p (which must be free) and wait until
 * its families are defined. 0 or -1. */
int t_fleet_serve(struct t_fleet *fl, int p);
/* Wait (up to T_DEADLINE_MS) until the segment has free slots for a new
 * job, however many slots the other places' workers hold or are about to
 * claim; then fork a worker doing job into place p (which must be free).
 * 0, or -1 when no slot came free or fork failed. */
int t_fleet_spawn(struct t_fleet *fl, int p, const struct t_job *job);

/* Send a command to the served worker of place p without waiting for it
 * to finish. 0 or -1. */
int t_fleet_send(struct t_fleet *fl, int p, char op, uint32_t n);
/* Wait (up to a minute) for the answer to the command sent; an answered
 * T_OP_RECORD or T_OP_PACED advances wk[p].iter. 0 or -1. */
int t_fleet_wait(struct t_fleet *fl, int p);
/* Send and wait. 0 or -1. */
int t_fleet_do(struct t_fleet *fl, int p, char op, uint32_t n);

/* Iterations the worker in place p has published on the board so far. */
uint64_t t_fleet_progress(const struct t_fleet *fl, int p);
/* True when the worker in place p has done everything asked of it: a job
 * everything planned, a served worker every command sent. */
bool t_fleet_finished(const struct t_fleet *fl, int p);
/* Send sig to the worker in place p (0: none; a served worker is told to
 * exit), wait for it and account for how it ended; the place is free
 * again. True when it ended as sig says: killed by it, or (0) exited with
 * status 0. */
bool t_fleet_reap(struct t_fleet *fl, int p, int sig);
/* Reap one worker that ended by itself, without waiting: its place, or -1
 * when none has. */
int t_fleet_reap_exited(struct t_fleet *fl);
/* Places holding a worker. */
int t_fleet_busy(const struct t_fleet *fl);

/* The next job to run, false when there is none (now). */
typedef bool t_next_job_fn(void *ctx, struct t_job *job);
/* One pass over the places: reap the workers that ended, SIGKILL the
 * lingering jobs that finished and those whose kill time has come, and
 * fill the free places with jobs from next. 1 when something happened, 0
 * when nothing did, -1 when a spawn failed. */
int t_fleet_step(struct t_fleet *fl, t_next_job_fn *next, void *ctx);

/* The slot of the ACTIVE producer with pid in seg, or -1. */
int t_slot_of(const struct shmet__seg *seg, pid_t pid);

/* A pseudo-random number in [0, n) (xorshift). The suites seed it from the
 * clock and print the seed with their figures. */
uint64_t t_rand(uint64_t n);
void t_rand_seed(uint64_t seed);

#endif /* SHMETRICS_TESTS_T_FLEET_H */
