/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_fault_aggregator.c - the aggregator dies, the
 * producers do not. Real shmetricsd processes and forked workers (served
 * workers of t_fleet.h) on one namespace:
 *
 * - SIGKILL, then restart: the new aggregator counts exactly what the
 *   rings held (records written while it was away, cut where a ring was
 *   full) and reports exactly the records a full ring dropped, per slot
 *   and in total; what the killed one had consumed is not counted again,
 *   and neither is a checkpoint left by an earlier graceful stop. Slots of
 *   workers that died meanwhile are drained and freed; live ones go on.
 * - SIGKILL mid-drain, twenty times, workers recording flat out: every
 *   answer of every instance counts exactly the records it consumed (ring
 *   tail), from exactly where the previous instance stopped; the
 *   workers' own counts are accounted for exactly at the end.
 * - SIGTERM, then restart: counters, histograms and the gauges of live
 *   producers continue; with workers recording across the restart (half
 *   of it while no aggregator runs, half after the next one started), the
 *   totals are exact and no scrape ever goes back.
 * - A failed start (listen address taken) loses neither the checkpoint
 *   nor the records it drained.
 * - Producers first: workers create the segment and record before any
 *   aggregator exists; the first one counts it all and frees the dead.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "t_fleet.h"
#include "t_util.h"

#define NSLOTS 8
#define NSLOTS_S "8"

/* ACQUIRE: the test only observes the segment; pairs with the releases of
 * the slot state, head and tail (tag-ring-publish in abi.h). */
#define LOAD(p) atomic_load_explicit((p), memory_order_acquire)

/* ---- aggregators ---------------------------------------------------------- */

static int agg_start(struct t_daemon *d, const char *ns, const char *ring)
{
    const char *extra[] = {"--slots", NSLOTS_S, "--ring-records", ring, NULL};

    return t_start(d, ns, extra);
}

/* SIGTERM: true when it stopped gracefully (exit 0, checkpoint written). */
static bool agg_sigterm(struct t_daemon *d)
{
    int st = t_stop(d);

    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool agg_sigkill(struct t_daemon *d)
{
    int st = -1;

    if (kill(d->pid, SIGKILL) != 0 || waitpid(d->pid, &st, 0) != d->pid)
        st = -1;
    d->pid = 0;
    t_stop(d); /* closes the pipes */
    return st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/* Poll until ns has n free slots; the count last seen. */
static int wait_free_slots(const char *ns, int n)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    int got;

    while ((got = t_free_slots(ns)) != n && t_now_ms() < end)
        usleep(10 * 1000);
    return got;
}

static double jnum(json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);

    return json_is_number(v) ? json_number_value(v) : -1;
}

/* The /debug producer entry of slot idx, or NULL. */
static json_t *producer(json_t *root, int idx)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(root, "producers"), i, p)
    {
        if (jnum(p, "slot") == idx)
            return p;
    }
    return NULL;
}

static double slot_metric(const struct t_samples *ss, const char *name, int idx)
{
    char key[128];

    snprintf(key, sizeof(key), "%s{slot=\"%d\"}", name, idx);
    return t_samples_get(ss, key);
}

/* Scrape and compare every worker with its expectation; mismatches. */
static int scrape_diff(int port, const struct t_expect *e, int n)
{
    struct t_samples ss;
    int bad = 0;

    if (t_scrape(port, &ss) != 0)
        return -1;
    for (int w = 0; w < n; w++)
        bad += t_expect_diff(&ss, w, &e[w]);
    t_samples_free(&ss);
    return bad;
}

/* A worker that left: its gauge no longer counts. */
static void gone(struct t_expect *e)
{
    e->has_level = false;
}

/* Workers w2 and w3, alive across the restart, record n iterations more
 * into their slots and are counted exactly; then they exit, and every
 * slot ends free. */
