/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/it_churn.c - the churn driver of tools/soak.sh: for a
 * given time, runs short-lived workers (jobs of t_fleet.h) against a
 * running shmetricsd while scraping it, then checks what it counted.
 *
 * Workers, a few at a time: most record ITERS iterations and exit
 * normally; one in ten stays alive once finished and is SIGKILLed; one in
 * ten records from two threads; one in ten ("mortal") records flat out,
 * up to what its ring holds, and is SIGKILLed at a random instant.
 * Every SCRAPE_MS it scrapes /metrics: counters and histogram counts never
 * go back, histogram sums are 0.25 times their counts. At the end, with
 * every slot free again, with S the iterations the workers published on
 * their side channel, K the workers killed while recording and D the
 * samples the aggregator reports dropped (no worker records more than its
 * ring holds, so D must be 0): the steady counter and histogram count
 * equal S exactly, and the mortal ones lie in [S, S + K].
 *
 * Usage: it_churn --ns NAME --port PORT [--seconds N] [--places N]
 * Prints the figures as "name value" lines; exit 0 when every check held,
 * 1 on a mismatch, 2 on a usage or setup error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t_e2e.h"
#include "t_fleet.h"

#define ITERS 20
#define MAX_KILL_US 2000
#define SCRAPE_MS 100

struct opts {
    const char *ns;
    int port, seconds, places;
};

struct run {
    struct t_fleet fl;
    uint64_t end_ms, nspawned;
    uint64_t mortal_iters; /* two records each, and a few more, fill a ring */
    bool stopping;
    uint64_t scrapes, regressions;
    double claims_reclaimed; /* slots given back after a claimer died */
    double last_work[T_KINDS], last_count[T_KINDS];
};

static bool next_job(void *ctx, struct t_job *job)
{
    struct run *r = ctx;
    uint64_t i = r->nspawned;

    if (r->stopping)
        return false;
    *job = (struct t_job){.kind = T_KIND_STEADY, .iters = ITERS};
    if (i % 10 == 3)
        job->linger = true;
    else if (i % 10 == 7)
        job->threads = 2;
    else if (i % 10 == 5)
        *job = (struct t_job){.kind = T_KIND_MORTAL,
                              .iters = r->mortal_iters,
                              .kill_after_us = 1 + (uint32_t)t_rand(MAX_KILL_US)};
    r->nspawned++;
    return true;
}

/* One scrape: monotonic counters and counts, exact sums. */
static int scrape_check(struct run *r, int port, double *work, double *count)
{
    struct t_samples ss;
    char key[128];

    if (t_scrape(port, &ss) != 0)
        return -1;
    r->scrapes++;
    for (int k = 0; k < T_KINDS; k++) {
        double w = t_samples_get(&ss, t_key_work(key, sizeof(key), (enum t_kind)k));
        double c = t_samples_get(&ss, t_key_obs(key, sizeof(key), (enum t_kind)k, "count"));
        double s = t_samples_get(&ss, t_key_obs(key, sizeof(key), (enum t_kind)k, "sum"));
        if (w < r->last_work[k] || c < r->last_count[k] || (c >= 0 && s != c * T_JOB_OBS)) {
            fprintf(stderr, "it_churn: kind %d: counter %.17g (was %.17g), count %.17g (was "
                            "%.17g), sum %.17g\n",
                    k, w, r->last_work[k], c, r->last_count[k], s);
            r->regressions++;
        }
        r->last_work[k] = work[k] = w;
        r->last_count[k] = count[k] = c;
    }
    t_samples_free(&ss);
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){NULL, 0, 60, 4};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ns") == 0)
            o->ns = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            o->port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            o->seconds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--places") == 0)
            o->places = atoi(argv[i + 1]);
        else
            return -1;
    }
    if (argc % 2 == 0 || o->ns == NULL || o->port <= 0 || o->seconds < 0 || o->places < 1 ||
        o->places > 64)
        return -1;
    return 0;
}

