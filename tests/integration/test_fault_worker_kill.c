/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_worker_kill.c - workers SIGKILLed at random
 * instants while they record flat out lose nothing that they published,
 * and gain at most the one sample in flight.
 *
 * A real shmetricsd; four forked workers at a time (jobs of t_fleet.h)
 * record a counter increment and a histogram observation of 0.25 per
 * iteration and publish their iteration count on a side channel after
 * each; each also sets a SUM gauge to 1 while alive. Most workers are "mortal": after a
 * random short delay this process SIGKILLs a random mortal worker and
 * replaces it, NKILLS times, some of them within their first instants
 * (while they claim a slot: a claimer killed half way must not leak its
 * slot, tag-slot-claim in abi.h); some mortal workers finish their iterations
 * before they are picked and exit normally. The others are "steady":
 * never killed, they exit normally and must be counted exactly. While
 * this goes on, every round scrapes /metrics: counters and histogram
 * counts never go back, and each histogram's sum is exactly 0.25 times
 * its count. At the end, every worker gone and every slot freed by the
 * aggregator, with S the iterations published on the side channel, K the
 * workers killed while recording and D the samples the aggregator reports
 * dropped (rings are big enough for a worker's whole life, so D must be
 * 0): steady totals equal S exactly; mortal S <= C <= S + K for the
 * counter and the histogram count; sums are 0.25 * count exactly; the
 * gauge is 0. The figures go to stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_e2e.h"
#include "t_fleet.h"
#include "t_util.h"

#define NSLOTS 8
#define PLACES 4
/* 2^19 records (8 MiB) a ring: a mortal worker's whole life (1 gauge set,
 * a few DEFINE records, 2 records an iteration) fits even when the
 * aggregator drains nothing, so no sample is ever dropped for a full ring
 * and D must be exactly 0. */
#define RING_RECORDS "524288"
/* Under sanitizers the aggregator drains several times slower, and a
 * slot is free again only once drained: a fifth of the iterations. */
#define MORTAL_ITERS (T_SANITIZED ? 50000u : 250000u)
#define STEADY_ITERS 20000u
#define STEADY_ONE_IN 5 /* one worker in five is steady */
#define MAX_DELAY_US 1000
#define EARLY_ONE_IN 4
#define EARLY_MAX_US 300
/* Under sanitizers every fork and scrape costs several times more; half
 * the kills still land at random instants of the recording loop. */
#define NKILLS (T_SANITIZED ? 100 : 200)
#define RUN_DEADLINE_MS 240000

static struct t_daemon g_d;
static struct t_fleet g_fl;

/* What one scrape said about one kind. */
struct kind_view {
    double work, count, sum;
};

struct view {
    struct kind_view k[T_KINDS];
    double live;
};

/* Scrape once into v. 0, or -1 when the scrape failed. */
static int scrape_view(struct view *v)
{
    struct t_samples ss;
    char key[128];

    if (t_scrape(g_d.port, &ss) != 0)
        return -1;
    for (int k = 0; k < T_KINDS; k++) {
        /* Absent (-1) until the first sample of that kind is drained. */
        v->k[k].work = t_samples_get(&ss, t_key_work(key, sizeof(key), (enum t_kind)k));
        v->k[k].count = t_samples_get(&ss, t_key_obs(key, sizeof(key), (enum t_kind)k, "count"));
        v->k[k].sum = t_samples_get(&ss, t_key_obs(key, sizeof(key), (enum t_kind)k, "sum"));
    }
    v->live = t_samples_get(&ss, T_KEY_LIVE);
    t_samples_free(&ss);
    return 0;
}

/* Things one scrape got wrong, against the one before. */
static int view_faults(const struct view *prev, const struct view *cur)
{
    int bad = 0;

    for (int k = 0; k < T_KINDS; k++) {
        const struct kind_view *a = &prev->k[k], *b = &cur->k[k];
        if (b->work < a->work || b->count < a->count) {
            fprintf(stderr, "kind %d went back: counter %.17g -> %.17g, count %.17g -> %.17g\n",
                    k, a->work, b->work, a->count, b->count);
            bad++;
        }
        if (b->count >= 0 && b->sum != b->count * T_JOB_OBS) {
            fprintf(stderr, "kind %d: sum %.17g for count %.17g\n", k, b->sum, b->count);
            bad++;
        }
    }
    if (cur->live == -1 && prev->live == -1)
        return bad; /* no producer drained yet: the gauge is not there */
    if (cur->live < 0 || cur->live > NSLOTS || cur->live != (double)(long)cur->live) {
        fprintf(stderr, "live gauge %.17g\n", cur->live);
        bad++;
    }
    return bad;
}

static struct t_job random_job(void)
{
    if (t_rand(STEADY_ONE_IN) == 0)
        return (struct t_job){.kind = T_KIND_STEADY, .iters = STEADY_ITERS};
    return (struct t_job){.kind = T_KIND_MORTAL, .iters = MORTAL_ITERS};
}

static int respawn(int p)
{
    struct t_job job = random_job();

    return t_fleet_spawn(&g_fl, p, &job);
}

/* A random place holding a mortal worker, or -1. */
static int pick_victim(void)
{
    int cand[PLACES], n = 0;

    for (int p = 0; p < PLACES; p++)
        if (g_fl.wk[p].pid > 0 && g_fl.wk[p].job.kind == T_KIND_MORTAL)
            cand[n++] = p;
    return n ? cand[t_rand((uint64_t)n)] : -1;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    nanosleep(&ts, NULL);
}