static void live_go_on(const struct t_daemon *d, struct t_fleet *fl, struct t_expect *e,
                       uint32_t n)
{
    for (int w = 2; w < 4; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(fl, w, T_OP_RECORD, n), 0);
        t_expect_records(&e[w], w, fl->wk[w].iter - n, 3ull * n);
    }
    CU_ASSERT_EQUAL(scrape_diff(d->port, e, fl->o.places), 0);
    for (int w = 2; w < 4; w++)
        CU_ASSERT(t_fleet_reap(fl, w, 0));
    CU_ASSERT_EQUAL(wait_free_slots(fl->ns, NSLOTS), NSLOTS);
}

static uint64_t ring_records(uint64_t n, uint64_t capacity)
{
    return n < capacity ? n : capacity;
}

/* ---- SIGKILL and restart -------------------------------------------------- */

#define K_RING 1024
#define K_WORKERS 4

/* Phase 2 (no aggregator), in iterations of 3 records: w0 and w3 fit in
 * their ring; w1 and w2 write far more than it holds. */
static const uint32_t k_phase2[K_WORKERS] = {100, 1000, 2000, 50};

/* Phases 0 and 1: the first aggregator stops gracefully (a checkpoint),
 * the second continues from it. Leaves the second running, rings empty. */
static void k_before(struct t_daemon *d, struct t_fleet *fl, struct t_expect *e)
{
    CU_ASSERT_EQUAL_FATAL(agg_start(d, fl->ns, "1024"), 0);
    for (int w = 0; w < K_WORKERS; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_serve(fl, w), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(fl, w, T_OP_RECORD, 10), 0);
        t_expect_records(&e[w], w, 0, 30);
    }
    CU_ASSERT_EQUAL(scrape_diff(d->port, e, K_WORKERS), 0);
    CU_ASSERT_FATAL(agg_sigterm(d));
    CU_ASSERT_EQUAL_FATAL(agg_start(d, fl->ns, "1024"), 0);
    for (int w = 0; w < K_WORKERS; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(fl, w, T_OP_RECORD, 20), 0);
        t_expect_records(&e[w], w, 10, 60);
    }
    CU_ASSERT_EQUAL(scrape_diff(d->port, e, K_WORKERS), 0); /* drained: the rings are empty */
}

/* The third aggregator's view of slots and drops; the workers in slot[]. */
static void k_check_drops(int port, const int *slot, const uint64_t *fit, const uint64_t *drop)
{
    struct t_samples ss;
    json_t *root = t_debug(port), *agg;
    uint64_t fits = 0, drops = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(t_scrape(port, &ss), 0);
    for (int w = 0; w < K_WORKERS; w++) {
        CU_ASSERT_EQUAL(slot_metric(&ss, "shmetrics_samples_total", slot[w]), fit[w]);
        CU_ASSERT_EQUAL(slot_metric(&ss, "shmetrics_dropped_total", slot[w]), drop[w]);
        fits += fit[w];
        drops += drop[w];
    }
    CU_ASSERT_EQUAL(t_samples_get(&ss, "shmetrics_slots_freed_total"), 2); /* w0, w1 */
    CU_ASSERT_EQUAL(t_samples_get(&ss, "shmetrics_producers"), 2);
    agg = json_object_get(root, "aggregator");
    CU_ASSERT_EQUAL(jnum(agg, "samples_total"), fits);
    CU_ASSERT_EQUAL(jnum(agg, "dropped_total"), drops);
    CU_ASSERT_EQUAL(jnum(agg, "invalid_records_total"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "producers")), 2);
    CU_ASSERT_PTR_NULL(producer(root, slot[1])); /* freed */
    CU_ASSERT_EQUAL(jnum(producer(root, slot[2]), "dropped_total"), drop[2]);
    CU_ASSERT_EQUAL(jnum(producer(root, slot[2]), "ring_used"), 0);
    printf("(written %llu records while away, %llu counted, %llu dropped) ",
           (unsigned long long)(fits + drops), (unsigned long long)fits, (unsigned long long)drops);
    t_samples_free(&ss);
    json_decref(root);
}

