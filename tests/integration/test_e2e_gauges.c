/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_gauges.c - gauge contributions leave with
 * their producer: worker processes (each opening its own client after
 * fork) set a SUM and a MAX gauge, add to a counter and stay alive, blocked
 * on a pipe. A real shmetricsd shows the sum and the max of them all; once
 * one worker is killed with SIGKILL, the sum drops by exactly its value and
 * the max falls to the next largest, while the counter keeps what it added.
 * No value other than before and after is ever seen.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_util.h"

#define NWORKERS 4

static const double values[NWORKERS] = {3, 5, 11, 7}; /* sum 26, max 11 */

static struct t_daemon g_d;

/* Open a client, record this worker's values, report on ready_fd and
 * block reading hold_fd (never written) until killed. */
static void worker_main(int w, int ready_fd, int hold_fd)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_client *c;
    struct shmet_family *fs, *fm, *fc;
    struct shmet_series ss, sm, sc;
    char b;

    if (shmet_open(&o, &c) != 0 ||
        shmet_gauge(c, "it_connections", "Open connections.", NULL, SHMET_GAUGE_SUM, &fs) != 0 ||
        shmet_gauge(c, "it_largest_batch", "Largest batch.", NULL, SHMET_GAUGE_MAX, &fm) != 0 ||
        shmet_counter(c, "it_handled_total", "Handled.", NULL, &fc) != 0 ||
        shmet_series_get(fs, NULL, &ss) != 0 || shmet_series_get(fm, NULL, &sm) != 0 ||
        shmet_series_get(fc, NULL, &sc) != 0)
        _exit(1);
    shmet_set(ss, 100); /* overwritten: only the last set counts */
    shmet_set(ss, values[w]);
    shmet_set(sm, values[w]);
    shmet_add(sc, values[w] * 2);
    if (write(ready_fd, "r", 1) != 1)
        _exit(2);
    (void)!read(hold_fd, &b, 1);
    _exit(3);
}

struct view {
    double sum, max, handled;
};

static bool same(const struct view *a, const struct view *b)
{
    return a->sum == b->sum && a->max == b->max && a->handled == b->handled;
}

static int view(struct view *v)
{
    struct t_samples ss;

    if (t_scrape(g_d.port, &ss) < 0)
        return -1;
    v->sum = t_samples_get(&ss, "it_connections");
    v->max = t_samples_get(&ss, "it_largest_batch");
    v->handled = t_samples_get(&ss, "it_handled_total");
    t_samples_free(&ss);
    return 0;
}

/* Producers contributing to the SUM gauge, from /debug; -1 if unknown. */
static json_int_t contributors(void)
{
    json_t *root = t_debug(g_d.port);
    json_t *n = json_object_get(t_debug_series(root, "it_connections", NULL), "producers");
    json_int_t v = json_is_integer(n) ? json_integer_value(n) : -1;

    json_decref(root);
    return v;
}

/* Kill worker pid; poll until the view equals after, and check that every
 * view seen in between equals before or after. */
static void kill_and_watch(pid_t pid, const struct view *before, const struct view *after)
{
    uint64_t t0 = t_now_ms();
    struct view v = {0};
    int odd = 0, st;

    CU_ASSERT_EQUAL_FATAL(kill(pid, SIGKILL), 0);
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    while (t_now_ms() - t0 < T_DEADLINE_MS) {
        CU_ASSERT_EQUAL_FATAL(view(&v), 0);
        if (same(&v, after))
            break;
        if (!same(&v, before)) {
            fprintf(stderr, "sum %g max %g handled %g\n", v.sum, v.max, v.handled);
            odd++;
        }
        usleep(10 * 1000);
    }
    CU_ASSERT_EQUAL(odd, 0);
    CU_ASSERT_EQUAL(v.sum, after->sum);
    CU_ASSERT_EQUAL(v.max, after->max);
    CU_ASSERT_EQUAL(v.handled, after->handled);
    printf("(left after %llu ms) ", (unsigned long long)(t_now_ms() - t0));
}

static void test_e2e_gauge_contribution_vanishes(void)
{
    int ready[2], hold[2];
    pid_t pids[NWORKERS];
    struct view v, before = {26, 11, 52}, one_gone = {15, 7, 52}, all_gone = {0, -1, 52};
    const struct view *from = &one_gone;
    char b;

    CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(hold) == 0);
    fflush(NULL);
    for (int w = 0; w < NWORKERS; w++) {
        pids[w] = fork();
        CU_ASSERT_FATAL(pids[w] >= 0);
        if (pids[w] == 0) {
            close(ready[0]);
            close(hold[1]); /* EOF on hold if this process dies early */
            worker_main(w, ready[1], hold[0]);
        }
    }
    close(ready[1]); /* EOF on ready if a worker fails */
    close(hold[0]);
    for (int w = 0; w < NWORKERS; w++)
        CU_ASSERT_EQUAL_FATAL(read(ready[0], &b, 1), 1);

    /* All alive: the scrape drains before it renders. */
    CU_ASSERT_EQUAL_FATAL(view(&v), 0);
    CU_ASSERT_EQUAL(v.sum, before.sum);
    CU_ASSERT_EQUAL(v.max, before.max);
    CU_ASSERT_EQUAL(v.handled, before.handled);
    CU_ASSERT_EQUAL(contributors(), NWORKERS);

    /* The one holding 11 dies: the sum loses 11, the max falls to 7. */
    kill_and_watch(pids[2], &before, &one_gone);
    CU_ASSERT_EQUAL(contributors(), NWORKERS - 1);

    /* The others, one by one: 15 -> 12 -> 7 -> 0, and no max at all. */
    struct view steps[] = {{12, 7, 52}, {7, 7, 52}, all_gone};
    int order[] = {0, 1, 3};
    for (int i = 0; i < 3; i++) {
        kill_and_watch(pids[order[i]], from, &steps[i]);
        from = &steps[i];
    }
    close(ready[0]);
    close(hold[1]);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_e2e_gauge_contribution_vanishes", test_e2e_gauge_contribution_vanishes},
    };
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "e2eg"), NULL) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("e2e_gauges", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
