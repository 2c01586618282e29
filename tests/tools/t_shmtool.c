/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/t_shmtool.c - see t_shmtool.h. Output goes to temporary
 * files rather than pipes, so a chatty child can never block on a full
 * pipe while we wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_shmtool.h"

#define ARGS_MAX 64

const char *t_shmtool_path(void)
{
    static char path[4096];
    const char *dir = getenv("SHMETRICS_BIN_DIR");

    if (dir == NULL || dir[0] == '\0')
        return NULL;
    snprintf(path, sizeof(path), "%s/shmtool", dir);
    return access(path, X_OK) == 0 ? path : NULL;
}

static int temp_file(char *path, size_t len, const char *tag)
{
    const char *dir = getenv("TMPDIR");

    snprintf(path, len, "%s/t_shmtool_%s_XXXXXX", dir && dir[0] ? dir : "/tmp", tag);
    return mkstemp(path);
}

int t_tool_start(struct t_bg *bg, const char *const *args)
{
    const char *argv[ARGS_MAX + 2];
    const char *tool = t_shmtool_path();
    int fo, fe, n = 0;

    if (tool == NULL)
        return -ENOENT;
    argv[n++] = "shmtool";
    for (; args[n - 1] != NULL && n <= ARGS_MAX; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    fo = temp_file(bg->out_path, sizeof(bg->out_path), "out");
    fe = temp_file(bg->err_path, sizeof(bg->err_path), "err");
    if (fo < 0 || fe < 0)
        return -errno;
    fflush(NULL);
    bg->pid = fork();
    if (bg->pid == 0) {
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    close(fo);
    close(fe);
    return bg->pid < 0 ? -errno : 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        if (f)
            fclose(f);
        return calloc(1, 1);
    }
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n)
        buf[0] = '\0';
    fclose(f);
    return buf;
}

int t_tool_wait(struct t_bg *bg, int timeout_ms, struct t_out *o)
{
    struct timespec tick = {0, 5 * 1000 * 1000};
    int st = 0, waited = 0;
    pid_t r;

    while ((r = waitpid(bg->pid, &st, WNOHANG)) == 0 && waited < timeout_ms) {
        nanosleep(&tick, NULL);
        waited += 5;
    }
    if (r == 0) {
        kill(bg->pid, SIGKILL);
        waitpid(bg->pid, &st, 0);
        fprintf(stderr, "shmtool did not finish within %d ms; killed\n", timeout_ms);
    }
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    o->out = slurp(bg->out_path);
    o->err = slurp(bg->err_path);
    unlink(bg->out_path);
    unlink(bg->err_path);
    return o->status;
}

int t_toolv(struct t_out *o, const char *const *args)
{
    struct t_bg bg;

    memset(o, 0, sizeof(*o));
    if (t_tool_start(&bg, args) < 0) {
        o->status = -1;
        o->out = calloc(1, 1);
        o->err = calloc(1, 1);
        return -1;
    }
    return t_tool_wait(&bg, 60000, o);
}

int t_tool(struct t_out *o, ...)
{
    const char *args[ARGS_MAX + 1];
    va_list ap;
    int n = 0;

    va_start(ap, o);
    while (n < ARGS_MAX && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    return t_toolv(o, args);
}

void t_out_free(struct t_out *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

json_t *t_out_json(const struct t_out *o)
{
    json_error_t e;
    json_t *j = json_loads(o->out, 0, &e);

    if (j == NULL)
        fprintf(stderr, "shmtool output is not JSON (%s, line %d): %s\n", e.text, e.line, o->out);
    return j;
}

bool t_has(const char *hay, const char *needle)
{
    bool found = hay != NULL && strstr(hay, needle) != NULL;

    if (!found)
        fprintf(stderr, "expected \"%s\" in:\n%s\n", needle, hay ? hay : "(null)");
    return found;
}