static void test_fault_agg_sigkill_restart_exact(void)
{
    const struct t_fleet_opts fo = {.places = K_WORKERS, .slots = NSLOTS, .ring = K_RING};
    struct t_daemon d;
    struct t_fleet fl;
    struct t_expect e[K_WORKERS];
    struct shmet__seg seg;
    uint64_t first[K_WORKERS], fit[K_WORKERS], drop[K_WORKERS];
    int slot[K_WORKERS];
    char ns[64];

    memset(e, 0, sizeof(e));
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&fl, t_ns(ns, sizeof(ns), "fakill"), &fo), 0);
    k_before(&d, &fl, e);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    for (int w = 0; w < K_WORKERS; w++) {
        struct shmet_abi_slot *sl;
        CU_ASSERT_FATAL((slot[w] = t_slot_of(&seg, fl.wk[w].pid)) >= 0);
        sl = shmet__slot(&seg, (uint32_t)slot[w]);
        CU_ASSERT_EQUAL(LOAD(&sl->head), LOAD(&sl->tail));
    }
    CU_ASSERT_FATAL(agg_sigkill(&d));

    /* Phase 2, no aggregator: a ring drained empty takes K_RING records. */
    for (int w = 0; w < K_WORKERS; w++) {
        struct shmet_abi_slot *sl = shmet__slot(&seg, (uint32_t)slot[w]);
        first[w] = fl.wk[w].iter;
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_RECORD, k_phase2[w]), 0);
        fit[w] = ring_records(3ull * k_phase2[w], K_RING);
        drop[w] = 3ull * k_phase2[w] - fit[w];
        CU_ASSERT_EQUAL(LOAD(&sl->head) - LOAD(&sl->tail), fit[w]);
        CU_ASSERT_EQUAL(LOAD(&sl->dropped), drop[w]);
    }
    CU_ASSERT(t_fleet_reap(&fl, 0, 0));
    CU_ASSERT(t_fleet_reap(&fl, 1, SIGKILL));

    /* The third aggregator starts from nothing (no checkpoint after a
     * SIGKILL): it holds exactly what the rings held. */
    memset(e, 0, sizeof(e));
    for (int w = 0; w < K_WORKERS; w++)
        t_expect_records(&e[w], w, first[w], fit[w]);
    gone(&e[0]);
    gone(&e[1]);
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    CU_ASSERT_EQUAL(wait_free_slots(ns, NSLOTS - 2), NSLOTS - 2);
    CU_ASSERT_EQUAL(scrape_diff(d.port, e, K_WORKERS), 0);
    k_check_drops(d.port, slot, fit, drop);

    live_go_on(&d, &fl, e, 30);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_slots_freed_total"), 4);
    CU_ASSERT(agg_sigterm(&d));
    shmet__seg_close(&seg);
    t_fleet_close(&fl);
    t_ns_cleanup(ns);
}

/* ---- SIGKILL mid-drain, many times ---------------------------------------- */

/*
 * What a SIGKILL may lose, exactly: the drain copies a batch out of the
 * ring and releases it (stores tail), then applies it to the store in
 * memory; /metrics and /debug drain first and answer after. A killed
 * aggregator takes with it what it consumed after its last answer: those
 * records were consumed (tail moved past them) but nobody will ever see
 * them counted. That window is the whole loss, and nothing is counted
 * twice: the next aggregator starts at the tail the killed one stored,
 * and every answer it gives counts exactly the records between that tail
 * and its current one. The test checks both in every answer (the /debug
 * document carries each slot's ring_tail with the values, from one
 * drain), measures the window of every kill from the tails in the
 * segment, and at the end accounts for every record each worker wrote:
 *   written == dropped (ring full) + counted in answers + lost in kills.
 * The drain timer runs at its default (1 ms), so kills land inside timer
 * drains as well as inside the drain of the /debug request in flight;
 * the kill delays (0-400 us after the request) make some kills land
 * before the answer and some after.
 */
