/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/test_shmtool_admin.c - shmtool's command line and the
 * commands that change things (tools/shmtool/main.c, args.c, usage.c,
 * admin.c): create and rm round trips with exact geometry and mode, exit
 * status 1 for an existing or missing segment, exit status 2 with a named
 * cause for every kind of usage error, help and version.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "t_shmtool.h"
#include "t_util.h"

static void seg_path(const char *ns, char *buf, size_t len)
{
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(ns, buf, len), 0);
}

static void test_create_rm_roundtrip(void)
{
    char ns[64], path[512];
    struct shmet__seg seg;
    struct t_out o;
    struct stat st;
    struct shmet__geometry g = {4, 64, 4096};
    uint64_t data_offset;

    t_ns(ns, sizeof(ns), "tool_admin");
    seg_path(ns, path, sizeof(path));
    CU_ASSERT_EQUAL(t_tool(&o, "create", "--ns", ns, "--slots", "4", "--ring-records", "64",
                           "--arena-bytes", "4096", "--mode", "0600", NULL),
                    0);
    CU_ASSERT(t_has(o.out, "created"));
    CU_ASSERT(t_has(o.out, path));
    t_out_free(&o);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    CU_ASSERT_EQUAL((uint64_t)st.st_size, shmet__geometry_size(&g, &data_offset));
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    CU_ASSERT_EQUAL(seg.slots, 4);
    CU_ASSERT_EQUAL(seg.ring_records, 64);
    CU_ASSERT_EQUAL(seg.arena_bytes, 4096);
    shmet__seg_close(&seg);

    /* A second create fails and names the path; the segment is kept. */
    CU_ASSERT_EQUAL(t_tool(&o, "create", "--ns", ns, NULL), 1);
    CU_ASSERT(t_has(o.err, path));
    CU_ASSERT(t_has(o.err, "already exists"));
    t_out_free(&o);
    CU_ASSERT_EQUAL(stat(path, &st), 0);

    CU_ASSERT_EQUAL(t_tool(&o, "rm", "--ns", ns, NULL), 0);
    t_out_free(&o);
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(t_tool(&o, "rm", "--ns", ns, NULL), 1);
    CU_ASSERT(t_has(o.err, path));
    CU_ASSERT(t_has(o.err, "no such segment"));
    t_out_free(&o);
    t_ns_cleanup(ns);
}

static void test_create_defaults_and_env_ns(void)
{
    char ns[64], path[512];
    struct shmet__seg seg;
    struct t_out o;
    struct stat st;

    t_ns(ns, sizeof(ns), "tool_admindef");
    seg_path(ns, path, sizeof(path));
    /* No --ns: the namespace comes from SHMETRICS_NS. */
    setenv("SHMETRICS_NS", ns, 1);
    CU_ASSERT_EQUAL(t_tool(&o, "create", NULL), 0);
    unsetenv("SHMETRICS_NS");
    t_out_free(&o);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, SHMET_MODE_DEFAULT);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    CU_ASSERT_EQUAL(seg.slots, SHMET_DEFAULT_SLOTS);
    CU_ASSERT_EQUAL(seg.ring_records, SHMET_DEFAULT_RING_RECORDS);
    CU_ASSERT_EQUAL(seg.arena_bytes, SHMET_DEFAULT_ARENA_BYTES);
    shmet__seg_close(&seg);
    /* Options may also come before the command. */
    CU_ASSERT_EQUAL(t_tool(&o, "--ns", ns, "rm", NULL), 0);
    t_out_free(&o);
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
    t_ns_cleanup(ns);
}

struct usage_case {
    const char *args[8];
    const char *message; /* expected on stderr */
};

