/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_perms.c - who may use a segment. A new
 * segment, whoever creates it (shmetricsd, shmtool create, the client
 * library), has mode 0660 whatever the umask (0, 022, 077), or exactly
 * --mode and --group when given; an existing segment keeps its own, and
 * shmetricsd says so. Invalid --mode and unknown --group values are usage
 * errors (exit 2); a group the caller may not give is exit 1 with a clear
 * message. A process without access (a child dropped to uid and gid 65534)
 * gets -EACCES from shmet_open with a "permission denied" message, and
 * shmtool names the file, its mode, owner and group and what to do; the
 * same process is let in once the segment is created for its group. And
 * shmetricsd listens on 127.0.0.1:9477 unless told otherwise.
 *
 * Segments live in a directory of this suite (mode 01777, like /tmp), so
 * the unprivileged child can search it. Dropping privileges needs root:
 * as another user those checks are skipped, each saying so, and the suite
 * exits 77 (skipped) rather than passing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "shm.h"
#include "t_e2e.h"
#include "t_util.h"

#define NOBODY 65534 /* uid and gid of the unprivileged child */
#define RUN_MS 10000 /* a tool that runs longer is killed */

/* Small geometry: the suite creates many segments. */
#define SMALL_GEO "--slots", "2", "--ring-records", "64", "--arena-bytes", "4096"

static char g_dir[64];   /* SHMETRICS_SHM_DIR of the suite */
static gid_t g_gid;      /* a group other than ours */
static char g_group[64]; /* its name */
static bool g_skipped;   /* a check needed root */

/* ---- running things ------------------------------------------------------ */

struct run {
    int status; /* exit status; -1: killed by a signal or the deadline */
    char out[8192], err[8192];
};

/* Become uid/gid NOBODY with no supplementary groups; false on failure. */
static bool drop_privileges(gid_t gid)
{
    return setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(NOBODY) == 0;
}

/* Run $SHMETRICS_BIN_DIR/prog with args (NULL-terminated, without
 * argv[0]), as NOBODY in group gid when drop, and collect its output
 * (small: it fits the pipes). */
static void run_prog(const char *prog, const char *const *args, bool drop, gid_t gid, struct run *r)
{
    const char *dir = getenv("SHMETRICS_BIN_DIR");
    const char *argv[32] = {prog};
    char path[4096];
    int out[2], err[2], st;
    uint64_t end = t_now_ms() + RUN_MS * t_scale();
    pid_t pid;

    for (size_t i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = args[i];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "bin", prog);
    r->status = -1;
    CU_ASSERT_FATAL(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (drop && !drop_privileges(gid))
            _exit(126);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (t_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        usleep(5000);
    }
    t_read_all(out[0], r->out, sizeof(r->out));
    t_read_all(err[0], r->err, sizeof(r->err));
    close(out[0]);
    close(err[0]);
    if (WIFEXITED(st))
        r->status = WEXITSTATUS(st);
}

/* Mode bits and group of ns's segment; false when it does not exist. */
static bool seg_stat(const char *ns, mode_t *mode, gid_t *gid)
{
    char path[512];
    struct stat st;

    if (shmet__seg_path(ns, path, sizeof(path)) < 0 || stat(path, &st) != 0)
        return false;
    *mode = st.st_mode & 07777;
    *gid = st.st_gid;
    return true;
}

/* Start shmetricsd on ns with extra; its stderr once stopped (in err). */
static void daemon_once(const char *ns, const char *const *extra, char *err, size_t len)
{
    struct t_daemon d;

    CU_ASSERT_EQUAL_FATAL(t_start(&d, ns, extra), 0);
    kill(d.pid, SIGTERM);
    CU_ASSERT_TRUE(t_wait_exit(&d, 5000) == 0); /* exit status 0 */
    d.pid = 0;
    t_read_all(d.err_fd, err, len);
    t_stop(&d);
}

static bool need_root(const char *what)
{
    if (geteuid() == 0)
        return true;
    printf("SKIPPED (not root, cannot drop privileges): %s ", what);
    g_skipped = true;
    return false;
}

/* ---- mode and group at creation ------------------------------------------ */

/* 0660 whoever creates the segment, whatever the umask. */
static void test_perms_default_mode_whatever_umask(void)
{
    static const mode_t masks[] = {0, 022, 077};
    const char *geo[] = {SMALL_GEO, NULL};
    char ns[64], err[4096];
    mode_t mode, old = umask(0);
    gid_t gid;

    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        const char *create[] = {"create", "--ns", t_ns(ns, sizeof(ns), "pmt"), SMALL_GEO, NULL};
        struct shmet_options o = {.ns = ns, .slots = 2, .ring_records = 64, .arena_bytes = 4096};
        struct shmet_client *c;
        struct run r;
        umask(masks[i]);
        run_prog("shmtool", create, false, 0, &r); /* shmtool create */
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid) && mode == 0660);
        t_ns_cleanup(ns);
        daemon_once(t_ns(ns, sizeof(ns), "pmd"), geo, err, sizeof(err)); /* shmetricsd */
        CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid) && mode == 0660);
        t_ns_cleanup(ns);
        CU_ASSERT_EQUAL_FATAL(shmet_open(&o, &c), 0); /* the client library */
        CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid) && mode == 0660);
        shmet_close(c);
        t_ns_cleanup(ns);
    }
    umask(old);
}