#define C_CYCLES 20
#define C_WORKERS 3

/* w0 records flat out (its ring overflows whenever the aggregator is
 * down or behind); w1 and w2 pause now and then, so that most of what
 * they write is counted rather than dropped. */
static const uint32_t c_pause_us[C_WORKERS] = {0, 20, 200};

struct answer {
    double v[C_WORKERS]; /* counter + histogram count: samples counted */
    uint64_t tail[C_WORKERS];
};

static double series_value(json_t *root, const char *fam, int w, const char *field)
{
    char name[16];
    const char *kv[] = {"worker", name, NULL};
    json_t *s;

    snprintf(name, sizeof(name), "w%d", w);
    s = t_debug_series(root, fam, kv);
    return s == NULL ? 0 : jnum(s, field); /* not seen yet by this instance */
}

static int answer_parse(const char *body, size_t len, const int *slot, struct answer *a)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    int rc = root != NULL ? 0 : -1;

    for (int w = 0; rc == 0 && w < C_WORKERS; w++) {
        json_t *p = producer(root, slot[w]);
        a->v[w] = series_value(root, "fa_records_total", w, "value") +
                  series_value(root, "fa_latency_seconds", w, "count");
        a->tail[w] = (uint64_t)jnum(p, "ring_tail");
        if (p == NULL)
            rc = -1;
    }
    json_decref(root);
    return rc;
}

static int answer_get(int port, const int *slot, struct answer *a)
{
    struct t_http c;
    struct t_resp r;
    int rc = -1;

    if (t_http_open(&c, port, 0) != 0)
        return -1;
    if (t_get(&c, "/debug", &r) == 0) {
        rc = answer_parse(r.body, r.body_len, slot, a);
        t_resp_free(&r);
    }
    t_http_close(&c);
    return rc;
}

/* Ask for /debug and SIGKILL the aggregator delay_us later. True when its
 * answer arrived whole before it died; *a then holds it. */
static bool kill_during_answer(struct t_daemon *d, unsigned delay_us, const int *slot,
                               struct answer *a)
{
    const char *req = "GET /debug HTTP/1.1\r\nHost: t\r\n\r\n";
    struct t_http c;
    struct t_resp r;
    bool whole = false;

    CU_ASSERT_EQUAL_FATAL(t_http_open(&c, d->port, 0), 0);
    CU_ASSERT_EQUAL(t_http_send(&c, req, strlen(req)), 0);
    if (delay_us > 0)
        usleep(delay_us);
    CU_ASSERT_FATAL(agg_sigkill(d));
    if (t_http_read(&c, &r, false) == 0 && r.status == 200)
        whole = answer_parse(r.body, r.body_len, slot, a) == 0;
    t_resp_free(&r);
    t_http_close(&c);
    return whole;
}

/* Every answer counts exactly the records consumed since base. */
static int answer_diff(const struct answer *a, const struct answer *base)
{
    int bad = 0;

    for (int w = 0; w < C_WORKERS; w++) {
        double counted = a->v[w] - base->v[w];
        uint64_t consumed = a->tail[w] - base->tail[w];
        if (counted != (double)consumed) {
            fprintf(stderr, "w%d: counted %.17g, consumed %llu\n", w, counted,
                    (unsigned long long)consumed);
            bad++;
        }
    }
    return bad;
}

struct ledger {
    uint64_t counted[C_WORKERS], lost[C_WORKERS];
    int whole_kills;
};

/* One instance's life: a few answers, then a SIGKILL during one more. */
static void c_cycle(struct t_daemon *d, const struct shmet__seg *seg, const int *slot,
                    struct answer *base, struct ledger *lg, int cycle)
{
    struct answer a, last = *base;

