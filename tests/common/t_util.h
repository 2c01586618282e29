/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_util.h - helpers shared by the CUnit suites: unique
 * namespaces per test, running a CUnit registry and mapping its result to
 * the exit code ctest expects.
 */
#ifndef SHMETRICS_TESTS_T_UTIL_H
#define SHMETRICS_TESTS_T_UTIL_H

#include <CUnit/Basic.h>
#include <stddef.h>

/* A namespace unique to this process and tag ("t_<tag>_<pid>_<n>"), in buf. */
const char *t_ns(char *buf, size_t len, const char *tag);

/* Remove the namespace's segment, if any. */
void t_ns_cleanup(const char *ns);

/* Run every test in tests[] as one suite named name; returns the process
 * exit code: 0 when all passed, 1 otherwise. */
struct t_case {
    const char *name;
    void (*fn)(void);
};
int t_run(const char *name, const struct t_case *tests, size_t n);

#define T_RUN(name, arr) t_run((name), (arr), sizeof(arr) / sizeof((arr)[0]))

#endif /* SHMETRICS_TESTS_T_UTIL_H */
