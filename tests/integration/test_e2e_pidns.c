/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_e2e_pidns.c - producers and shmetricsd in
 * different PID namespaces, sharing /dev/shm: the layout of a worker
 * container beside a sidecar (or a host) daemon. Pids mean nothing across
 * the boundary, so liveness must not rest on them (tag-slot-lock in
 * include/shmetrics/abi.h). Each case uses `unshare --pid --fork
 * --mount-proc`, as a container runtime would:
 *
 *   - producers each in a PID namespace of their own, the daemon outside;
 *   - the daemon in a PID namespace of its own, the producers outside;
 *   - producers in their own namespaces SIGKILLed while holding their slots.
 *
 * Every producer (it_hold) records half its samples, holds its slot for
 * three seconds (three liveness checks at least), records the rest and
 * leaves. Checked: exact totals; the same slots, same generations, ACTIVE
 * all through the hold (no slot freed under a live producer); the SUM
 * gauge counts every live producer and drops to 0 when they are gone; all
 * slots FREE at the end (dead producers reclaimed).
 *
 * Needs unshare(1) and the right to make PID namespaces (root, or a user
 * namespace); exits 77 (skipped, saying why) when the kernel refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_e2e.h"
#include "t_util.h"

#define NWORKERS 3
#define COUNT 40000L /* per worker */
#define HOLD_MS 3000L
#define UNSHARE "unshare --pid --fork --mount-proc --kill-child"

struct worker {
    pid_t pid; /* the unshare process, or it_hold itself */
    int out;   /* its stdout */
};

static const char *hold_path(void)
{
    const char *p = getenv("IT_HOLD");

    return p != NULL ? p : "it_hold";
}

/* Start it_hold for ns, in a PID namespace of its own when isolated. */
static int worker_start(struct worker *w, const char *ns, bool isolated, long hold_ms)
{
    char count[32], hold[32];
    int p[2];

    snprintf(count, sizeof(count), "%ld", COUNT);
    snprintf(hold, sizeof(hold), "%ld", hold_ms);
    if (pipe2(p, O_CLOEXEC) != 0 || (w->pid = fork()) < 0)
        return -1;
    if (w->pid == 0) {
        const char *argv[] = {"unshare", "--pid",  "--fork",    "--mount-proc", "--kill-child",
                              hold_path(), "--ns", ns,          "--count",      count,
                              "--hold-ms", hold,   NULL};
        const char *const *a = isolated ? argv : argv + 5;
        dup2(p[1], 1);
        execvp(a[0], (char *const *)a);
        _exit(127);
    }
    close(p[1]);
    w->out = p[0];
    return 0;
}

static bool worker_says(const struct worker *w, const char *word)
{
    char buf[256];

    return t_wait_line(w->out, word, buf, sizeof(buf)) != NULL;
}

static int worker_wait(struct worker *w)
{
    int st = -1;

    waitpid(w->pid, &st, 0);
    close(w->out);
    return st;
}

/* The (slot, generation) of every ACTIVE producer in /debug, as a sorted
 * "slot:gen," list; the count of them. */
static int active_producers(int port, char *out, size_t len)
{
    json_t *root = t_debug(port), *p;
    size_t i, used = 0;
    int n = 0;

    out[0] = '\0';
    if (root == NULL)
        return -1;
    json_array_foreach(json_object_get(root, "producers"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "state")), "active") != 0)
            continue;
        used += (size_t)snprintf(out + used, len - used, "%lld:%lld,",
                                 json_integer_value(json_object_get(p, "slot")),
                                 json_integer_value(json_object_get(p, "generation")));
        n++;
    }
    json_decref(root);
    return n;
}

/* shmtool info from this PID namespace: the aggregator attached, and
 * every ACTIVE slot judged alive by its lock. Returns the live slots. */
static int shmtool_live_slots(const char *ns)
{
    const char *argv[] = {"shmtool", "info", "--ns", ns, "--json", NULL};
    json_t *root, *sl;
    int st, live = 0;
    size_t i;
    char *out = t_run_capture(argv, &st);

    root = out != NULL ? json_loads(out, 0, NULL) : NULL;
    free(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT(json_is_true(json_object_get(json_object_get(root, "segment"),
                                           "aggregator_attached")));
    json_array_foreach(json_object_get(root, "slots"), i, sl) {
        if (strcmp(json_string_value(json_object_get(sl, "state")), "active") != 0)
            continue;
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(sl, "liveness")), "lock");
        live += json_is_true(json_object_get(sl, "alive"));
    }
    json_decref(root);
    return live;
}

/* The common script: NWORKERS producers (isolated or not) against the
 * daemon d, all holding their slots at once. */
