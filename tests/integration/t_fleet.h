/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_fleet.h - forked worker processes for the fault
 * suites. Each worker opens its own client on a namespace (creating the
 * segment when it comes first), defines a counter, a histogram and a SUM
 * gauge labelled worker="w<N>" plus an unlabelled SUM gauge, and records
 * on command, one command at a time over a pipe, answering each with one
 * byte. An iteration i of worker w records three samples in this order:
 * the counter + 1, an observation t_fleet_obs(i), and the gauge set to
 * t_fleet_level(w, i). Flat-out recording (counter + observation only)
 * runs until the board says stop, and the worker leaves its exact count
 * on the board, a MAP_SHARED page. t_expect replays a run of records, cut
 * where a full ring would have dropped the rest, to give exact totals.
 */
#ifndef SHMETRICS_TESTS_T_FLEET_H
#define SHMETRICS_TESTS_T_FLEET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm.h"
#include "t_e2e.h"

#define T_FLEET_MAX 8 /* workers on one board */
#define T_FLEET_NB 3  /* histogram bounds */

/* Commands (the byte sent); n is the argument. */
enum t_fleet_op {
    T_OP_RECORD = 'r', /* n iterations */
    T_OP_PACED = 'p',  /* n iterations, pausing 100 us every 64; half way
                        * waits for the board's gate, if it has a board */
    T_OP_FLAT = 'f',   /* counter + observation until the board says stop,
                        * pausing n us every 64 (0: flat out) */
    T_OP_BUSY = 'g',   /* set the unlabelled gauge to n */
    T_OP_EXIT = 'x',   /* exit(0): the slot is retired at exit */
};

/* Shared with every worker of a test. */
struct t_board {
    _Atomic int stop;                   /* ends T_OP_FLAT */
    _Atomic int gate;                   /* lets T_OP_PACED finish */
    _Atomic uint64_t flat[T_FLEET_MAX]; /* flat-out iterations, per worker */
};

struct t_worker {
    pid_t pid;
    int w;         /* worker number: label worker="w<w>" */
    int cmd, rep;  /* our ends of its command and reply pipes */
    uint64_t iter; /* iterations recorded so far (all commands) */
};

struct t_board *t_board_new(void);
void t_board_free(struct t_board *b);

/* Fork worker w on namespace ns (geometry used if it creates the segment)
 * and wait until its families are defined. 0 or -1. */
int t_worker_spawn(struct t_worker *wk, int w, const char *ns, uint32_t slots, uint32_t ring,
                   struct t_board *b);
/* Send a command without waiting for it to finish. 0 or -1. */
int t_worker_send(struct t_worker *wk, char op, uint32_t n);
/* Wait (up to a minute) for the answer to the command sent. 0 or -1. */
int t_worker_wait(struct t_worker *wk);
/* Send and wait; T_OP_RECORD and T_OP_PACED advance wk->iter. 0 or -1. */
int t_worker_do(struct t_worker *wk, char op, uint32_t n);
/* Tell it to exit normally and reap it; true when it exited with 0. */
bool t_worker_exit(struct t_worker *wk);
/* SIGKILL and reap it; true when it died of that signal. */
bool t_worker_kill(struct t_worker *wk);

/* The slot of the ACTIVE producer with pid in seg, or -1. */
int t_worker_slot(const struct shmet__seg *seg, pid_t pid);

double t_fleet_obs(uint64_t i);
double t_fleet_level(int w, uint64_t i);

/* What an aggregator holds for one worker's labelled series. */
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

#endif /* SHMETRICS_TESTS_T_FLEET_H */
