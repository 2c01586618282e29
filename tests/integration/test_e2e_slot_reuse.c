/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_slot_reuse.c - slots are reused, nothing is
 * lost: on a segment of 4 slots, 200 short-lived workers run one after the
 * other, each recording a known amount and leaving in one of three ways
 * (exit(), which retires its slot through atexit; shmet_close() then
 * _exit(); _exit() without retiring, which leaves the slot ACTIVE for the
 * aggregator to find dead). Afterwards /metrics holds exactly 200 * N, no
 * sample found the table full, shmtool reports every slot free, the slot
 * generations add up to 200 claims, and shmetrics_slots_freed_total is 200.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_util.h"

#define NSLOTS 4
#define NWORKERS 200
#define NINC 50 /* increments per worker */

static struct t_daemon g_d;

static struct shmet_client *g_c;
static struct shmet_series g_jobs, g_size;

/* Record NINC increments and NINC observations (made before fork), then
 * leave in the way numbered how. */
static void worker_main(int how)
{
    for (int i = 0; i < NINC; i++) {
        shmet_inc(g_jobs);
        shmet_observe(g_size, i % 4);
    }
    switch (how) {
    case 0:
        exit(0); /* atexit retires the slot */
    case 1:
        shmet_close(g_c);
        _exit(0);
    default:
        _exit(0); /* no retire: the aggregator notices the death */
    }
}

/* Wait until some slot is free: a worker that found none would drop its
 * samples (counted, not lost silently), which is not what this test is
 * about. Returns how many ms it waited, or -1 at the deadline. */
static int wait_free_slot(void)
{
    uint64_t t0 = t_now_ms();

    while (t_free_slots(g_d.ns) < 1) {
        if (t_now_ms() - t0 > T_DEADLINE_MS)
            return -1;
        usleep(1000);
    }
    return (int)(t_now_ms() - t0);
}

/* shmtool info --json --all: every slot free; their generations (one
 * increment per claim) in *claims. */
static int slots_all_free(uint32_t *claims)
{
    const char *argv[] = {"shmtool", "info", "--json", "--all", "--ns", g_d.ns, NULL};
    int st, nfree = 0;
    char *out = t_run_capture(argv, &st);
    json_t *root = out ? json_loads(out, 0, NULL) : NULL, *sl;
    size_t i;

    *claims = 0;
    json_t *slots = json_object_get(root, "slots");
    for (i = 0; (sl = json_array_get(slots, i)) != NULL; i++) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        nfree += state != NULL && strcmp(state, "free") == 0;
        *claims += (uint32_t)json_integer_value(json_object_get(sl, "generation"));
    }
    json_decref(root);
    free(out);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && nfree == NSLOTS;
}

static void test_e2e_slot_reuse_exact_totals(void)
{
    struct shmet_options o = {.ns = g_d.ns};
    struct shmet_family *fj, *fs;
    static const double bounds[] = {1, 2};
    int waited = 0, ms, st, bad = 0;
    uint64_t end;
    uint32_t claims = 0;
    double freed = -1;

    CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &g_c), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_counter(g_c, "it_jobs_total", "Jobs.", NULL, &fj), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_histogram(g_c, "it_job_size", "Size.", NULL, bounds, 2, &fs), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(fj, NULL, &g_jobs), 0);
    CU_ASSERT_EQUAL_FATAL(shmet_series_get(fs, NULL, &g_size), 0);
    fflush(NULL);
    for (int w = 0; w < NWORKERS; w++) {
        pid_t pid;
        CU_ASSERT_FATAL((ms = wait_free_slot()) >= 0);
        waited += ms;
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0)
            worker_main(w % 3);
        CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
        bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    printf("(waited %d ms for free slots) ", waited);

    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_jobs_total"), NWORKERS * NINC);
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_job_size_count"), NWORKERS * NINC);
    /* i % 4 over 50 values: 13 zeros, 13 ones, 12 twos, 12 threes. */
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_job_size_sum"), NWORKERS * (13 + 24 + 36));
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_job_size_bucket{le=\"1\"}"), NWORKERS * 26);
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_job_size_bucket{le=\"2\"}"), NWORKERS * 38);
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "shmetrics_noslot_dropped_total"), 0);

    end = t_now_ms() + T_DEADLINE_MS;
    while (t_now_ms() < end && !slots_all_free(&claims))
        usleep(10 * 1000);
    CU_ASSERT_TRUE(slots_all_free(&claims));
    CU_ASSERT_EQUAL(claims, NWORKERS);
    while (t_now_ms() < end &&
           (freed = t_scrape_value(g_d.port, "shmetrics_slots_freed_total")) < NWORKERS)
        usleep(10 * 1000);
    CU_ASSERT_EQUAL(freed, NWORKERS);
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "shmetrics_producers"), 0);
    CU_ASSERT_EQUAL(t_scrape_value(g_d.port, "it_jobs_total"), NWORKERS * NINC);
    shmet_close(g_c);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_e2e_slot_reuse_exact_totals", test_e2e_slot_reuse_exact_totals},
    };
    const char *extra[] = {"--slots", "4", NULL};
    char ns[64];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "e2es"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("e2e_slot_reuse", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
