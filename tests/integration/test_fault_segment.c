/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_segment.c - the segment file changed under
 * a running shmetricsd (tag-seg-hold in aggregator/ingest/hold.h):
 *
 *  - truncated to 0 while shmetricsd is stopped with records waiting, so
 *    that its first access after SIGCONT raises SIGBUS: it survives, keeps
 *    serving exactly what it had drained (no reset, nothing more), counts
 *    the loss, says so on stderr once (path, "truncated", SIGBUS); a
 *    producer recording meanwhile dies of SIGBUS itself (the client is
 *    not guarded); once the file is removed and a producer creates a new
 *    segment of another geometry, shmetricsd attaches to it and counts the
 *    new producer exactly, on top of the old counts;
 *  - truncated to half while producers record: the loss is found (by a
 *    fault or by the file's size), counts stay put; `shmtool create` makes
 *    a new segment at the name and shmetricsd follows;
 *  - replaced by a valid segment renamed over the name: shmetricsd drains
 *    the old mapping a last time, moves to the new one (no loss counted);
 *    what a producer records afterwards into the old file is not counted.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_e2e.h"
#include "t_util.h"

static const char *const g_small[] = {"--slots", "4", "--ring-records", "1024", "--arena-bytes",
                                      "8192",    NULL};

/* ---- producers run as commanded ------------------------------------------- */

struct worker {
    pid_t pid;
    int cmd, ack; /* our ends */
};

/* The counter and histogram every worker records into. */
struct jobs {
    struct shmet_series n, size;
};

static int jobs_open(const char *ns, const struct shmet__geometry *geo, struct jobs *j)
{
    static const double bounds[] = {1, 2};
    struct shmet_options o = {.ns = ns};
    struct shmet_client *c;
    struct shmet_family *fn, *fs;

    if (geo != NULL) {
        o.slots = geo->slots;
        o.ring_records = geo->ring_records;
        o.arena_bytes = geo->arena_bytes;
    }
    if (shmet_open(&o, &c) != 0 || shmet_counter(c, "sg_jobs_total", "Jobs.", NULL, &fn) != 0 ||
        shmet_histogram(c, "sg_job_size", "Sizes.", NULL, bounds, 2, &fs) != 0 ||
        shmet_series_get(fn, NULL, &j->n) != 0 || shmet_series_get(fs, NULL, &j->size) != 0)
        return -1;
    return 0;
}

/* n jobs of sizes 0, 1, 2, 0, 1, 2, ... (n a multiple of 3: the sum is n,
 * n * 2 / 3 are <= 1). */
static void jobs_record(const struct jobs *j, int n)
{
    for (int i = 0; i < n; i++) {
        shmet_inc(j->n);
        shmet_observe(j->size, i % 3);
    }
}

/* Child: open a client (creating the segment with geo if none), then for
 * each int n read on cmd record n jobs and answer one byte. At EOF leave
 * with _exit(): the segment may be gone, so nothing touches it. */
static void worker_main(const char *ns, const struct shmet__geometry *geo, int cmd, int ack)
{
    struct jobs j;
    int n;

    if (jobs_open(ns, geo, &j) != 0)
        _exit(10);
    while (read(cmd, &n, sizeof(n)) == (ssize_t)sizeof(n)) {
        jobs_record(&j, n);
        if (write(ack, "k", 1) != 1)
            _exit(11);
    }
    _exit(0);
}

static void worker_start(struct worker *w, const char *ns, const struct shmet__geometry *geo)
{
    int cmd[2], ack[2];

    CU_ASSERT_FATAL(pipe(cmd) == 0 && pipe(ack) == 0);
    fflush(NULL);
    w->pid = fork();
    CU_ASSERT_FATAL(w->pid >= 0);
    if (w->pid == 0) {
        /* Only our own ends: a command pipe of another worker held open
         * here would keep that worker from seeing its EOF. */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != cmd[0] && fd != ack[1])
                close(fd);
        worker_main(ns, geo, cmd[0], ack[1]);
    }
    close(cmd[0]);
    close(ack[1]);
    w->cmd = cmd[1];
    w->ack = ack[0];
}

