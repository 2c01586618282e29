/* SPDX-License-Identifier: MIT */
/*
 * tests/client/t_expect_err.h - EXPECT_ERR(call, rc, detail): the call
 * returns rc and shmet_last_error() then says exactly detail (printed with
 * the line when it does not, so a changed message is easy to see).
 */
#ifndef T_EXPECT_ERR_H
#define T_EXPECT_ERR_H

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shmetrics.h"

#define EXPECT_ERR(call, want_rc, want)                                                            \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        CU_ASSERT_EQUAL(rc_, want_rc);                                                             \
        CU_ASSERT_STRING_EQUAL(shmet_last_error(), want);                                          \
        if (strcmp(shmet_last_error(), want) != 0)                                                 \
            fprintf(stderr, "\n    line %d: detail \"%s\"\n", __LINE__, shmet_last_error());       \
    } while (0)

#endif