    for (int r = 0; r < 2; r++) {
        CU_ASSERT_EQUAL_FATAL(answer_get(d->port, slot, &a), 0);
        CU_ASSERT_EQUAL(answer_diff(&a, base), 0);
        last = a;
    }
    if (kill_during_answer(d, (unsigned)(cycle * 37) % 400, slot, &a)) {
        CU_ASSERT_EQUAL(answer_diff(&a, base), 0);
        last = a;
        lg->whole_kills++;
    }
    for (int w = 0; w < C_WORKERS; w++) {
        uint64_t tail = LOAD(&shmet__slot(seg, (uint32_t)slot[w])->tail);
        CU_ASSERT(tail >= last.tail[w]);
        lg->counted[w] += (uint64_t)(last.v[w] - base->v[w]);
        lg->lost[w] += tail - last.tail[w];
        /* The next instance starts from nothing, at this tail. */
        base->v[w] = 0;
        base->tail[w] = tail;
    }
}

/* Workers stopped: the last instance drains everything, then accounts. */
static void c_final(struct t_daemon *d, const struct shmet__seg *seg, const int *slot,
                    const struct answer *base, struct ledger *lg, const struct t_fleet *fl)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS, written = 0, dropped = 0, counted = 0, lost = 0;
    struct answer a;
    json_t *root;
    bool drained = false;

    while (!drained && t_now_ms() < end) {
        CU_ASSERT_EQUAL_FATAL(answer_get(d->port, slot, &a), 0);
        drained = true;
        for (int w = 0; w < C_WORKERS; w++)
            drained &= a.tail[w] == LOAD(&shmet__slot(seg, (uint32_t)slot[w])->head);
    }
    CU_ASSERT_FATAL(drained);
    CU_ASSERT_EQUAL(answer_diff(&a, base), 0);
    root = t_debug(d->port);
    for (int w = 0; w < C_WORKERS; w++) {
        /* Two records a flat-out iteration, counted before it answered. */
        uint64_t wr = 2 * t_fleet_progress(fl, w);
        uint64_t dr = LOAD(&shmet__slot(seg, (uint32_t)slot[w])->dropped);
        lg->counted[w] += (uint64_t)(a.v[w] - base->v[w]);
        CU_ASSERT_EQUAL(wr, dr + lg->counted[w] + lg->lost[w]);
        CU_ASSERT_EQUAL(jnum(producer(root, slot[w]), "dropped_total"), dr);
        written += wr;
        dropped += dr;
        counted += lg->counted[w];
        lost += lg->lost[w];
    }
    CU_ASSERT_EQUAL(jnum(json_object_get(root, "aggregator"), "dropped_total"), dropped);
    printf("(%d kills, %d after a whole answer; written %llu, counted %llu, lost in kills %llu, "
           "dropped %llu) ",
           C_CYCLES, lg->whole_kills, (unsigned long long)written, (unsigned long long)counted,
           (unsigned long long)lost, (unsigned long long)dropped);
    json_decref(root);
}

static void test_fault_agg_kill_mid_drain_cycles(void)
{
    const struct t_fleet_opts fo = {.places = C_WORKERS, .slots = NSLOTS, .ring = K_RING};
    struct t_daemon d;
    struct t_fleet fl;
    struct shmet__seg seg;
    struct answer base;
    struct ledger lg;
    int slot[C_WORKERS];
    char ns[64];

    memset(&lg, 0, sizeof(lg));
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&fl, t_ns(ns, sizeof(ns), "facyc"), &fo), 0);
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    for (int w = 0; w < C_WORKERS; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_serve(&fl, w), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_RECORD, 1), 0); /* defines */
        CU_ASSERT_FATAL((slot[w] = t_slot_of(&seg, fl.wk[w].pid)) >= 0);
    }
    CU_ASSERT_EQUAL_FATAL(answer_get(d.port, slot, &base), 0);
    for (int w = 0; w < C_WORKERS; w++)
        CU_ASSERT_EQUAL_FATAL(t_fleet_send(&fl, w, T_OP_FLAT, c_pause_us[w]), 0);
    for (int cycle = 0; cycle < C_CYCLES; cycle++) {
        if (cycle > 0)
            CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
        c_cycle(&d, &seg, slot, &base, &lg, cycle);
    }
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    /* RELAXED: a flag; each worker's answer orders its count. */
    atomic_store_explicit(&fl.board->stop, 1, memory_order_relaxed);
    for (int w = 0; w < C_WORKERS; w++)
        CU_ASSERT_EQUAL_FATAL(t_fleet_wait(&fl, w), 0);
    c_final(&d, &seg, slot, &base, &lg, &fl);
    for (int w = 0; w < C_WORKERS; w++)
        CU_ASSERT(t_fleet_reap(&fl, w, 0));
    CU_ASSERT(agg_sigterm(&d));
    shmet__seg_close(&seg);
    t_fleet_close(&fl);
    t_ns_cleanup(ns);
}