static void test_perms_mode_and_group_applied(void)
{
    char ns[64], num[16], want[128], err[4096];
    const char *create[] = {"create",  "--ns",   t_ns(ns, sizeof(ns), "pmg"),
                            SMALL_GEO, "--mode", "0600",
                            "--group", g_group,  NULL};
    const char *extra[] = {SMALL_GEO, "--mode", "0666", "--group", num, NULL};
    struct run r;
    mode_t mode = 0;
    gid_t gid = 0;

    run_prog("shmtool", create, false, 0, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    snprintf(want, sizeof(want), "mode 0600, group %s\n", g_group);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
    CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid));
    CU_ASSERT_EQUAL(mode, 0600);
    CU_ASSERT_EQUAL(gid, g_gid);
    t_ns_cleanup(ns);
    snprintf(num, sizeof(num), "%u", (unsigned)g_gid); /* the numeric form */
    daemon_once(t_ns(ns, sizeof(ns), "pmg"), extra, err, sizeof(err));
    CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid));
    CU_ASSERT_EQUAL(mode, 0666);
    CU_ASSERT_EQUAL(gid, g_gid);
    CU_ASSERT_PTR_NULL(strstr(err, "already exists")); /* it made this one */
    t_ns_cleanup(ns);
}

/* An existing segment keeps its mode and group; shmetricsd says so. */
static void test_perms_existing_segment_keeps_its_own(void)
{
    char ns[64], err[4096];
    const char *create[] = {"create", "--ns", t_ns(ns, sizeof(ns), "pmk"), SMALL_GEO, "--mode",
                            "0600",   NULL};
    const char *extra[] = {"--mode", "0666", "--group", g_group, NULL};
    struct run r;
    mode_t mode = 0;
    gid_t gid = 0;

    run_prog("shmtool", create, false, 0, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    daemon_once(ns, extra, err, sizeof(err));
    CU_ASSERT_TRUE(seg_stat(ns, &mode, &gid));
    CU_ASSERT_EQUAL(mode, 0600);
    CU_ASSERT_EQUAL(gid, getegid());
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "already exists: --mode and --group apply only to a "
                                       "segment shmetricsd creates; it keeps mode 0600"));
    t_ns_cleanup(ns);
}

static void test_perms_invalid_values_refused(void)
{
    static const char *const modes[] = {"0755", "0700", "0644x", "1660", "4660", "0400",
                                        "0066", "8",    "",      "-1",   "06600"};
    char ns[64];
    struct run r;
    mode_t mode;
    gid_t gid;

    t_ns(ns, sizeof(ns), "pmi");
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *d[] = {"--ns", ns, "--mode", modes[i], NULL};
        const char *t[] = {"create", "--ns", ns, "--mode", modes[i], NULL};
        run_prog("shmetricsd", d, false, 0, &r);
        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--mode '"));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no execute bits, nothing beyond 0777"));
        run_prog("shmtool", t, false, 0, &r);
        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no execute bits, nothing beyond 0777"));
    }
    for (int i = 0; i < 2; i++) {
        const char *d[] = {"--ns", ns, "--group", i ? "" : "no-such-group-here", NULL};
        const char *t[] = {"create", "--ns", ns, "--group", d[3], NULL};
        const char *want = i ? "expected a group name or a numeric GID" : "no such group";
        run_prog("shmetricsd", d, false, 0, &r);
        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
        run_prog("shmtool", t, false, 0, &r);
        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
    }
    CU_ASSERT_FALSE(seg_stat(ns, &mode, &gid)); /* nothing was created */
}

