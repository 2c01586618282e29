/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/test_guard.c - aggregator/ingest/guard.c: a SIGBUS raised by an
 * access inside the guarded range during guard_run() comes back as
 * -EFAULT, as often as it happens; any other SIGBUS still kills (an access
 * outside the range, an access outside any guarded call, a SIGBUS sent by
 * kill()). The deaths are checked in forked children.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ingest/guard.h"
#include "t_util.h"

#define PAGE 4096u

struct mapped {
    FILE *f;
    volatile uint8_t *p; /* volatile: the reads must happen */
};

/* Two pages of a temporary file, then the file cut to one page: the
 * second page raises SIGBUS. */
static void map_cut(struct mapped *m)
{
    m->f = tmpfile();
    CU_ASSERT_FATAL(m->f != NULL);
    CU_ASSERT_FATAL(ftruncate(fileno(m->f), 2 * PAGE) == 0);
    m->p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(m->f), 0);
    CU_ASSERT_FATAL(m->p != MAP_FAILED);
    m->p[0] = 7;
    CU_ASSERT_FATAL(ftruncate(fileno(m->f), PAGE) == 0);
}

static void unmap(struct mapped *m)
{
    munmap((void *)m->p, 2 * PAGE);
    fclose(m->f);
}

static volatile uint8_t g_sink; /* volatile: stores stay in program order */

static void read_first(void *arg)
{
    g_sink = ((struct mapped *)arg)->p[0];
}

static void read_cut(void *arg)
{
    g_sink = ((struct mapped *)arg)->p[PAGE + 10];
    g_sink = 99; /* never reached */
}

static void test_guard_run_returns_efault(void)
{
    struct mapped m;
    uintptr_t at = 0;

    map_cut(&m);
    CU_ASSERT_EQUAL_FATAL(guard_install(), 0);
    CU_ASSERT_EQUAL(guard_run((const void *)m.p, 2 * PAGE, read_first, &m, &at), 0);
    CU_ASSERT_EQUAL(g_sink, 7);
    for (int i = 0; i < 3; i++) { /* again and again: nothing stays blocked */
        g_sink = 0;
        CU_ASSERT_EQUAL(guard_run((const void *)m.p, 2 * PAGE, read_cut, &m, &at), -EFAULT);
        CU_ASSERT_EQUAL(g_sink, 0);
        CU_ASSERT_EQUAL(at, (uintptr_t)m.p + PAGE + 10);
    }
    CU_ASSERT_EQUAL(guard_run((const void *)m.p, 2 * PAGE, read_first, &m, NULL), 0);
    unmap(&m);
}

static void nest(void *arg)
{
    *(int *)arg = guard_run((const void *)&g_sink, 1, read_first, NULL, NULL);
}

static void test_guard_run_refuses_nesting(void)
{
    int inner = 0;

    CU_ASSERT_EQUAL_FATAL(guard_install(), 0);
    CU_ASSERT_EQUAL(guard_run((const void *)&g_sink, 1, nest, &inner, NULL), 0);
    CU_ASSERT_EQUAL(inner, -EINVAL);
}

/* Run what(m) in a child; its wait status. No core file. */
static int in_child(void (*what)(struct mapped *m))
{
    struct rlimit no_core = {0, 0};
    struct mapped m;
    pid_t pid;
    int st = 0;

    map_cut(&m);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &no_core);
        if (guard_install() != 0)
            _exit(2);
        what(&m);
        _exit(0);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    unmap(&m);
    return st;
}

static void outside_range(struct mapped *m)
{
    /* guarding the first page only: the fault is elsewhere */
    (void)guard_run((const void *)m->p, PAGE, read_cut, m, NULL);
}

static void outside_call(struct mapped *m)
{
    read_cut(m);
}

static void by_kill(void *arg)
{
    (void)arg;
    raise(SIGBUS);
}

static void sent(struct mapped *m)
{
    (void)guard_run((const void *)m->p, 2 * PAGE, by_kill, m, NULL);
}

static bool died_of_sigbus(int st)
{
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS;
}

static void test_guard_other_sigbus_kills(void)
{
    CU_ASSERT_TRUE(died_of_sigbus(in_child(outside_range)));
    CU_ASSERT_TRUE(died_of_sigbus(in_child(outside_call)));
    CU_ASSERT_TRUE(died_of_sigbus(in_child(sent)));
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_guard_run_returns_efault", test_guard_run_returns_efault},
        {"test_guard_run_refuses_nesting", test_guard_run_refuses_nesting},
        {"test_guard_other_sigbus_kills", test_guard_other_sigbus_kills},
    };

    return T_RUN("guard", tests);
}