/* ---- SIGTERM and restart -------------------------------------------------- */

#define T_WORKERS 4
#define T_PACED 5000 /* iterations: 15000 records fit a 16384-record ring */

/* Poll until the heads of the n slots add up to want; 0, or -1 when the
 * deadline passed first. */
static int wait_heads(const struct shmet__seg *seg, const int *slot, int n, uint64_t want)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS, sum = 0;

    while (t_now_ms() < end) {
        sum = 0;
        for (int i = 0; i < n; i++)
            sum += LOAD(&shmet__slot(seg, (uint32_t)slot[i])->head);
        if (sum == want)
            return 0;
        usleep(1000);
    }
    return -1;
}

/* Counters never go back between two scrapes; mismatches. */
static int regressions(const struct t_samples *prev, const struct t_samples *cur)
{
    int bad = 0;

    for (size_t i = 0; i < prev->n; i++) {
        double v;
        if (strncmp(prev->s[i].key, "fa_records_total", 16) != 0 &&
            strncmp(prev->s[i].key, "fa_latency_seconds", 18) != 0)
            continue;
        if (!t_samples_find(cur, prev->s[i].key, &v) || v < prev->s[i].v) {
            fprintf(stderr, "%s went from %.17g to %.17g\n", prev->s[i].key, prev->s[i].v, v);
            bad++;
        }
    }
    return bad;
}

/* Scrape into *cur and compare with *prev (then replaced). */
static void scrape_monotonic(int port, struct t_samples *prev)
{
    struct t_samples cur;

    CU_ASSERT_EQUAL_FATAL(t_scrape(port, &cur), 0);
    CU_ASSERT_EQUAL(regressions(prev, &cur), 0);
    t_samples_free(prev);
    *prev = cur;
}

