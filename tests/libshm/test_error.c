/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_error.c - libshm/error.c: every error libshm returns has
 * its own message, and the four segment refusals are told apart.
 */
#include <string.h>

#include "shm.h"
#include "t_util.h"

static void test_strerror_segment_errors_distinct(void)
{
    const int errs[] = {SHMET_E_NOTSEG, SHMET_E_ABI, SHMET_E_TRUNCATED, SHMET_E_GEOMETRY,
                        -ENOENT,        -EACCES,     -ENOSPC,           -EINVAL,
                        -EEXIST,        -EMFILE,     -EAGAIN,           0};
    const size_t n = sizeof(errs) / sizeof(errs[0]);

    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(shmet__strerror(errs[i]));
        CU_ASSERT_TRUE(strlen(shmet__strerror(errs[i])) > 0);
        for (size_t k = 0; k < i; k++)
            CU_ASSERT_STRING_NOT_EQUAL(shmet__strerror(errs[i]), shmet__strerror(errs[k]));
    }
    /* The codes themselves are distinct negative errnos. */
    CU_ASSERT_EQUAL(SHMET_E_NOTSEG, -EBADMSG);
    CU_ASSERT_EQUAL(SHMET_E_ABI, -EPROTONOSUPPORT);
    CU_ASSERT_EQUAL(SHMET_E_TRUNCATED, -ENODATA);
    CU_ASSERT_EQUAL(SHMET_E_GEOMETRY, -EDOM);
}

static void test_strerror_fallbacks(void)
{
    CU_ASSERT_STRING_EQUAL(shmet__strerror(0), "success");
    CU_ASSERT_STRING_EQUAL(shmet__strerror(-EPERM), shmet__strerror(-EACCES));
    CU_ASSERT_STRING_EQUAL(shmet__strerror(-ENOMEM), strerror(ENOMEM));
    CU_ASSERT_STRING_EQUAL(shmet__strerror(-EROFS), strerror(EROFS));
    CU_ASSERT_STRING_EQUAL(shmet__strerror(5), "unknown error");
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_strerror_segment_errors_distinct", test_strerror_segment_errors_distinct},
        {"test_strerror_fallbacks", test_strerror_fallbacks},
    };

    return T_RUN("error", tests);
}