/* Giving a group one is not a member of is refused (exit 1), and nothing
 * is left behind. */
static void test_perms_group_not_permitted(void)
{
    char ns[64], want[512];
    const char *t[] = {"create", "--ns", t_ns(ns, sizeof(ns), "pmn"), SMALL_GEO, "--group",
                       "0",      NULL};
    const char *d[] = {"--ns", ns, "--listen", "127.0.0.1:0", SMALL_GEO, "--group", "0", NULL};
    struct run r;
    mode_t mode;
    gid_t gid;

    if (!need_root("--group not permitted"))
        return;
    run_prog("shmtool", t, true, NOBODY, &r);
    CU_ASSERT_EQUAL(r.status, 1);
    snprintf(want, sizeof(want),
             "%s/shmetrics.%s: cannot give the new segment group 0: only "
             "root, or a member of that group, may",
             g_dir, ns);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
    run_prog("shmetricsd", d, true, NOBODY, &r);
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "cannot give the new segment group 0: only root, or "
                                         "a member of that group, may"));
    CU_ASSERT_FALSE(seg_stat(ns, &mode, &gid));
}

/* ---- access refused, access granted -------------------------------------- */

/* shmet_open (and one record) as NOBODY in group gid, in a child: its
 * return code, and shmet_strerror of it in msg. */
static int client_open_as(const char *ns, gid_t gid, char *msg, size_t len)
{
    int p[2], rc = 1;
    pid_t pid;

    CU_ASSERT_FATAL(pipe(p) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct shmet_options o = {.ns = ns};
        struct shmet_client *c;
        struct shmet_family *f;
        struct shmet_series s;
        char buf[256];
        if (!drop_privileges(gid))
            _exit(1);
        rc = shmet_open(&o, &c);
        if (rc == 0 && (shmet_counter(c, "t_perm_total", "Perm.", NULL, &f) != 0 ||
                        shmet_series_get(f, NULL, &s) != 0))
            rc = -EPROTO;
        if (rc == 0) {
            shmet_inc(s);
            shmet_close(c);
        }
        snprintf(buf, sizeof(buf), "%d %s", rc, shmet_strerror(rc));
        (void)!write(p[1], buf, strlen(buf));
        _exit(0);
    }
    close(p[1]);
    t_read_all(p[0], msg, len);
    close(p[0]);
    waitpid(pid, NULL, 0);
    rc = (int)strtol(msg, NULL, 10);
    memmove(msg, strchr(msg, ' ') ? strchr(msg, ' ') + 1 : msg, strlen(msg) + 1);
    return rc;
}

static void test_perms_no_access_is_explained(void)
{
    char ns[64], msg[256], want[512];
    const char *create[] = {"create", "--ns", t_ns(ns, sizeof(ns), "pma"), SMALL_GEO, NULL};
    const char *info[] = {"--ns", ns, "info", NULL};
    struct run r;

    if (!need_root("no access: EACCES and its explanation"))
        return;
    run_prog("shmtool", create, false, 0, &r); /* 0660, our group */
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    CU_ASSERT_EQUAL(client_open_as(ns, NOBODY, msg, sizeof(msg)), -EACCES);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "permission denied"));
    run_prog("shmtool", info, true, NOBODY, &r);
    CU_ASSERT_EQUAL(r.status, 1);
    snprintf(want, sizeof(want),
             "shmtool: %s/shmetrics.%s: permission denied: the segment has mode 0660, owner "
             "root, group root; run as a member of group root, or have whoever creates it "
             "(shmetricsd or shmtool create) give it this process's group, e.g. --group %s "
             "--mode 0660",
             g_dir, ns, g_group);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
    t_ns_cleanup(ns);
}

