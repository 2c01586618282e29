/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/t_segdir.h - a private segment directory for one test
 * process: SHMETRICS_SHM_DIR pointed at a fresh mkdtemp directory (under
 * /dev/shm when it exists, so the file system is the real one), so that a
 * test can assert on the exact set of files a call leaves behind.
 */
#ifndef SHMETRICS_TESTS_T_SEGDIR_H
#define SHMETRICS_TESTS_T_SEGDIR_H

#include <stddef.h>

/* Make the directory and point SHMETRICS_SHM_DIR at it; 0 or -1. */
int t_segdir_setup(void);

/* Remove what is left in it, and the directory. */
void t_segdir_teardown(void);

/* Entries of the current segment directory (shmet__shm_dir()), "." and
 * ".." aside. With only != NULL, -1 as soon as one has another name. */
int t_segdir_count(const char *only);

/* The path of the segment of ns in the current segment directory. */
void t_segdir_path(const char *ns, char *buf, size_t len);

#endif /* SHMETRICS_TESTS_T_SEGDIR_H */
