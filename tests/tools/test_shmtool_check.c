/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/test_shmtool_check.c - "shmtool check" (tools/shmtool/
 * check.c, check_slot.c, check_defs.c, seg.c) on segments built with
 * libshm exactly as the client builds them, then corrupted one way per
 * test by scribbling on a read-write mapping or on the file: each
 * corruption must give exit status 1 and its own message; a clean segment
 * exit status 0. Random scribbling must never crash any read-only command.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "t_shmtool.h"
#include "t_util.h"

#define SLOTS 4u
#define RING 64u
#define ARENA 4096u

struct fixture {
    char ns[64];
    char path[512];
    struct shmet__seg seg; /* read-write */
    uint32_t slot;
    uint32_t gen;
    struct shmet__ring_producer ring;
    uint64_t defines;
    uint64_t fam_off, ovf_off, get_off; /* arena offsets of the three entries */
};

static struct shmet_abi_slot *fx_slot(struct fixture *fx)
{
    return shmet__slot(&fx->seg, fx->slot);
}

static void fx_define(struct fixture *fx, uint32_t id, uint16_t kind, uint64_t off)
{
    union {
        double f;
        int64_t i;
    } v = {.i = (int64_t)off};

    CU_ASSERT_EQUAL(shmet__ring_push(&fx->ring, id, SHMET_OP_DEFINE, kind, v.f), 0);
    atomic_store_explicit(&fx_slot(fx)->defines, ++fx->defines, memory_order_relaxed);
}

static void fx_series(struct fixture *fx, uint32_t id, uint32_t family, const char *value,
                      uint64_t *off)
{
    const char *values[] = {value};

    CU_ASSERT_EQUAL_FATAL(shmet__arena_put_series(&fx->seg, fx->slot, id, family, values, 1, off),
                          0);
    fx_define(fx, id, SHMET_DEF_SERIES, *off);
}

/* What the client leaves: a slot claimed by this thread holding family 0
 * "t_ok_total{method}", its __overflow__ series 0 and series 1 "GET",
 * each published by a DEFINE record, then three samples of series 1:
 * head 6, tail 0. */
static void fx_make(struct fixture *fx, const char *tag)
{
    static const char *const labels[] = {"method"};
    static const double no_bounds[1] = {0};
    struct shmet__geometry g = {SLOTS, RING, ARENA};
    struct shmet__owner o = {.pid = getpid(), .tid = shmet__gettid()};
    struct shmet__family_def f = {.id = 0,
                                  .type = SHMET_TYPE_COUNTER,
                                  .overflow_series = 0,
                                  .name = "t_ok_total",
                                  .help = "OK.",
                                  .labels = labels,
                                  .nlabels = 1,
                                  .bounds = no_bounds,
                                  .nbounds = 0};

    memset(fx, 0, sizeof(*fx));
    t_ns(fx->ns, sizeof(fx->ns), tag);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(fx->ns, fx->path, sizeof(fx->path)), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__proc_start_time(o.pid, &o.start_time), 0);
    CU_ASSERT_EQUAL_FATAL(
        shmet__seg_open(fx->ns, &g, SHMET_SEG_CREATE | SHMET_SEG_EXCL, 0600, &fx->seg), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__slot_claim(&fx->seg, &o, 0, &fx->slot, &fx->gen), 0);
    shmet__ring_producer_init(&fx->ring, &fx->seg, fx->slot);
    CU_ASSERT_EQUAL_FATAL(shmet__arena_put_family(&fx->seg, fx->slot, &f, &fx->fam_off), 0);
    fx_define(fx, 0, SHMET_DEF_FAMILY, fx->fam_off);
    fx_series(fx, 0, 0, SHMET_OVERFLOW_VALUE, &fx->ovf_off);
    fx_series(fx, 1, 0, "GET", &fx->get_off);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(shmet__ring_push(&fx->ring, 1, SHMET_OP_COUNTER_ADD, 0, 1.0), 0);
}

static void fx_done(struct fixture *fx)
{
    shmet__seg_close(&fx->seg);
    t_ns_cleanup(fx->ns);
}

/* check exits with status and prints line (text mode). */
static void expect_check(const struct fixture *fx, int status, const char *line)
{
    struct t_out o;

    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", fx->ns, NULL), status);
    CU_ASSERT(t_has(o.out, line));
    CU_ASSERT_STRING_EQUAL(o.err, ""); /* a sanitizer report would land here */
    t_out_free(&o);
}

static void test_check_clean_segment(void)
{
    struct fixture fx;

    fx_make(&fx, "tool_ckclean");
    expect_check(&fx, 0, ": ok, no problems in the header and 4 slots");
    fx_done(&fx);
}