/* The same process is let in when the segment is made for its group. */
static void test_perms_group_grants_access(void)
{
    char ns[64], msg[256], err[4096];
    const char *extra[] = {SMALL_GEO, "--group", g_group, NULL};
    const char *info[] = {"--ns", ns, "info", NULL};
    struct t_daemon d;
    struct run r;

    if (!need_root("access through --group"))
        return;
    CU_ASSERT_EQUAL_FATAL(t_start(&d, t_ns(ns, sizeof(ns), "pmy"), extra), 0);
    CU_ASSERT_EQUAL(client_open_as(ns, g_gid, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "t_perm_total"), 1); /* it recorded */
    run_prog("shmtool", info, true, g_gid, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(t_stop(&d), 0);
    t_read_all(d.err_fd, err, sizeof(err));
    t_ns_cleanup(ns);
}

/* ---- the HTTP listener --------------------------------------------------- */

/* Without --listen: 127.0.0.1:9477, never every interface. Another
 * process may hold the port; then the refusal names the address. */
static void test_perms_listens_on_loopback_by_default(void)
{
    char ns[64], buf[4096];
    const char *args[] = {"--ns", t_ns(ns, sizeof(ns), "pml"), SMALL_GEO, NULL};
    const char *line;
    struct t_daemon d;
    int st;

    CU_ASSERT_EQUAL_FATAL(t_spawn(&d, args, false), 0);
    line = t_wait_line(d.out_fd, "listening on ", buf, sizeof(buf));
    if (line != NULL) {
        CU_ASSERT_EQUAL(strncmp(line, "listening on 127.0.0.1:9477\n", 28), 0);
        CU_ASSERT_EQUAL(t_stop(&d), 0);
    } else {
        st = t_wait_exit(&d, 5000);
        CU_ASSERT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
        t_read_all(d.err_fd, buf, sizeof(buf));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cannot listen on 127.0.0.1:9477: "));
        printf("(port 9477 busy: %s) ", buf);
        d.pid = 0;
        t_stop(&d);
    }
    t_ns_cleanup(ns);
}

/* ---- set-up -------------------------------------------------------------- */

/* A group that is not ours, by name: the unprivileged child's. */
static int pick_group(void)
{
    struct group *g = getgrgid(NOBODY);

    if (g == NULL || g->gr_gid == getegid())
        return -1;
    g_gid = g->gr_gid;
    snprintf(g_group, sizeof(g_group), "%s", g->gr_name);
    return 0;
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_perms_default_mode_whatever_umask", test_perms_default_mode_whatever_umask},
        {"test_perms_mode_and_group_applied", test_perms_mode_and_group_applied},
        {"test_perms_existing_segment_keeps_its_own", test_perms_existing_segment_keeps_its_own},
        {"test_perms_invalid_values_refused", test_perms_invalid_values_refused},
        {"test_perms_group_not_permitted", test_perms_group_not_permitted},
        {"test_perms_no_access_is_explained", test_perms_no_access_is_explained},
        {"test_perms_group_grants_access", test_perms_group_grants_access},
        {"test_perms_listens_on_loopback_by_default", test_perms_listens_on_loopback_by_default},
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (pick_group() != 0) {
        fprintf(stderr, "test_fault_perms: no group %d other than ours; skipped\n", NOBODY);
        return 77;
    }
    snprintf(g_dir, sizeof(g_dir), "/tmp/shmetrics-perms-XXXXXX");
    if (mkdtemp(g_dir) == NULL || chmod(g_dir, 01777) != 0) {
        fprintf(stderr, "test_fault_perms: %s: %s\n", g_dir, strerror(errno));
        return 1;
    }
    setenv(SHMET_DIR_ENV, g_dir, 1);
    rc = T_RUN("fault_perms", tests);
    if (rmdir(g_dir) != 0)
        fprintf(stderr, "test_fault_perms: %s left behind: %s\n", g_dir, strerror(errno));
    if (rc == 0 && g_skipped) {
        fprintf(stderr, "test_fault_perms: checks that need root were skipped\n");
        return 77;
    }
    return rc;
}