static const struct usage_case usage_cases[] = {
    {{NULL}, "no command given"},
    {{"frobnicate", NULL}, "unknown command 'frobnicate'"},
    {{"info", "--bogus", NULL}, "unknown option '--bogus'"},
    {{"info", "-x", NULL}, "unknown option '-x'"},
    {{"info", "--slot", "1", NULL}, "unknown option '--slot'"},
    {{"watch", "--json", NULL}, "unknown option '--json'"},
    {{"info", "extra", NULL}, "unexpected argument 'extra'"},
    {{"info", "--json=yes", NULL}, "option '--json' takes no value"},
    {{"series", "--slot", NULL}, "option '--slot' needs a value"},
    {{"series", "--slot", "-1", NULL}, "slot must be a number between 0 and 4095"},
    {{"series", "--slot", "3x", NULL}, "slot must be a number between 0 and 4095"},
    {{"create", "--slots", "0", NULL}, "slots must be a number between 1 and 4096"},
    {{"create", "--slots", "4097", NULL}, "slots must be a number between 1 and 4096"},
    {{"create", "--slots", " 4", NULL}, "slots must be a number between 1 and 4096"},
    {{"create", "--slots", "99999999999999999999", NULL}, "slots must be a number"},
    {{"create", "--ring-records", "100", NULL},
     "ring-records must be a power of two between 64 and 16777216"},
    {{"create", "--ring-records", "32", NULL},
     "ring-records must be a power of two between 64 and 16777216"},
    {{"create", "--arena-bytes", "4100", NULL},
     "arena-bytes must be a multiple of 64 between 4096 and 67108864"},
    {{"create", "--mode", "0999", NULL}, "mode must be octal read/write bits including 0600"},
    {{"create", "--mode", "01777", NULL}, "no execute bits, nothing beyond 0777"},
    {{"create", "--mode", "0755", NULL}, "no execute bits, nothing beyond 0777"},
    {{"create", "--mode", "0066", NULL}, "mode must be octal read/write bits including 0600"},
    {{"create", "--group", "no-such-group-here", NULL},
     "--group 'no-such-group-here': no such group"},
    {{"create", "--slots", "4096", "--ring-records", "16777216", "--arena-bytes", "67108864"},
     "more than the 64 GiB limit"},
    {{"watch", "--interval", "0", NULL}, "interval must be a number of seconds"},
    {{"watch", "--interval", "1e3", NULL}, "interval must be a number of seconds"},
    {{"watch", "--interval", "-1", NULL}, "interval must be a number of seconds"},
    {{"watch", "--count", "0", NULL}, "count must be a number between 1 and 4294967295"},
    {{"--ns", "bad/name", "info", NULL}, "invalid namespace \"bad/name\""},
    {{"info", "--ns", "", NULL}, "invalid namespace \"\""},
    {{"help", "nope", NULL}, "unknown command 'nope'"},
};

static void test_usage_errors_exit_2(void)
{
    for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
        const struct usage_case *c = &usage_cases[i];
        struct t_out o;
        int st = t_toolv(&o, c->args);

        if (st != 2)
            fprintf(stderr, "case %zu (%s): exit %d\n", i, c->message, st);
        CU_ASSERT_EQUAL(st, 2);
        CU_ASSERT(t_has(o.err, c->message));
        CU_ASSERT(t_has(o.err, "--help' for more information"));
        CU_ASSERT_STRING_EQUAL(o.out, "");
        t_out_free(&o);
    }
}

static void test_missing_segment_exit_1(void)
{
    static const char *const cmds[][3] = {
        {"info"}, {"series"}, {"check"}, {"watch", "--count", "1"}};
    char ns[64], path[512], want[600];

    t_ns(ns, sizeof(ns), "tool_missing");
    seg_path(ns, path, sizeof(path));
    snprintf(want, sizeof(want), "shmtool: %s: no such segment", path);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        const char *args[] = {cmds[i][0], "--ns", ns, cmds[i][1], cmds[i][2], NULL};
        struct t_out o;
        CU_ASSERT_EQUAL(t_toolv(&o, args), 1);
        CU_ASSERT(t_has(o.err, want));
        t_out_free(&o);
    }
}

static void test_help_and_version(void)
{
    static const char *const cmds[] = {"info", "series", "check", "watch", "create", "rm"};
    struct t_out o, h;
    char want[64];

    CU_ASSERT_EQUAL(t_tool(&o, "--help", NULL), 0);
    CU_ASSERT(t_has(o.out, "Usage: shmtool [--ns NAME] COMMAND [OPTIONS]"));
    CU_ASSERT(t_has(o.out, "Exit status:"));
    CU_ASSERT(t_has(o.out, "Examples:"));
    t_out_free(&o);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        snprintf(want, sizeof(want), "Usage: shmtool %s ", cmds[i]);
        CU_ASSERT_EQUAL(t_tool(&o, cmds[i], "--help", NULL), 0);
        CU_ASSERT(t_has(o.out, want) || t_has(o.out, "Usage: shmtool rm [--ns NAME]"));
        CU_ASSERT(t_has(o.out, "Exit status"));
        CU_ASSERT(t_has(o.out, "--ns NAME"));
        CU_ASSERT_EQUAL(t_tool(&h, "help", cmds[i], NULL), 0);
        CU_ASSERT_STRING_EQUAL(o.out, h.out);
        t_out_free(&o);
        t_out_free(&h);
    }
    CU_ASSERT_EQUAL(t_tool(&o, "--version", NULL), 0);
    CU_ASSERT(t_has(o.out, SHMET_VERSION));
    char abi[32];
    snprintf(abi, sizeof(abi), "ABI %u.%u", SHMET_ABI_MAJOR, SHMET_ABI_MINOR);
    CU_ASSERT(t_has(o.out, abi));
    t_out_free(&o);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_create_rm_roundtrip", test_create_rm_roundtrip},
        {"test_create_defaults_and_env_ns", test_create_defaults_and_env_ns},
        {"test_usage_errors_exit_2", test_usage_errors_exit_2},
        {"test_missing_segment_exit_1", test_missing_segment_exit_1},
        {"test_help_and_version", test_help_and_version},
    };

    if (t_shmtool_path() == NULL) {
        fprintf(stderr, "SHMETRICS_BIN_DIR does not hold shmtool; skipped\n");
        return 77;
    }
    return T_RUN("shmtool_admin", tests);
}