/* Churn until the time is up, then let the last workers end. */
static int churn(struct run *r, int port)
{
    double work[T_KINDS], count[T_KINDS];
    uint64_t next_scrape = 0;
    int rc;

    while (!r->stopping || t_fleet_busy(&r->fl) > 0) {
        r->stopping = t_now_ms() >= r->end_ms;
        if ((rc = t_fleet_step(&r->fl, next_job, r)) < 0) {
            fprintf(stderr, "it_churn: no free slot for a new worker\n");
            return -1;
        }
        if (t_now_ms() >= next_scrape) {
            if (scrape_check(r, port, work, count) != 0) {
                fprintf(stderr, "it_churn: GET /metrics failed\n");
                return -1;
            }
            next_scrape = t_now_ms() + SCRAPE_MS;
        }
        if (rc == 0)
            usleep(50);
    }
    return 0;
}

static void print_figures(const struct run *r, const double *work, const double *count,
                          double dropped, double invalid)
{
    const struct t_fleet *fl = &r->fl;

    printf("workers %llu\nexited %llu\nkilled_after_finishing %llu\n"
           "killed_while_recording %llu\nscrapes %llu\nregressions %llu\n",
           (unsigned long long)fl->spawned, (unsigned long long)fl->exits,
           (unsigned long long)fl->kills_finished, (unsigned long long)fl->kills,
           (unsigned long long)r->scrapes, (unsigned long long)r->regressions);
    printf("steady_recorded %llu\nsteady_counted %.17g\nsteady_observed %.17g\n",
           (unsigned long long)fl->recorded[T_KIND_STEADY], work[T_KIND_STEADY],
           count[T_KIND_STEADY]);
    printf("mortal_recorded %llu\nmortal_counted %.17g\nmortal_observed %.17g\n",
           (unsigned long long)fl->recorded[T_KIND_MORTAL], work[T_KIND_MORTAL],
           count[T_KIND_MORTAL]);
    printf("dropped %.17g\ninvalid %.17g\n", dropped, invalid);
    printf("claims_reclaimed %.17g\n", r->claims_reclaimed);
}

/* The final checks; the number of failed ones. */
static int verdict(const struct run *r, const double *work, const double *count, double dropped,
                   double invalid)
{
    const struct t_fleet *fl = &r->fl;
    double S = (double)fl->recorded[T_KIND_MORTAL], K = (double)fl->kills;
    double steady = (double)fl->recorded[T_KIND_STEADY];
    int bad = 0;

    /* Absent series (-1): nothing of that kind was drained. */
    bad += (work[T_KIND_STEADY] < 0 ? 0 : work[T_KIND_STEADY]) != steady;
    bad += (count[T_KIND_STEADY] < 0 ? 0 : count[T_KIND_STEADY]) != steady;
    for (int k = 0; k < 2; k++) {
        double c = k ? count[T_KIND_MORTAL] : work[T_KIND_MORTAL];
        c = c < 0 ? 0 : c;
        bad += c < S || c > S + K;
    }
    bad += dropped != 0 || invalid != 0;
    bad += fl->bad != 0 || r->regressions != 0;
    return bad;
}

int main(int argc, char **argv)
{
    static struct run r;
    struct t_fleet_opts fo = {.jobs = true};
    struct opts o;
    double work[T_KINDS], count[T_KINDS], dropped, invalid;
    int bad;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: it_churn --ns NAME --port PORT [--seconds N] [--places N]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    t_rand_seed((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    fo.places = o.places;
    if (t_fleet_open(&r.fl, o.ns, &fo) != 0) {
        fprintf(stderr, "it_churn: cannot open namespace %s (is shmetricsd running?)\n", o.ns);
        return 2;
    }
    r.mortal_iters = (r.fl.seg.ring_records - 64) / 2;
    for (int k = 0; k < T_KINDS; k++)
        r.last_work[k] = r.last_count[k] = -1;
    r.end_ms = t_now_ms() + (uint64_t)o.seconds * 1000;
    if (churn(&r, o.port) != 0 || !t_wait_all_free(o.ns, (int)r.fl.seg.slots) ||
        scrape_check(&r, o.port, work, count) != 0) {
        fprintf(stderr, "it_churn: the aggregator did not free every slot or answer\n");
        t_fleet_close(&r.fl);
        return 1;
    }
    r.claims_reclaimed = t_scrape_value(o.port, "shmetrics_claims_reclaimed_total");
    dropped = t_debug_aggregator(o.port, "dropped_total");
    invalid = t_debug_aggregator(o.port, "invalid_records_total");
    print_figures(&r, work, count, dropped, invalid);
    bad = verdict(&r, work, count, dropped, invalid);
    t_fleet_close(&r.fl);
    return bad ? 1 : 0;
}