static void run_workers(struct t_daemon *d, bool isolated)
{
    struct worker w[NWORKERS];
    char before[256], after[256];

    for (int i = 0; i < NWORKERS; i++)
        CU_ASSERT_EQUAL_FATAL(worker_start(&w[i], d->ns, isolated, HOLD_MS), 0);
    for (int i = 0; i < NWORKERS; i++)
        CU_ASSERT_FATAL(worker_says(&w[i], "half"));
    /* All hold their slots now: half the samples, every one of them live. */
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_ops_total", NWORKERS * (COUNT / 2)),
                    NWORKERS * (COUNT / 2));
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_workers", NWORKERS), NWORKERS);
    CU_ASSERT_EQUAL(active_producers(d->port, before, sizeof(before)), NWORKERS);
    CU_ASSERT_EQUAL(shmtool_live_slots(d->ns), NWORKERS);
    /* Through two liveness checks (one a second), nobody is taken for
     * dead: the same slots and generations, the gauge unchanged. */
    usleep(2200 * 1000);
    CU_ASSERT_EQUAL(active_producers(d->port, after, sizeof(after)), NWORKERS);
    CU_ASSERT_STRING_EQUAL(after, before);
    CU_ASSERT_EQUAL(t_scrape_value(d->port, "it_hold_workers"), NWORKERS);
    for (int i = 0; i < NWORKERS; i++) {
        CU_ASSERT(worker_says(&w[i], "done"));
        int st = worker_wait(&w[i]);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_ops_total", NWORKERS * COUNT),
                    NWORKERS * COUNT);
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_seconds_count", NWORKERS * COUNT),
                    NWORKERS * COUNT);
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_seconds_bucket{le=\"0.5\"}", NWORKERS * COUNT),
                    NWORKERS * COUNT);
    CU_ASSERT_EQUAL(t_wait_value(d->port, "it_hold_workers", 0), 0);
    CU_ASSERT(t_wait_all_free(d->ns, 8));
    CU_ASSERT_EQUAL(t_debug_aggregator(d->port, "dropped_total"), 0);
}

/* Rings of 2 MiB: seconds of a stalled drain at the producers' rate. */
static const char *const geometry[] = {"--slots", "8", "--ring-records", "131072", NULL};

static void test_producers_in_own_pid_namespaces(void)
{
    struct t_daemon d;
    char ns[64];

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "pidns_p"), geometry), 0);
    run_workers(&d, true);
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_ns_cleanup(ns);
}

/* The daemon's pid in our namespace: the child of the unshare process. */
static pid_t child_of(pid_t pid)
{
    char path[64];
    long child = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    if (fscanf(f, "%ld", &child) != 1)
        child = -1;
    fclose(f);
    return (pid_t)child;
}

static void test_daemon_in_own_pid_namespace(void)
{
    struct t_daemon d;
    char ns[64];
    pid_t inner;

    /* Every daemon this process spawns runs under the wrapper. */
    setenv(T_WRAPPER_ENV, "unshare --pid --fork --mount-proc", 1);
    int rc = t_start(&d, t_ns(ns, sizeof(ns), "pidns_d"), geometry);
    unsetenv(T_WRAPPER_ENV);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    run_workers(&d, false);
    /* A graceful stop reaches the daemon itself; unshare then exits with
     * its status. */
    inner = child_of(d.pid);
    CU_ASSERT(inner > 0);
    if (inner > 0)
        kill(inner, SIGTERM);
    CU_ASSERT_EQUAL(t_wait_exit(&d, 10000), 0);
    (void)t_stop(&d);
    t_ns_cleanup(ns);
}

static void test_killed_isolated_producers_are_reclaimed(void)
{
    struct worker w[NWORKERS];
    struct t_daemon d;
    char ns[64], active[256];

    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "pidns_k"), geometry), 0);
    for (int i = 0; i < NWORKERS; i++)
        CU_ASSERT_EQUAL_FATAL(worker_start(&w[i], d.ns, true, 60000), 0);
    for (int i = 0; i < NWORKERS; i++)
        CU_ASSERT_FATAL(worker_says(&w[i], "half"));
    CU_ASSERT_EQUAL(t_wait_value(d.port, "it_hold_workers", NWORKERS), NWORKERS);
    /* SIGKILL to unshare: --kill-child takes its namespace down with it. */
    for (int i = 0; i < NWORKERS; i++) {
        kill(w[i].pid, SIGKILL);
        (void)worker_wait(&w[i]);
    }
    CU_ASSERT_EQUAL(t_wait_value(d.port, "it_hold_workers", 0), 0);
    CU_ASSERT(t_wait_all_free(d.ns, 8));
    CU_ASSERT_EQUAL(active_producers(d.port, active, sizeof(active)), 0);
    /* What they recorded before dying stays counted, exactly. */
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "it_hold_ops_total"), NWORKERS * (COUNT / 2));
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "it_hold_seconds_count"), NWORKERS * (COUNT / 2));
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_ns_cleanup(ns);
}

/* Whether this machine lets us make PID namespaces at all. */
static bool unshare_works(void)
{
    int st = system(UNSHARE " true 2>/dev/null");

    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_producers_in_own_pid_namespaces", test_producers_in_own_pid_namespaces},
        {"test_daemon_in_own_pid_namespace", test_daemon_in_own_pid_namespace},
        {"test_killed_isolated_producers_are_reclaimed",
         test_killed_isolated_producers_are_reclaimed},
    };

    signal(SIGPIPE, SIG_IGN);
    if (!unshare_works()) {
        fprintf(stderr, "SKIPPED: `" UNSHARE " true` failed: no PID namespaces here "
                        "(needs root or user namespaces)\n");
        return 77;
    }
    return T_RUN("e2e_pidns", tests);
}