static void test_check_bad_state(void)
{
    struct fixture fx;
    struct t_out o;
    json_t *j, *p;

    fx_make(&fx, "tool_ckstate");
    atomic_store(&shmet__slot(&fx.seg, 2)->state, 9);
    expect_check(&fx, 1, "slot 2: state 9 is not a valid state\n");
    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", fx.ns, "--json", NULL), 1);
    j = t_out_json(&o);
    t_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT(json_is_false(json_object_get(j, "ok")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "problems")), 1);
    p = json_array_get(json_object_get(j, "problems"), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "slot")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "severity")), "error");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "what")),
                           "state 9 is not a valid state");
    json_decref(j);
    fx_done(&fx);
}

static void test_check_head_behind_tail(void)
{
    struct fixture fx;
    char want[128];

    fx_make(&fx, "tool_cktail");
    atomic_store(&fx_slot(&fx)->tail, 106);
    snprintf(want, sizeof(want), "slot %u: head 6 is behind tail 106\n", fx.slot);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_ring_over_capacity(void)
{
    struct fixture fx;
    char want[128];

    fx_make(&fx, "tool_ckcap");
    atomic_store(&fx_slot(&fx)->head, 1000);
    snprintf(want, sizeof(want),
             "slot %u: ring holds 1000 records, more than its capacity 64 (head 1000, tail 0)\n",
             fx.slot);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_arena_entry_bad_size(void)
{
    struct fixture fx;
    uint32_t size = 12; /* not a multiple of 8 */
    char want[160];

    fx_make(&fx, "tool_cksize");
    memcpy(shmet__slot_arena(&fx.seg, fx.slot) + fx.get_off, &size, sizeof(size));
    snprintf(want, sizeof(want),
             "slot %u: arena entry at offset %llu: entry size invalid (the rest of the arena "
             "cannot be read)\n",
             fx.slot, (unsigned long long)fx.get_off);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_arena_entry_malformed(void)
{
    struct fixture fx;
    uint16_t kind = 7;
    char want[160];

    fx_make(&fx, "tool_ckkind");
    memcpy(shmet__slot_arena(&fx.seg, fx.slot) + fx.get_off + 4, &kind, sizeof(kind));
    snprintf(want, sizeof(want),
             "slot %u: arena entry at offset %llu: malformed entry (kind 7 is neither family "
             "nor series)\n",
             fx.slot, (unsigned long long)fx.get_off);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_family_invalid_name(void)
{
    struct fixture fx;
    char want[160];
    /* header, fixed part, then u32 length and the name "t_ok_total" */
    size_t name_at = sizeof(struct shmet_abi_def) + sizeof(struct shmet_abi_def_family) + 4;

    fx_make(&fx, "tool_ckname");
    shmet__slot_arena(&fx.seg, fx.slot)[fx.fam_off + name_at] = '9';
    snprintf(want, sizeof(want),
             "slot %u: arena entry at offset %llu: family 0: \"9_ok_total\" is not a valid "
             "metric name\n",
             fx.slot, (unsigned long long)fx.fam_off);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_series_undefined_family(void)
{
    struct fixture fx;
    uint64_t off;
    char want[160];

    fx_make(&fx, "tool_ckfam");
    fx_series(&fx, 2, 42, "POST", &off);
    snprintf(want, sizeof(want),
             "slot %u: series 2 (offset %llu) references family 42, which is not defined\n",
             fx.slot, (unsigned long long)off);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_duplicate_series_id(void)
{
    struct fixture fx;
    uint64_t off;
    char want[160];

    fx_make(&fx, "tool_ckdup");
    fx_series(&fx, 1, 0, "PUT", &off);
    snprintf(want, sizeof(want), "slot %u: series id 1 defined twice (offsets %llu and %llu)\n",
             fx.slot, (unsigned long long)fx.get_off, (unsigned long long)off);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_generation_zero(void)
{
    struct fixture fx;
    char want[160];

    fx_make(&fx, "tool_ckgen");
    atomic_store(&fx_slot(&fx)->generation, 0);
    snprintf(want, sizeof(want),
             "slot %u: generation 0 on an active slot (0 means never claimed)\n", fx.slot);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_arena_used_beyond_arena(void)
{
    struct fixture fx;
    char want[160];

    fx_make(&fx, "tool_ckused");
    atomic_store(&fx_slot(&fx)->arena_used, ARENA + 8);
    snprintf(want, sizeof(want), "slot %u: arena_used 4104 is beyond the arena (4096 bytes)\n",
             fx.slot);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void test_check_bad_records(void)
{
    struct fixture fx;
    char want[160];

    fx_make(&fx, "tool_ckrec");
    CU_ASSERT_EQUAL(shmet__ring_push(&fx.ring, 1, 9, 0, 1.0), 0);                            /* 6 */
    CU_ASSERT_EQUAL(shmet__ring_push(&fx.ring, 77, SHMET_OP_COUNTER_ADD, 0, 1.0), 0);        /* 7 */
    CU_ASSERT_EQUAL(shmet__ring_push(&fx.ring, 1, SHMET_OP_DEFINE, SHMET_DEF_SERIES, 0), 0); /* 8 */
    snprintf(want, sizeof(want), "slot %u: record 6: op 9 is not a valid op\n", fx.slot);
    expect_check(&fx, 1, want);
    snprintf(want, sizeof(want), "slot %u: record 7: series 77 is not defined in the arena\n",
             fx.slot);
    expect_check(&fx, 1, want);
    snprintf(want, sizeof(want),
             "slot %u: record 8: DEFINE of series 1 points at offset 0, where no such "
             "definition starts\n",
             fx.slot);
    expect_check(&fx, 1, want);
    fx_done(&fx);
}

static void write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void test_check_bad_magic(void)
{
    static const uint8_t zeros[8192];
    char ns[64], path[512], want[700];
    struct t_out o;

    t_ns(ns, sizeof(ns), "tool_ckmagic");
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(ns, path, sizeof(path)), 0);
    write_file(path, zeros, sizeof(zeros));
    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", ns, NULL), 1);
    snprintf(want, sizeof(want),
             "header: not a shmetrics segment (bad magic): magic is 0x0000000000000000, "
             "expected 0x%016llx\n",
             (unsigned long long)SHMET_ABI_MAGIC);
    CU_ASSERT(t_has(o.out, want));
    CU_ASSERT(t_has(o.out, ": 1 error, 0 warnings\n"));
    t_out_free(&o);
    CU_ASSERT_EQUAL(t_tool(&o, "info", "--ns", ns, NULL), 1);
    snprintf(want, sizeof(want), "shmtool: %s: not a shmetrics segment (bad magic)", path);
    CU_ASSERT(t_has(o.err, want));
    t_out_free(&o);
    /* rm removes what is not a valid segment, too. */
    CU_ASSERT_EQUAL(t_tool(&o, "rm", "--ns", ns, NULL), 0);
    t_out_free(&o);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    t_ns_cleanup(ns);
}

static void test_check_truncated(void)
{
    static const uint8_t bytes[100] = {1, 2, 3};
    struct fixture fx;
    uint64_t size;
    char want[200];

    fx_make(&fx, "tool_cktrunc");
    size = fx.seg.size;
    CU_ASSERT_EQUAL_FATAL(truncate(fx.path, (off_t)(size / 2)), 0);
    snprintf(want, sizeof(want),
             "header: segment is truncated (smaller than its header says): the file is %llu "
             "bytes, the header says %llu\n",
             (unsigned long long)(size / 2), (unsigned long long)size);
    expect_check(&fx, 1, want);
    write_file(fx.path, bytes, sizeof(bytes));
    expect_check(&fx, 1,
                 "header: segment is truncated (smaller than its header says): the file "
                 "is 100 bytes, less than the 256-byte header\n");
    fx_done(&fx);
}

static void test_check_abi_major(void)
{
    struct fixture fx;

    fx_make(&fx, "tool_ckabi");
    fx.seg.hdr->abi_major = 2;
    fx.seg.hdr->abi_minor = 0;
    expect_check(&fx, 1,
                 "header: segment has an unsupported ABI major version: ABI 2.0, this "
                 "shmtool reads 1.x\n");
    fx_done(&fx);
}

/* A FIFO in the segment's place must be refused, not opened (which
 * would block forever waiting for a writer). */
static void test_fifo_is_refused_without_blocking(void)
{
    const char *args[] = {"check", "--ns", NULL, NULL};
    char ns[64], path[512];
    struct t_bg bg;
    struct t_out o;

    t_ns(ns, sizeof(ns), "tool_ckfifo");
    args[2] = ns;
    CU_ASSERT_EQUAL_FATAL(shmet__seg_path(ns, path, sizeof(path)), 0);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(t_tool_start(&bg, args), 0);
    CU_ASSERT_EQUAL(t_tool_wait(&bg, 5000, &o), 1);
    CU_ASSERT(t_has(o.err, "is a FIFO, not a segment"));
    t_out_free(&o);
    unlink(path);
}

/* Random bytes over the slot table and the slot data (the header stays
 * valid, so the tools attach and must survive the rest). */
static void scribble(struct fixture *fx, unsigned seed)
{
    uint8_t *p = fx->seg.base + sizeof(struct shmet_abi_header);
    size_t n = (size_t)(fx->seg.size - sizeof(struct shmet_abi_header));

    srand(seed);
    for (size_t i = 0; i < n / 16; i++)
        p[(size_t)rand() % n] = (uint8_t)rand();
    /* Some slots get small, plausible states and sizes, to go deeper. */
    for (uint32_t i = 0; i < SLOTS; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&fx->seg, i);
        if (rand() % 2) {
            atomic_store(&sl->state, (uint32_t)(rand() % 5));
            atomic_store(&sl->arena_used, (uint64_t)(rand() % (ARENA + 64)));
            atomic_store(&sl->tail, (uint64_t)(rand() % 100));
            atomic_store(&sl->head, (uint64_t)(rand() % 100));
        }
    }
}

/* check --attached: an error exactly while no shmetricsd drains the
 * segment (no mark, or a stale heartbeat); plain check only warns. */
static void expect_attached(const struct fixture *fx, int status)
{
    struct t_out o;

    CU_ASSERT_EQUAL(t_tool(&o, "check", "--ns", fx->ns, "--attached", NULL), status);
    CU_ASSERT_EQUAL(strstr(o.out, "header: no shmetricsd is draining this segment") != NULL,
                    status == 1);
    CU_ASSERT_EQUAL(strstr(o.out, "mount the same /dev/shm in both") != NULL, status == 1);
    CU_ASSERT_STRING_EQUAL(o.err, "");
    t_out_free(&o);
}

static void test_check_attached(void)
{
    struct fixture fx;
    struct shmet_abi_header *h;

    fx_make(&fx, "tool_ckatt");
    h = fx.seg.hdr;
    expect_check(&fx, 0, ": ok, no problems in the header and 4 slots");
    expect_attached(&fx, 1);
    /* What a running shmetricsd writes: its pid and a fresh heartbeat. */
    atomic_store_explicit(&h->aggregator_pid, getpid(), memory_order_relaxed);
    atomic_store_explicit(&h->heartbeat_ns, shmet__now_ns(), memory_order_relaxed);
    expect_attached(&fx, 0);
    /* It stopped ticking: taken for gone. */
    atomic_store_explicit(&h->heartbeat_ns, shmet__now_ns() - 2 * SHMET_HEARTBEAT_STALE_NS,
                          memory_order_relaxed);
    expect_attached(&fx, 1);
    fx_done(&fx);
}

static void test_never_crash_on_scribbled_segment(void)
{
    static const char *const cmds[][4] = {
        {"check"},  {"check", "--json"},  {"info", "--all"},        {"info", "--json"},
        {"series"}, {"series", "--json"}, {"watch", "--count", "1"}};

    const char *env = getenv("T_SCRIBBLE_SEEDS");
    unsigned seeds = env ? (unsigned)strtoul(env, NULL, 10) : 12;

    for (unsigned seed = 1; seed <= seeds; seed++) {
        struct fixture fx;
        fx_make(&fx, "tool_ckrand");
        scribble(&fx, seed);
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
            const char *args[] = {cmds[i][0], "--ns",     fx.ns, cmds[i][1],
                                  cmds[i][2], cmds[i][3], NULL};
            struct t_out o;
            int st = t_toolv(&o, args);
            if (st != 0 && st != 1)
                fprintf(stderr, "seed %u, %s: exit %d\n%s", seed, cmds[i][0], st, o.err);
            CU_ASSERT(st == 0 || st == 1);
            CU_ASSERT_STRING_EQUAL(o.err, ""); /* no crash, no sanitizer report */
            if (strcmp(cmds[i][0], "check") != 0)
                CU_ASSERT_EQUAL(st, 0);
            t_out_free(&o);
        }
        fx_done(&fx);
    }
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_check_clean_segment", test_check_clean_segment},
        {"test_check_bad_state", test_check_bad_state},
        {"test_check_head_behind_tail", test_check_head_behind_tail},
        {"test_check_ring_over_capacity", test_check_ring_over_capacity},
        {"test_check_arena_entry_bad_size", test_check_arena_entry_bad_size},
        {"test_check_arena_entry_malformed", test_check_arena_entry_malformed},
        {"test_check_family_invalid_name", test_check_family_invalid_name},
        {"test_check_series_undefined_family", test_check_series_undefined_family},
        {"test_check_duplicate_series_id", test_check_duplicate_series_id},
        {"test_check_generation_zero", test_check_generation_zero},
        {"test_check_arena_used_beyond_arena", test_check_arena_used_beyond_arena},
        {"test_check_bad_records", test_check_bad_records},
        {"test_check_bad_magic", test_check_bad_magic},
        {"test_check_truncated", test_check_truncated},
        {"test_check_abi_major", test_check_abi_major},
        {"test_fifo_is_refused_without_blocking", test_fifo_is_refused_without_blocking},
        {"test_check_attached", test_check_attached},
        {"test_never_crash_on_scribbled_segment", test_never_crash_on_scribbled_segment},
    };

    if (t_shmtool_path() == NULL) {
        fprintf(stderr, "SHMETRICS_BIN_DIR does not hold shmtool; skipped\n");
        return 77;
    }
    return T_RUN("shmtool_check", tests);
}
