/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_proc.c - libshm/proc.c: a process's start time (field
 * 22 of /proc/<pid>/stat) compared with an independent parse, command names
 * built to confuse a naive parser, and liveness of running, exited but
 * unreaped (zombie) and reaped processes.
 */
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"
#include "t_util.h"

/* Field 22 of /proc/<pid>/stat, found by splitting what follows the last
 * ')' into whitespace-separated tokens (field 3 is the first). */
static int ref_start_time(pid_t pid, uint64_t *out)
{
    char path[64], buf[2048], *p, *save = NULL, *tok;
    FILE *f;
    size_t n;
    int field = 3;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    for (tok = strtok_r(p + 1, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save)) {
        if (field++ == 22) {
            *out = strtoull(tok, NULL, 10);
            return 0;
        }
    }
    return -1;
}

static void read_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    buf[0] = '\0';
    f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(buf, (int)len, f) != NULL)
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static void test_proc_start_time_self(void)
{
    uint64_t got = 0, want = 0;

    CU_ASSERT_EQUAL_FATAL(ref_start_time(getpid(), &want), 0);
    CU_ASSERT_EQUAL(shmet__proc_start_time(getpid(), &got), 0);
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT_NOT_EQUAL(got, 0);
}

static void test_proc_start_time_missing(void)
{
    uint64_t st = 12345;

    CU_ASSERT_EQUAL(shmet__proc_start_time(-1, &st), -ENOENT);
    CU_ASSERT_EQUAL(shmet__proc_start_time(0x7ffffff0, &st), -ENOENT);
    CU_ASSERT_EQUAL(st, 12345);
}

/* A child that renames itself to name, then waits until its pipe closes.
 * Reports its start time (taken before the rename) through *start. */
struct child {
    pid_t pid;
    int release; /* write end: closing it lets the child exit */
};

static int spawn_named(struct child *c, const char *name, uint64_t *start)
{
    int ready[2], hold[2];
    char ch;

    if (pipe(ready) < 0 || pipe(hold) < 0)
        return -1;
    c->pid = fork();
    if (c->pid < 0)
        return -1;
    if (c->pid == 0) {
        uint64_t st = 0;
        close(ready[0]);
        close(hold[1]);
        if (ref_start_time(getpid(), &st) < 0)
            _exit(2);
        if (name != NULL && prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
            _exit(3);
        if (write(ready[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
            _exit(4);
        /* Returns 0 (EOF) when the parent releases us. */
        _exit(read(hold[0], &ch, 1) == 0 ? 0 : 5);
    }
    close(ready[1]);
    close(hold[0]);
    c->release = hold[1];
    if (read(ready[0], start, sizeof(*start)) != (ssize_t)sizeof(*start)) {
        close(ready[0]);
        return -1;
    }
    close(ready[0]);
    return 0;
}

static void child_end(struct child *c)
{
    int status;

    close(c->release);
    CU_ASSERT_EQUAL(waitpid(c->pid, &status, 0), c->pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Command names with spaces and parentheses, some imitating the fields
 * that follow (a parser that splits on the first ')' or on spaces from the
 * start would read a fake state or start time). */
static void test_proc_start_time_hostile_comm(void)
{
    static const char *const names[] = {
        "a) b (c", ") Z 1 2 3 4 5 6", "))))))", "((((((", "x ) ) ) y", " ", "a)",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct child c;
        uint64_t want = 0, got = 0;
        char comm[64];

        CU_ASSERT_EQUAL_FATAL(spawn_named(&c, names[i], &want), 0);
        read_comm(c.pid, comm, sizeof(comm));
        CU_ASSERT_STRING_EQUAL(comm, names[i]);
        CU_ASSERT_EQUAL(shmet__proc_start_time(c.pid, &got), 0);
        CU_ASSERT_EQUAL(got, want);
        CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, want), 1);
        CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, 0), 1);
        child_end(&c);
    }
}

/* The process itself, renamed in place (comm of the main thread). */
static void test_proc_start_time_self_renamed(void)
{
    char old[32] = "";
    uint64_t before = 0, after = 0;

    CU_ASSERT_EQUAL_FATAL(prctl(PR_GET_NAME, old, 0, 0, 0), 0);
    CU_ASSERT_EQUAL(shmet__proc_start_time(getpid(), &before), 0);
    CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_NAME, "a) b (c", 0, 0, 0), 0);
    CU_ASSERT_EQUAL(shmet__proc_start_time(getpid(), &after), 0);
    CU_ASSERT_EQUAL(after, before);
    CU_ASSERT_EQUAL(shmet__proc_alive(getpid(), after), 1);
    prctl(PR_SET_NAME, old, 0, 0, 0);
}

static void test_proc_alive_self(void)
{
    uint64_t st = 0;

    CU_ASSERT_EQUAL_FATAL(shmet__proc_start_time(getpid(), &st), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(getpid(), st), 1);
    CU_ASSERT_EQUAL(shmet__proc_alive(getpid(), 0), 1);
    /* Same pid, another start time: a recycled pid is another process. */
    CU_ASSERT_EQUAL(shmet__proc_alive(getpid(), st + 1), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(getpid(), st - 1), 0);
}

static void test_proc_alive_invalid_pid(void)
{
    CU_ASSERT_EQUAL(shmet__proc_alive(0, 0), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(-1, 0), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(INT32_MIN, 0), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(0x7ffffff0, 0), 0);
}

