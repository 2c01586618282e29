/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_util.c - see t_util.h.
 */
#include <stdio.h>
#include <unistd.h>

#include "shm.h"
#include "t_util.h"

const char *t_ns(char *buf, size_t len, const char *tag)
{
    static unsigned n;

    snprintf(buf, len, "t_%s_%d_%u", tag, (int)getpid(), n++);
    t_ns_cleanup(buf);
    return buf;
}

void t_ns_cleanup(const char *ns)
{
    (void)shmet__seg_unlink(ns);
    /* and the checkpoint a gracefully stopped shmetricsd leaves beside it */
    (void)shmet__state_unlink(ns);
}

int t_run(const char *name, const struct t_case *tests, size_t n)
{
    CU_pSuite suite;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    suite = CU_add_suite(name, NULL, NULL);
    for (size_t i = 0; suite != NULL && i < n; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    if (CU_get_error() != CUE_SUCCESS)
        failed++;
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
