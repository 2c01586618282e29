/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/t_libshm.h - small helpers shared by the libshm suites.
 */
#ifndef SHMETRICS_TESTS_T_LIBSHM_H
#define SHMETRICS_TESTS_T_LIBSHM_H

#include <stdatomic.h>

/* Plain reads and writes of segment fields by a test. RELAXED: a test sets
 * up or inspects a slot from one thread, or after pthread_join()/waitpid(),
 * which already order everything the other side did; the code under test
 * keeps its own orderings. */
#define T_LOAD(p) atomic_load_explicit((p), memory_order_relaxed)
#define T_STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

#endif /* SHMETRICS_TESTS_T_LIBSHM_H */