/* Record n jobs in w; true once it has. */
static bool worker_record(struct worker *w, int n)
{
    char b;

    return write(w->cmd, &n, sizeof(n)) == (ssize_t)sizeof(n) && read(w->ack, &b, 1) == 1;
}

/* Record JOBS_STEP jobs at a time in w, each step drained before the next
 * (the rings hold 1024 records: a burst must fit), up to total jobs seen
 * by shmetricsd. */
#define JOBS_STEP 300
static void record_drained(struct worker *w, int port, int from, int total)
{
    for (int n = from + JOBS_STEP; n <= total; n += JOBS_STEP) {
        CU_ASSERT_FATAL(worker_record(w, JOBS_STEP));
        CU_ASSERT_EQUAL_FATAL(t_wait_value(port, "sg_jobs_total", n), n);
    }
}

/* Let w leave; its wait status. */
static int worker_end(struct worker *w)
{
    int st = -1;

    close(w->cmd);
    waitpid(w->pid, &st, 0);
    close(w->ack);
    return st;
}

/* Child recording into sg_busy_total without a pause until killed. */
static pid_t busy_start(const char *ns)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct shmet_options o = {.ns = ns};
        struct shmet_client *c;
        struct shmet_family *f;
        struct shmet_series s;
        signal(SIGBUS, SIG_DFL); /* as in a producer (a sanitizer catches it) */
        if (shmet_open(&o, &c) != 0 || shmet_counter(c, "sg_busy_total", "Busy.", NULL, &f) != 0 ||
            shmet_series_get(f, NULL, &s) != 0)
            _exit(10);
        for (;;) {
            shmet_inc(s);
            usleep(100);
        }
    }
    return pid;
}

/* ---- the daemon ------------------------------------------------------------ */

/* Wait (T_DEADLINE_MS at most) for child pid to end; its wait status, or
 * -1 (then it is killed). */
static int wait_child(pid_t pid)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int st;

    while (t_now_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static bool alive(const struct t_daemon *d)
{
    return waitpid(d->pid, NULL, WNOHANG) == 0;
}

/* Wait until process pid is stopped (state T in /proc). */
static bool wait_stopped(pid_t pid)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    char path[64], buf[256], *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    while (t_now_ms() < end) {
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f != NULL)
            fclose(f);
        buf[n] = '\0';
        if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'T')
            return true;
        usleep(1000);
    }
    return false;
}

/* The jobs counter and histogram are exactly n jobs. */
static void assert_jobs(int port, double n)
{
    struct t_samples ss;

    CU_ASSERT_EQUAL_FATAL(t_scrape(port, &ss), 0);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sg_jobs_total"), n);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sg_job_size_count"), n);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sg_job_size_sum"), n);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sg_job_size_bucket{le=\"1\"}"), n * 2 / 3);
    CU_ASSERT_EQUAL(t_samples_get(&ss, "sg_job_size_bucket{le=\"2\"}"), n);
    t_samples_free(&ss);
}

/* /debug's segment object: attached?, attaches, losses, slots. */
static void assert_debug_segment(int port, bool attached, int attaches, int lost, int slots)
{
    json_t *root = t_debug(port), *seg = json_object_get(root, "segment");

    CU_ASSERT_FATAL(json_is_object(seg));
    CU_ASSERT_EQUAL(json_is_true(json_object_get(seg, "attached")), attached);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(seg, "attaches_total")), attaches);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(seg, "lost_total")), lost);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(seg, "slots")), slots);
    if (!attached)
        CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "producers")), 0);
    json_decref(root);
}

static void assert_healthy(const struct t_daemon *d)
{
    struct t_resp r;

    CU_ASSERT_TRUE(alive(d));
    CU_ASSERT_EQUAL(t_roundtrip(d->port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r, false), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    t_resp_free(&r);
}

/* The busy counter, after its producer got going. */
static double busy_going(int port)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    double v;

    while ((v = t_scrape_value(port, "sg_busy_total")) <= 0 && t_now_ms() < end)
        usleep(10 * 1000);
    return v;
}

