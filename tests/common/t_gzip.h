/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_gzip.h - decoding what shmetricsd (or gzip_encode) sent
 * gzipped, for the suites that check it.
 */
#ifndef SHMETRICS_TESTS_T_GZIP_H
#define SHMETRICS_TESTS_T_GZIP_H

#include <stddef.h>

/* The bytes of in[0..n), one whole gzip stream and nothing after it,
 * inflated: malloc'd and NUL-terminated, *len bytes (the NUL not
 * counted). NULL when in is not exactly that, or out of memory. */
char *t_gunzip(const void *in, size_t n, size_t *len);

#endif /* SHMETRICS_TESTS_T_GZIP_H */