static void test_fault_agg_sigterm_restart_continues(void)
{
    const struct t_fleet_opts fo = {.places = T_WORKERS, .slots = NSLOTS, .ring = 16384};
    struct t_daemon d;
    struct t_fleet fl;
    struct t_expect e[T_WORKERS];
    struct t_samples prev = {0};
    struct shmet__seg seg;
    uint64_t heads = 0;
    int slot[2];
    json_t *root;
    char ns[64];

    memset(e, 0, sizeof(e));
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&fl, t_ns(ns, sizeof(ns), "faterm"), &fo), 0);
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "16384"), 0);
    for (int w = 0; w < T_WORKERS; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_serve(&fl, w), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_RECORD, 100), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_BUSY, (uint32_t)w + 1), 0);
        t_expect_records(&e[w], w, 0, 300);
    }
    CU_ASSERT_EQUAL(scrape_diff(d.port, e, T_WORKERS), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "fa_busy"), 10);
    scrape_monotonic(d.port, &prev);
    CU_ASSERT_FATAL(agg_sigterm(&d));

    /* Nothing recorded across the restart: the same values, gauges of the
     * live producers included, without any producer recording again. */
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "16384"), 0);
    CU_ASSERT_EQUAL(scrape_diff(d.port, e, T_WORKERS), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "fa_busy"), 10);
    root = t_debug(d.port);
    CU_ASSERT_EQUAL(jnum(t_debug_series(root, "fa_busy", NULL), "producers"), T_WORKERS);
    json_decref(root);
    scrape_monotonic(d.port, &prev);
    CU_ASSERT_FATAL(agg_sigterm(&d));

    /* While no aggregator runs, w3 exits and w2 is killed: their gauges
     * must not come back; w0 and w1 record across the next start. */
    CU_ASSERT(t_fleet_reap(&fl, 3, 0));
    CU_ASSERT(t_fleet_reap(&fl, 2, SIGKILL));
    gone(&e[2]);
    gone(&e[3]);
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    for (int w = 0; w < 2; w++) {
        CU_ASSERT_FATAL((slot[w] = t_slot_of(&seg, fl.wk[w].pid)) >= 0);
        heads += LOAD(&shmet__slot(&seg, (uint32_t)slot[w])->head);
    }
    for (int w = 0; w < 2; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_send(&fl, w, T_OP_PACED, T_PACED), 0);
        t_expect_records(&e[w], w, fl.wk[w].iter, 3 * T_PACED);
    }
    /* Half written, no aggregator: the workers wait at the gate. */
    CU_ASSERT_EQUAL(wait_heads(&seg, slot, 2, heads + 2 * 3 * (T_PACED / 2)), 0);
    shmet__seg_close(&seg);
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "16384"), 0);
    /* RELAXED: a flag; the workers' records are published by their rings. */
    atomic_store_explicit(&fl.board->gate, 1, memory_order_relaxed);
    scrape_monotonic(d.port, &prev);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "fa_busy"), 3);
    for (int w = 0; w < 2; w++)
        CU_ASSERT_EQUAL_FATAL(t_fleet_wait(&fl, w), 0);
    scrape_monotonic(d.port, &prev);
    CU_ASSERT_EQUAL(wait_free_slots(ns, NSLOTS - 2), NSLOTS - 2);
    CU_ASSERT_EQUAL(scrape_diff(d.port, e, T_WORKERS), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "fa_busy"), 3);
    root = t_debug(d.port);
    CU_ASSERT_EQUAL(jnum(json_object_get(root, "aggregator"), "dropped_total"), 0);
    json_decref(root);
    t_samples_free(&prev);
    for (int w = 0; w < 2; w++)
        CU_ASSERT(t_fleet_reap(&fl, w, 0));
    CU_ASSERT(agg_sigterm(&d));
    t_fleet_close(&fl);
    t_ns_cleanup(ns);
}

/* A start that fails after the checkpoint was read and the rings drained
 * (the listen address is taken) must leave both for the next one. */
static void test_fault_agg_failed_start_keeps_checkpoint(void)
{
    const struct t_fleet_opts fo = {.places = 1, .slots = NSLOTS, .ring = K_RING};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof(sa);
    struct t_daemon d, failed;
    struct t_fleet fl;
    struct t_expect e;
    char ns[64], listen_at[64];
    const char *args[] = {"--ns", ns, "--listen", listen_at, NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0), st;

    memset(&e, 0, sizeof(e));
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                    listen(fd, 1) == 0 && getsockname(fd, (struct sockaddr *)&sa, &salen) == 0);
    snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", ntohs(sa.sin_port));
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&fl, t_ns(ns, sizeof(ns), "fafail"), &fo), 0);
    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    CU_ASSERT_EQUAL_FATAL(t_fleet_serve(&fl, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, 0, T_OP_RECORD, 100), 0);
    CU_ASSERT_FATAL(agg_sigterm(&d));
    CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, 0, T_OP_RECORD, 10), 0); /* in the ring */
    t_expect_records(&e, 0, 0, 330);

    CU_ASSERT_EQUAL_FATAL(t_spawn(&failed, args, false), 0);
    st = t_wait_exit(&failed, T_DEADLINE_MS);
    CU_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
    failed.pid = 0;
    t_stop(&failed);
    close(fd);

    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    CU_ASSERT_EQUAL(scrape_diff(d.port, &e, 1), 0);
    CU_ASSERT(t_fleet_reap(&fl, 0, 0));
    CU_ASSERT(agg_sigterm(&d));
    t_fleet_close(&fl);
    t_ns_cleanup(ns);
}