/* Stop the daemon: exit 0, and stderr said each of the NULL-terminated
 * words. Tells whether a loss was found by a fault. */
static void stop_and_check_stderr(struct t_daemon *d, const char *const *words)
{
    static char err[65536];
    int st = t_stop_stderr(d, err, sizeof(err));

    if (strstr(err, "was truncated") != NULL)
        printf("(loss found by %s) ", strstr(err, "SIGBUS") ? "a fault" : "the file's size");
    CU_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strstr(err, words[i]) == NULL)
            fprintf(stderr, "\"%s\" not in shmetricsd's stderr:\n%s\n", words[i], err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, words[i]));
    }
}

/* ---- the tests ------------------------------------------------------------- */

/* shmetricsd on a fresh namespace named after tag (ns, 64 bytes), its
 * segment file (path, 512 bytes), and producer p with jobs jobs drained. */
static void begin(struct t_daemon *d, char *ns, char *path, const char *tag, struct worker *p,
                  int jobs)
{
    CU_ASSERT_EQUAL_FATAL(t_start(d, t_ns(ns, 64, tag), g_small), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(ns, path, 512), 0);
    worker_start(p, ns, NULL);
    record_drained(p, d->port, 0, jobs);
}

/* A busy producer, once shmetricsd has seen it record. */
static pid_t busy_seen(const char *ns, int port)
{
    pid_t busy = busy_start(ns);

    CU_ASSERT_FATAL(busy > 0);
    CU_ASSERT_FATAL(busy_going(port) > 0);
    return busy;
}

static void test_fault_segment_truncated_to_zero(void)
{
    const struct shmet__geometry other = {2, 2048, 8192}; /* not the first one's */
    struct t_daemon d;
    struct worker p, r;
    char ns[64], path[512];
    pid_t busy;
    double b1;
    int st;

    begin(&d, ns, path, "segz", &p, 900);
    busy = busy_seen(ns, d.port);

    /* Records wait in the ring while shmetricsd is stopped; the file is
     * cut; its first access after SIGCONT faults. */
    CU_ASSERT_EQUAL_FATAL(kill(d.pid, SIGSTOP), 0);
    CU_ASSERT_FATAL(wait_stopped(d.pid));
    CU_ASSERT_FATAL(worker_record(&p, 300));
    CU_ASSERT_EQUAL_FATAL(truncate(path, 0), 0);
    CU_ASSERT_EQUAL_FATAL(kill(d.pid, SIGCONT), 0);

    CU_ASSERT_EQUAL(t_wait_value(d.port, "shmetrics_segment_lost_total", 1), 1);
    assert_healthy(&d);
    assert_jobs(d.port, 900); /* nothing reset, the 300 went with the pages */
    b1 = t_scrape_value(d.port, "sg_busy_total");
    CU_ASSERT(b1 > 0);
    /* The busy producer's next record hit the cut pages too. */
    st = wait_child(busy);
    CU_ASSERT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "sg_busy_total"), b1);
    assert_debug_segment(d.port, false, 1, 1, 4);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_producers"), 0);
    st = worker_end(&p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* A new segment of another geometry at the name, made by a producer. */
    CU_ASSERT_EQUAL(unlink(path), 0);
    worker_start(&r, ns, &other);
    record_drained(&r, d.port, 900, 1500);
    assert_jobs(d.port, 1500);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "sg_busy_total"), b1);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_segment_attaches_total"), 2);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_segment_lost_total"), 1);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_producers"), 1);
    assert_debug_segment(d.port, true, 2, 1, 2);
    st = worker_end(&r);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    stop_and_check_stderr(&d, (const char *const[]){path, "was truncated (0 of ", "SIGBUS",
                                                    "attached to segment", NULL});
    t_ns_cleanup(ns);
}

