/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_churn.c - thousands of short-lived workers
 * leave nothing behind in the aggregator.
 *
 * A real shmetricsd on a 64-slot segment; NWORKERS forked workers, four at
 * a time (jobs of t_fleet.h), each recording exactly ITERS iterations (a
 * counter increment and a histogram observation of 0.25) and setting a SUM
 * gauge to 1, then leaving: most exit normally, one in ten stays alive
 * once it has reported on the side channel that it finished and is
 * SIGKILLed there, one in ten records from two threads instead of its main
 * thread.
 * After MARK workers and again at the end, with every worker gone and
 * every slot free again (no slot leak):
 *   - the counter, the histogram count and sum, and the gauge hold exactly
 *     what was recorded (and 0); nothing was dropped or refused;
 *   - shmetrics_slots_freed_total equals the producers that ran;
 *   - /metrics has the same set of samples (values aside) and /debug the
 *     same series count at both points: nothing grows per worker;
 *   - the aggregator's anonymous resident memory grew by at most
 *     RSS_BOUND_KB between the two points (see there).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_fleet.h"
#include "t_util.h"

#define NSLOTS 64
#define PLACES 4
#define ITERS 20
#define MARK 1000
/* Forks cost several times more under sanitizers (and every exit runs the
 * leak checker): a quarter of the workers, still 1,500 after the mark. */
#define NWORKERS (T_SANITIZED ? 2500 : 10000)
/*
 * The bound on the growth of the aggregator's RssAnon (its heap; the
 * segment is shared memory and counted apart) from the mark to the end.
 * 512 KiB over the 9,000 workers after the mark (1,500 under sanitizers)
 * is 58 bytes a worker (350): a leak of a few hundred bytes per worker,
 * or of one allocation of any size per slot claim, breaks it. Normal
 * allocator noise cannot: after the mark every slot has been claimed, so
 * every per-slot table has its final size, and what the aggregator
 * allocates per worker (id maps, a pidfd watch) is freed when the slot
 * is, into free lists the next worker reuses.
 */
#define RSS_BOUND_KB 512

static struct t_daemon g_d;

/* AddressSanitizer holds freed memory in a quarantine (256 MiB by default)
 * to catch uses after free, so the RSS of an ASan shmetricsd grows with
 * everything it frees. Started without one, its RSS means what the bound
 * says; the other suites keep the quarantine. */
static void daemon_env(void)
{
#if T_SANITIZED
    const char *old = getenv("ASAN_OPTIONS");
    char opts[1024];

    snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
             old ? old : "", old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
#endif
}
static struct t_fleet g_fl;
static uint64_t g_producers; /* producers of the workers spawned so far */

/* What worker i does. */
static struct t_job job_of(int i)
{
    struct t_job j = {.kind = T_KIND_STEADY, .iters = ITERS};

    if (i % 10 == 3)
        j.linger = true; /* SIGKILLed once it has finished */
    else if (i % 10 == 7)
        j.threads = 2;
    return j;
}

/* Jobs [*next, limit) remain: the next one, if any. */
struct plan {
    int next, limit;
};

static bool next_job(void *ctx, struct t_job *job)
{
    struct plan *pl = ctx;

    if (pl->next >= pl->limit)
        return false;
    *job = job_of(pl->next++);
    g_producers += (uint64_t)t_job_producers(job);
    return true;
}

/* Run the workers up to number limit to their end. */
static void run_workers(struct plan *pl, int limit)
{
    int rc;

    pl->limit = limit;
    while (pl->next < limit || t_fleet_busy(&g_fl) > 0) {
        CU_ASSERT_FATAL((rc = t_fleet_step(&g_fl, next_job, pl)) >= 0);
        if (rc == 0)
            usleep(50);
    }
}

/* ---- what the aggregator holds ------------------------------------------ */

struct snapshot {
    char **keys; /* sample keys of /metrics, sorted, per-slot ones apart */
    size_t nkeys, nslot_keys;
    double series;
    long rss_anon_kb, vm_rss_kb;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the keys of ss (taking them over), the slot-labelled self metrics
 * (bounded by the slot count, one series per slot ever used) apart. */
static void take_keys(struct snapshot *s, struct t_samples *ss)
{
    s->keys = calloc(ss->n ? ss->n : 1, sizeof(char *));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->keys);
    for (size_t i = 0; i < ss->n; i++) {
        if (strstr(ss->s[i].key, "{slot=\"") != NULL) {
            s->nslot_keys++;
            continue;
        }
        s->keys[s->nkeys++] = ss->s[i].key;
        ss->s[i].key = NULL;
    }
    qsort(s->keys, s->nkeys, sizeof(char *), cmp_str);
}

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    free(s->keys);
}

