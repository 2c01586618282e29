/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/main.c - shmtool's entry point: the command table, the
 * options before the command, dispatch, and the exit status (0 ok, 1 a
 * problem with the segment, 2 a usage error; see usage.c).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "shmtool.h"

static const struct tool_cmd cmds[] = {
    {"info", OPT_NS | OPT_JSON | OPT_ALL, cmd_info, usage_info},
    {"series", OPT_NS | OPT_JSON | OPT_SLOT, cmd_series, usage_series},
    {"check", OPT_NS | OPT_JSON | OPT_ATTACHED, cmd_check, usage_check},
    {"watch", OPT_NS | OPT_INTERVAL | OPT_COUNT, cmd_watch, usage_watch},
    {"create", OPT_NS | OPT_GEOMETRY | OPT_MODE, cmd_create, usage_create},
    {"rm", OPT_NS, cmd_rm, usage_rm},
};

static const struct tool_cmd *cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    return NULL;
}

static void unknown_command(const char *name)
{
    char esc[128];

    escape(esc, sizeof(esc), name, strlen(name));
    usage_error(NULL, "unknown command '%s'", esc);
}

/* A segment shrunk under our mapping turns reads into SIGBUS: say so
 * rather than dump core. Only async-signal-safe calls here. */
static void on_sigbus(int sig)
{
    static const char msg[] =
        "shmtool: bus error reading the segment (was it truncated while mapped?)\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

    (void)sig;
    (void)n;
    _exit(TOOL_PROBLEM);
}

static void install_sigbus(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

/* A full disk or a closed pipe must not look like success. */
static int finish_output(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            fprintf(stderr, "shmtool: write error on standard output: %s\n", strerror(errno));
        return rc == TOOL_OK ? TOOL_PROBLEM : rc;
    }
    return rc;
}

/* "shmtool help [COMMAND]" */
static int help_cmd(int argc, char **argv)
{
    const struct tool_cmd *cmd;

    if (argc == 0) {
        fputs(usage_tool, stdout);
        return finish_output(TOOL_OK);
    }
    cmd = cmd_find(argv[0]);
    if (cmd == NULL || argc > 1) {
        if (cmd == NULL)
            unknown_command(argv[0]);
        else
            usage_error(NULL, "help takes at most one command");
        return TOOL_USAGE;
    }
    fputs(cmd->usage, stdout);
    return finish_output(TOOL_OK);
}

static int run_cmd(const struct tool_cmd *cmd, int argc, char **argv, struct tool_args *a)
{
    int next, rc;

    switch (args_parse(cmd, argc, argv, a, &next)) {
    case ARGS_EXIT_OK:
        return finish_output(TOOL_OK);
    case ARGS_USAGE:
        return TOOL_USAGE;
    case ARGS_RUN:
        break;
    }
    rc = args_finish(cmd, a);
    if (rc != TOOL_OK)
        return rc;
    return finish_output(cmd->run(a));
}

int main(int argc, char **argv)
{
    const struct tool_cmd *cmd;
    struct tool_args a;
    int next;

    install_sigbus();
    args_defaults(&a);
    switch (args_parse(NULL, argc - 1, argv + 1, &a, &next)) {
    case ARGS_EXIT_OK:
        return finish_output(TOOL_OK);
    case ARGS_USAGE:
        return TOOL_USAGE;
    case ARGS_RUN:
        break;
    }
    next += 1;
    if (next >= argc) {
        usage_error(NULL, "no command given");
        return TOOL_USAGE;
    }
    if (strcmp(argv[next], "help") == 0)
        return help_cmd(argc - next - 1, argv + next + 1);
    cmd = cmd_find(argv[next]);
    if (cmd == NULL) {
        unknown_command(argv[next]);
        return TOOL_USAGE;
    }
    return run_cmd(cmd, argc - next - 1, argv + next + 1, &a);
}