/* ---- producers before any aggregator -------------------------------------- */

#define P_WORKERS 5
#define P_RING 2048 /* the workers' geometry; the aggregator asks for another */

static void test_fault_agg_producers_before_aggregator(void)
{
    static const uint32_t iters[P_WORKERS] = {100, 200, 150, 300, 50};
    const struct t_fleet_opts fo = {.places = P_WORKERS, .slots = NSLOTS, .ring = P_RING};
    struct t_daemon d;
    struct t_fleet fl;
    struct t_expect e[P_WORKERS];
    struct shmet__seg seg;
    json_t *root;
    char ns[64];

    memset(e, 0, sizeof(e));
    CU_ASSERT_EQUAL_FATAL(t_fleet_open(&fl, t_ns(ns, sizeof(ns), "fafirst"), &fo), 0);
    for (int w = 0; w < P_WORKERS; w++) {
        CU_ASSERT_EQUAL_FATAL(t_fleet_serve(&fl, w), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_RECORD, iters[w]), 0);
        CU_ASSERT_EQUAL_FATAL(t_fleet_do(&fl, w, T_OP_BUSY, (uint32_t)w + 1), 0);
        t_expect_records(&e[w], w, 0, 3ull * iters[w]);
    }
    CU_ASSERT_EQUAL_FATAL(shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg), 0);
    CU_ASSERT_EQUAL(LOAD(&seg.hdr->aggregator_pid), 0);
    shmet__seg_close(&seg);
    CU_ASSERT(t_fleet_reap(&fl, 0, 0));
    CU_ASSERT(t_fleet_reap(&fl, 1, SIGKILL));
    CU_ASSERT(t_fleet_reap(&fl, 4, 0));
    gone(&e[0]);
    gone(&e[1]);
    gone(&e[4]);

    CU_ASSERT_EQUAL_FATAL(agg_start(&d, ns, "1024"), 0);
    CU_ASSERT_EQUAL(wait_free_slots(ns, NSLOTS - 2), NSLOTS - 2);
    CU_ASSERT_EQUAL(scrape_diff(d.port, e, P_WORKERS), 0);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "fa_busy"), 3 + 4);
    CU_ASSERT_EQUAL(t_scrape_value(d.port, "shmetrics_slots_freed_total"), 3);
    root = t_debug(d.port);
    CU_ASSERT_EQUAL(jnum(json_object_get(root, "segment"), "ring_records"), P_RING);
    CU_ASSERT_EQUAL(jnum(json_object_get(root, "aggregator"), "dropped_total"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "producers")), 2);
    json_decref(root);

    live_go_on(&d, &fl, e, 40);
    CU_ASSERT(agg_sigterm(&d));
    t_fleet_close(&fl);
    t_ns_cleanup(ns);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_fault_agg_sigkill_restart_exact", test_fault_agg_sigkill_restart_exact},
        {"test_fault_agg_kill_mid_drain_cycles", test_fault_agg_kill_mid_drain_cycles},
        {"test_fault_agg_sigterm_restart_continues", test_fault_agg_sigterm_restart_continues},
        {"test_fault_agg_failed_start_keeps_checkpoint",
         test_fault_agg_failed_start_keeps_checkpoint},
        {"test_fault_agg_producers_before_aggregator", test_fault_agg_producers_before_aggregator},
    };

    signal(SIGPIPE, SIG_IGN);
    if (access(t_bin_path(), X_OK) != 0) {
        fprintf(stderr, "%s: not found; set SHMETRICS_BIN_DIR\n", t_bin_path());
        return 1;
    }
    return T_RUN("fault_aggregator", tests);
}