/* With every worker gone: wait for every slot to be free, check the exact
 * totals, and take a snapshot. */
static void check_quiet(struct snapshot *s, const char *when)
{
    char key[128];
    struct t_samples ss;
    double expect = (double)g_producers * ITERS;

    CU_ASSERT_TRUE_FATAL(t_wait_all_free(g_d.ns, NSLOTS));
    CU_ASSERT_EQUAL(g_fl.bad, 0);
    CU_ASSERT_EQUAL(g_fl.producers_done, g_producers);
    CU_ASSERT_EQUAL(g_fl.recorded[T_KIND_STEADY], g_producers * ITERS);
    CU_ASSERT_EQUAL_FATAL(t_scrape(g_d.port, &ss), 0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, t_key_work(key, sizeof(key), T_KIND_STEADY)), expect);
    CU_ASSERT_EQUAL(t_samples_get(&ss, t_key_obs(key, sizeof(key), T_KIND_STEADY, "count")),
                    expect);
    CU_ASSERT_EQUAL(t_samples_get(&ss, t_key_obs(key, sizeof(key), T_KIND_STEADY, "sum")),
                    expect * T_JOB_OBS);
    CU_ASSERT_EQUAL(t_samples_get(&ss, T_KEY_LIVE), 0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "shmetrics_slots_freed_total"), (double)g_producers);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "shmetrics_producers"), 0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "shmetrics_noslot_dropped_total"), 0);
    CU_ASSERT_EQUAL(t_debug_aggregator(g_d.port, "dropped_total"), 0);
    CU_ASSERT_EQUAL(t_debug_aggregator(g_d.port, "invalid_records_total"), 0);
    memset(s, 0, sizeof(*s));
    take_keys(s, &ss);
    t_samples_free(&ss);
    CU_ASSERT(s->nslot_keys <= 2 * NSLOTS);
    s->series = t_debug_aggregator(g_d.port, "series");
    s->rss_anon_kb = t_proc_status_kb(g_d.pid, "RssAnon");
    s->vm_rss_kb = t_proc_status_kb(g_d.pid, "VmRSS");
    CU_ASSERT(s->rss_anon_kb > 0 && s->vm_rss_kb > 0);
    fprintf(stderr,
            "%s: %llu workers (%llu producers, %llu SIGKILLed after finishing), counter %.17g, "
            "%zu samples (+%zu per slot), %.17g series, RssAnon %ld kB, VmRSS %ld kB\n",
            when, (unsigned long long)g_fl.spawned, (unsigned long long)g_producers,
            (unsigned long long)g_fl.kills_finished, expect, s->nkeys, s->nslot_keys, s->series,
            s->rss_anon_kb, s->vm_rss_kb);
}

static bool same_keys(const struct snapshot *a, const struct snapshot *b)
{
    if (a->nkeys != b->nkeys)
        return false;
    for (size_t i = 0; i < a->nkeys; i++) {
        if (strcmp(a->keys[i], b->keys[i]) != 0) {
            fprintf(stderr, "sample %s vs %s\n", a->keys[i], b->keys[i]);
            return false;
        }
    }
    return true;
}

static void test_fault_churn_no_growth(void)
{
    const struct t_fleet_opts fo = {.places = PLACES, .jobs = true};
    struct snapshot mark, last;
    uint64_t t0 = t_now_ms();
    struct plan pl = {0, 0};

    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&g_fl, g_d.ns, &fo), 0);
    run_workers(&pl, MARK);
    check_quiet(&mark, "mark");
    run_workers(&pl, NWORKERS);
    check_quiet(&last, "end");
    fprintf(stderr, "%d workers in %.1f s\n", NWORKERS, (double)(t_now_ms() - t0) / 1000);

    CU_ASSERT_EQUAL(g_fl.spawned, NWORKERS);
    CU_ASSERT_EQUAL(g_fl.kills, 0); /* none was killed before it finished */
    CU_ASSERT_TRUE(same_keys(&mark, &last));
    CU_ASSERT_EQUAL(last.series, mark.series);
    CU_ASSERT(last.rss_anon_kb - mark.rss_anon_kb <= RSS_BOUND_KB);
    snapshot_free(&mark);
    snapshot_free(&last);
    t_fleet_close(&g_fl);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_churn_no_growth", test_fault_churn_no_growth},
    };
    const char *extra[] = {"--slots", "64", NULL};
    char ns[64];
    int rc;

    _Static_assert(NSLOTS == 64, "--slots above");
    signal(SIGPIPE, SIG_IGN);
    daemon_env();
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "fch"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("fault_churn", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
