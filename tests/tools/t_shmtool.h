/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/t_shmtool.h - running the shmtool binary from the tests:
 * the binary is $SHMETRICS_BIN_DIR/shmtool (set by ctest); its exit
 * status, standard output and standard error are captured.
 */
#ifndef SHMETRICS_TESTS_T_SHMTOOL_H
#define SHMETRICS_TESTS_T_SHMTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct t_out {
    int status; /* exit code; 128 + signal if killed; -1 if it could not run */
    char *out;  /* standard output, NUL-terminated */
    char *err;  /* standard error, NUL-terminated */
};

/* The shmtool binary, or NULL when SHMETRICS_BIN_DIR does not name one
 * (a test main then exits 77: skipped). */
const char *t_shmtool_path(void);

/* Run shmtool with the NULL-terminated arguments, wait (at most 60 s),
 * capture everything into *o. Returns o->status. */
int t_tool(struct t_out *o, ...);
int t_toolv(struct t_out *o, const char *const *args);
void t_out_free(struct t_out *o);

/* Parse o->out as JSON; NULL (and a message on stderr) if it is not. */
json_t *t_out_json(const struct t_out *o);

/* Start shmtool in the background with stdout and stderr captured into
 * files; t_tool_wait() waits (at most timeout_ms) and fills *o. */
struct t_bg {
    pid_t pid;
    char out_path[256];
    char err_path[256];
};
int t_tool_start(struct t_bg *bg, const char *const *args);
int t_tool_wait(struct t_bg *bg, int timeout_ms, struct t_out *o);

/* True when hay contains needle (for CUnit asserts). */
bool t_has(const char *hay, const char *needle);

#endif /* SHMETRICS_TESTS_T_SHMTOOL_H */