/* One round: a random pause, replace the workers that finished, kill a
 * random mortal one and replace it. One round in EARLY_ONE_IN also kills
 * a fresh mortal worker within its first EARLY_MAX_US (fork, its slot
 * claim, its definitions). 0, or -1 when a spawn failed. */
static int round_once(void)
{
    static const struct t_job fresh = {.kind = T_KIND_MORTAL, .iters = MORTAL_ITERS};
    int p;

    sleep_us((long)t_rand(MAX_DELAY_US + 1));
    while ((p = t_fleet_reap_exited(&g_fl)) >= 0)
        if (respawn(p) != 0)
            return -1;
    if ((p = pick_victim()) < 0)
        return 0;
    t_fleet_reap(&g_fl, p, SIGKILL);
    if (t_rand(EARLY_ONE_IN) == 0) {
        if (t_fleet_spawn(&g_fl, p, &fresh) != 0)
            return -1;
        sleep_us((long)t_rand(EARLY_MAX_US + 1));
        t_fleet_reap(&g_fl, p, SIGKILL);
    }
    return respawn(p);
}

/* Check the final totals of one kind: exact when nothing of it was killed
 * while recording (kills 0), else within the samples in flight. */
static void check_kind(const struct kind_view *v, uint64_t s, uint64_t kills, const char *name)
{
    double S = (double)s, K = (double)kills;

    fprintf(stderr, "%s: S %llu, C %.17g, histogram count %.17g, K %llu\n", name,
            (unsigned long long)s, v->work, v->count, (unsigned long long)kills);
    CU_ASSERT(v->work >= S && v->work <= S + K);
    CU_ASSERT(v->count >= S && v->count <= S + K);
    CU_ASSERT_EQUAL(v->sum, v->count * T_JOB_OBS);
}

static void test_fault_worker_kill_bounds(void)
{
    const struct t_fleet_opts fo = {.places = PLACES, .jobs = true};
    struct view prev, cur;
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    uint64_t end = t_now_ms() + RUN_DEADLINE_MS, t0 = t_now_ms();
    int faults = 0, rounds = 0;
    double dropped, invalid;

    t_rand_seed(seed);
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&g_fl, g_d.ns, &fo), 0);
    CU_ASSERT_EQUAL_FATAL(scrape_view(&prev), 0);
    for (int p = 0; p < PLACES; p++)
        CU_ASSERT_EQUAL_FATAL(respawn(p), 0);
    while (g_fl.kills + g_fl.kills_finished < NKILLS) {
        CU_ASSERT_FATAL(t_now_ms() < end);
        CU_ASSERT_EQUAL_FATAL(round_once(), 0);
        CU_ASSERT_EQUAL_FATAL(scrape_view(&cur), 0);
        faults += view_faults(&prev, &cur);
        prev = cur;
        rounds++;
    }
    /* The rest finish their iterations (bounded) and exit normally. */
    for (int p = 0; p < PLACES; p++)
        t_fleet_reap(&g_fl, p, 0);
    CU_ASSERT_EQUAL(faults, 0);
    CU_ASSERT_EQUAL(g_fl.bad, 0);

    /* Every slot drained and freed: nothing is left in flight. */
    CU_ASSERT_TRUE(t_wait_all_free(g_d.ns, NSLOTS));
    CU_ASSERT_EQUAL_FATAL(scrape_view(&cur), 0);
    CU_ASSERT_EQUAL(view_faults(&prev, &cur), 0);
    fprintf(stderr, "claims reclaimed %.17g\n",
            t_scrape_value(g_d.port, "shmetrics_claims_reclaimed_total"));
    dropped = t_debug_aggregator(g_d.port, "dropped_total");
    invalid = t_debug_aggregator(g_d.port, "invalid_records_total");
    fprintf(stderr,
            "seed %#llx: %d rounds in %.1f s, %llu workers, %llu SIGKILLed while recording, "
            "%llu SIGKILLed after finishing, %llu exited normally; D %.17g, invalid %.17g\n",
            (unsigned long long)seed, rounds, (double)(t_now_ms() - t0) / 1000,
            (unsigned long long)g_fl.spawned, (unsigned long long)g_fl.kills,
            (unsigned long long)g_fl.kills_finished, (unsigned long long)g_fl.exits, dropped,
            invalid);
    CU_ASSERT_EQUAL(dropped, 0);
    CU_ASSERT_EQUAL(invalid, 0);
    check_kind(&cur.k[T_KIND_STEADY], g_fl.recorded[T_KIND_STEADY], 0, "steady");
    check_kind(&cur.k[T_KIND_MORTAL], g_fl.recorded[T_KIND_MORTAL], g_fl.kills, "mortal");
    /* Every producer is gone: their gauge contributions went with them. */
    CU_ASSERT_EQUAL(cur.live, 0);
    t_fleet_close(&g_fl);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_worker_kill_bounds", test_fault_worker_kill_bounds},
    };
    const char *extra[] = {"--slots", "8", "--ring-records", RING_RECORDS,
                           "--arena-bytes", "65536", NULL};
    char ns[64];
    int rc;

    _Static_assert(NSLOTS == 8, "--slots above");
    _Static_assert(2 * MORTAL_ITERS + 64 < 524288, "a worker's life fits its ring");
    signal(SIGPIPE, SIG_IGN);
    if (t_start(&g_d, t_ns(ns, sizeof(ns), "fwk"), extra) != 0) {
        fprintf(stderr, "%s did not start (set SHMETRICS_BIN_DIR)\n", t_bin_path());
        return 1;
    }
    rc = T_RUN("fault_worker_kill", tests);
    if (t_stop(&g_d) != 0)
        rc = 1;
    t_ns_cleanup(ns);
    return rc;
}