/* Running -> 1; exited but not yet reaped (a zombie) -> 0; reaped -> 0. */
static void test_proc_alive_zombie_and_reaped(void)
{
    struct child c;
    uint64_t st = 0, got = 0;
    siginfo_t si;
    int status;

    CU_ASSERT_EQUAL_FATAL(spawn_named(&c, NULL, &st), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, st), 1);
    close(c.release);
    /* Wait for the exit but leave the child unreaped. */
    memset(&si, 0, sizeof(si));
    CU_ASSERT_EQUAL_FATAL(waitid(P_PID, (id_t)c.pid, &si, WEXITED | WNOWAIT), 0);
    CU_ASSERT_EQUAL(si.si_pid, c.pid);
    CU_ASSERT_EQUAL(shmet__proc_start_time(c.pid, &got), 0); /* still listed */
    CU_ASSERT_EQUAL(got, st);
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, st), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, 0), 0);
    CU_ASSERT_EQUAL(waitpid(c.pid, &status, 0), c.pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, st), 0);
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, 0), 0);
}

/* A child stopped by a signal is alive. */
static void test_proc_alive_stopped(void)
{
    struct child c;
    uint64_t st = 0;
    int status;

    CU_ASSERT_EQUAL_FATAL(spawn_named(&c, NULL, &st), 0);
    CU_ASSERT_EQUAL(kill(c.pid, SIGSTOP), 0);
    CU_ASSERT_EQUAL(waitpid(c.pid, &status, WUNTRACED), c.pid);
    CU_ASSERT_TRUE(WIFSTOPPED(status));
    CU_ASSERT_EQUAL(shmet__proc_alive(c.pid, st), 1);
    CU_ASSERT_EQUAL(kill(c.pid, SIGCONT), 0);
    child_end(&c);
}

/* Fill the stack below the caller with byte c, so that an uninitialised
 * local in the next call starts out as c rather than whatever was there. */
static __attribute__((noinline)) void stack_fill(int c)
{
    volatile char junk[8192];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)c;
}

/* In a private mount namespace with /proc mounted hidepid=1, as an
 * unprivileged user, query a root process: its stat is unreadable. Exits
 * with 77 when the namespace cannot be set up, else reports both results
 * through fd. */
static void unreadable_child(pid_t target, int fd)
{
    int rc[2];
    uint64_t st = 0;

    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=1") < 0 ||
        setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
        _exit(77);
    rc[0] = shmet__proc_start_time(target, &st);
    stack_fill('Z'); /* a zombie's state letter */
    rc[1] = shmet__proc_alive(target, 0);
    _exit(write(fd, rc, sizeof(rc)) == (ssize_t)sizeof(rc) ? 0 : 1);
}

/* Regression: when /proc/<pid>/stat could not be read for a reason other
 * than the process being gone (EPERM under hidepid), shmet__proc_alive()
 * looked at the state letter that was never read: an uninitialised local
 * that could say 'Z', making a live process "dead". It must report the
 * error instead. */
static void test_proc_alive_unreadable_stat(void)
{
    int fds[2], rc[2] = {0, 0}, status;
    pid_t pid;

    CU_ASSERT_FATAL(pipe(fds) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        unreadable_child(getppid(), fds[1]);
    }
    close(fds[1]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        fprintf(stderr, "\n  (skipped: cannot mount a private /proc with hidepid) ");
        close(fds[0]);
        return;
    }
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(read(fds[0], rc, sizeof(rc)), (ssize_t)sizeof(rc));
    close(fds[0]);
    CU_ASSERT_TRUE(rc[0] == -EPERM || rc[0] == -EACCES);
    CU_ASSERT_EQUAL(rc[1], rc[0]);
}

static void *tid_thread(void *arg)
{
    int32_t *out = arg;

    out[0] = shmet__gettid();
    out[1] = (int32_t)syscall(SYS_gettid);
    return NULL;
}

static void test_gettid_threads(void)
{
    int32_t ids[2] = {0, 0};
    pthread_t th;

    CU_ASSERT_EQUAL(shmet__gettid(), getpid());
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, tid_thread, ids), 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(ids[0], ids[1]);
    CU_ASSERT_NOT_EQUAL(ids[0], getpid());
    CU_ASSERT_TRUE(ids[0] > 0);
}

static void test_now_ns_realtime(void)
{
    struct timespec a, b;
    uint64_t n, lo, hi;

    clock_gettime(CLOCK_REALTIME, &a);
    n = shmet__now_ns();
    clock_gettime(CLOCK_REALTIME, &b);
    lo = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
    hi = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
    CU_ASSERT_TRUE(n >= lo);
    CU_ASSERT_TRUE(n <= hi);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_proc_start_time_self", test_proc_start_time_self},
        {"test_proc_start_time_missing", test_proc_start_time_missing},
        {"test_proc_start_time_hostile_comm", test_proc_start_time_hostile_comm},
        {"test_proc_start_time_self_renamed", test_proc_start_time_self_renamed},
        {"test_proc_alive_self", test_proc_alive_self},
        {"test_proc_alive_invalid_pid", test_proc_alive_invalid_pid},
        {"test_proc_alive_zombie_and_reaped", test_proc_alive_zombie_and_reaped},
        {"test_proc_alive_stopped", test_proc_alive_stopped},
        {"test_proc_alive_unreadable_stat", test_proc_alive_unreadable_stat},
        {"test_gettid_threads", test_gettid_threads},
        {"test_now_ns_realtime", test_now_ns_realtime},
    };

    return T_RUN("proc", tests);
}