static void test_fault_segment_truncated_to_half(void)
{
    const char *create[] = {"shmtool", "--ns",           NULL,   "create",        "--slots",
                            "2",       "--ring-records", "1024", "--arena-bytes", "4096",
                            NULL};
    struct t_daemon d;
    struct worker p, r;
    char ns[64], path[512], *out;
    struct stat sb;
    pid_t busy;
    double b1;
    int st;

    begin(&d, ns, path, "segh", &p, 600);
    busy = busy_seen(ns, d.port);

    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL_FATAL(truncate(path, sb.st_size / 2), 0);
    CU_ASSERT_EQUAL(t_wait_value(d.port, "shmetrics_segment_lost_total", 1), 1);
    assert_healthy(&d);
    assert_jobs(d.port, 600);
    b1 = t_scrape_value(d.port, "sg_busy_total");
    CU_ASSERT(b1 > 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "sg_busy_total"), b1); /* no longer read */
    assert_debug_segment(d.port, false, 1, 1, 4);
    kill(busy, SIGKILL); /* or it died of SIGBUS already, if its slot was cut */
    CU_ASSERT_EQUAL(waitpid(busy, &st, 0), busy);
    CU_ASSERT(WIFSIGNALED(st));
    st = worker_end(&p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    CU_ASSERT_EQUAL(unlink(path), 0);
    create[2] = ns;
    out = t_run_capture(create, &st);
    free(out);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(t_wait_value(d.port, "shmetrics_segment_attaches_total", 2), 2);
    worker_start(&r, ns, NULL);
    record_drained(&r, d.port, 600, 900);
    assert_jobs(d.port, 900);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "sg_busy_total"), b1);
    assert_debug_segment(d.port, true, 2, 1, 2);
    st = worker_end(&r);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    stop_and_check_stderr(&d, (const char *const[]){path, "was truncated", NULL});
    t_ns_cleanup(ns);
}

static void test_fault_segment_replaced(void)
{
    const struct shmet__geometry other = {2, 1024, 8192};
    struct t_daemon d;
    struct shmet__seg next;
    struct worker p, r;
    char ns[64], next_ns[80], path[512], next_path[512];
    uint64_t end;
    json_t *root;
    int st, slots = 0;

    begin(&d, ns, path, "segr", &p, 600);

    /* A complete segment made under another name, renamed over ours. */
    snprintf(next_ns, sizeof(next_ns), "%s_next", ns);
    CU_ASSERT_EQUAL_FATAL(
        shmet__seg_open(next_ns, &other, SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &next), 0);
    shmet__seg_close(&next);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(next_ns, next_path, sizeof(next_path)), 0);
    CU_ASSERT_FATAL(worker_record(&p, 300)); /* drained, at the latest by the last drain */
    CU_ASSERT_EQUAL_FATAL(rename(next_path, path), 0);
    end = t_now_ms() + T_DEADLINE_MS;
    while (slots != 2 && t_now_ms() < end) {
        root = t_debug(d.port);
        slots = (int)json_integer_value(json_object_get(json_object_get(root, "segment"), "slots"));
        json_decref(root);
        usleep(10 * 1000);
    }
    assert_debug_segment(d.port, true, 2, 0, 2);
    assert_jobs(d.port, 900);

    /* P still records into the old file: nobody reads it now. */
    CU_ASSERT_FATAL(worker_record(&p, 150));
    worker_start(&r, ns, NULL);
    record_drained(&r, d.port, 900, 1200);
    assert_jobs(d.port, 1200);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_segment_lost_total"), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_segment_attaches_total"), 2);
    assert_healthy(&d);
    st = worker_end(&p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = worker_end(&r);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    stop_and_check_stderr(&d, (const char *const[]){path, "was replaced", NULL});
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_segment_truncated_to_zero", test_fault_segment_truncated_to_zero},
        {"test_fault_segment_truncated_to_half", test_fault_segment_truncated_to_half},
        {"test_fault_segment_replaced", test_fault_segment_replaced},
    };
    struct rlimit no_core = {0, 0};

    signal(SIGPIPE, SIG_IGN);
    setrlimit(RLIMIT_CORE, &no_core); /* producers that die of SIGBUS leave none */
    return T_RUN("fault_segment", tests);
}
