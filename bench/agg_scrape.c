/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_scrape.c - `shmetrics-bench scrape`: what a scrape
 * costs at 1k, 10k and 100k series.
 *
 *   in process  expo_render() of a store filled through the real drain
 *               path (struct feed): text 0.0.4, OpenMetrics, and text then
 *               gzip_encode() at GZIP_LEVEL, into buffers kept between
 *               renders (the render's own cost); text into a fresh buffer
 *               ("cold": page faults included, as shmetricsd pays for
 *               its first large scrape, before it keeps a spare); bytes
 *               of each; the first
 *               render after series were added (it sorts) apart; and a
 *               counters-only store of the same size.
 *   live        GET /metrics over a keep-alive loopback connection to a
 *               shmetricsd that a producer process filled with the same
 *               series through the client: request sent to last body byte.
 *   memory      bytes per series of each type (agg_memory.c).
 *
 * The mix: half the series are counters (http_requests_total), half are
 * histograms with 13 buckets (http_request_duration_seconds), all with
 * three labels (method, endpoint, status). A histogram series counts as
 * one series although it renders 16 lines. Each counter got one add, each
 * histogram MIX_OBSERVATIONS observations spread over its buckets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "bench.h"
#include "render/expo.h"
#include "render/gzip.h"

#define MIX_OBSERVATIONS 8
#define NSIZES 3

enum rmode { RM_TEXT, RM_OM, RM_GZIP, RM_COUNT };

static const char *const rm_tag[RM_COUNT] = {"text", "om", "gzip"};

static const char *const rm_headers[RM_COUNT] = {
    "",
    "Accept: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n",
    "Accept-Encoding: gzip\r\n",
};

struct scrape_opts {
    uint64_t runs;
    uint64_t mem_series;
    uint64_t series; /* one size instead of all; 0: all */
    bool smoke, no_live, no_mem;
};

/* Figures of one size. */
struct size_res {
    uint64_t n, runs;
    double *render[RM_COUNT]; /* ms per run */
    double *cold;             /* text render into a fresh buffer, ms per run */
    double *counters;         /* counters-only text render, ms per run */
    double *get[RM_COUNT];    /* live GET, ms per run */
    double first_ms;          /* the first text render (sorts; cold) */
    size_t bytes[RM_COUNT], counters_bytes, get_bytes[RM_COUNT];
    bool live;
};

static const char help[] =
    "usage: shmetrics-bench scrape [--runs N] [--mem-series N] [--series N] [--no-live]\n"
    "                              [--no-mem] [--smoke]\n"
    "\n"
    "Scrape cost at 1k, 10k and 100k series: half counters, half 13-bucket\n"
    "histograms, three labels each (a histogram series counts as one):\n"
    "  - expo_render() time in process: text 0.0.4, OpenMetrics, text + gzip into\n"
    "    buffers kept between renders; text into a fresh buffer (cold); bytes of\n"
    "    each; the first render after new series (which sorts); a counters-only\n"
    "    store of the same size;\n"
    "  - GET /metrics over loopback from a live shmetricsd (the one next to this\n"
    "    program) filled by a producer process, keep-alive, request to last byte;\n"
    "  - memory per series of each type: store heap in process (mallinfo2), and\n"
    "    shmetricsd's anonymous RSS before and after a producer adds N series.\n"
    "\n"
    "  --runs N        repetitions; figures are medians (default 11)\n"
    "  --mem-series N  series per type for the memory figures (default 100k)\n"
    "  --series N      one size instead of 1k, 10k and 100k (for profiling)\n"
    "  --no-live       in-process figures only (no shmetricsd)\n"
    "  --no-mem        no memory figures\n"
    "  --smoke         tiny sizes (1k series, 3 runs): checks that it runs\n"
    "\n"
    "Output: tables, then BENCH <name> <value> <unit> lines.\n";

/* ---- in process ------------------------------------------------------------ */

/* A store of n series through the drain path: the mix, or counters only. */
static int build_store(struct feed *f, uint64_t n, bool counters_only)
{
    char bufs[MIX_LABELS][MIX_VALUE_MAX];
    const char *vals[MIX_LABELS + 1] = {NULL};
    uint64_t nc = counters_only ? n : n / 2;
    uint32_t fc, fh, id;
    int rc;

    if ((rc = feed_open(f, "scrape", 1, 65536, feed_arena_for(n), UINT32_MAX)) < 0)
        return rc;
    rc = feed_family(f, SHMET_TYPE_COUNTER, "http_requests_total", "Requests served.", NULL, 0,
                     &fc);
    if (rc == 0 && nc < n)
        rc = feed_family(f, SHMET_TYPE_HISTOGRAM, "http_request_duration_seconds",
                         "Request latency.", mix_bounds, MIX_BOUNDS, &fh);
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        bool counter = i < nc;
        mix_values(counter ? i : i - nc, bufs, vals);
        if ((rc = feed_series(f, counter ? fc : fh, vals, &id)) < 0)
            break;
        if (counter)
            feed_record(f, 0, id, SHMET_OP_COUNTER_ADD, (double)(i * 37 % 5000 + 1));
        for (uint32_t k = 0; !counter && k < MIX_OBSERVATIONS; k++)
            feed_record(f, 0, id, SHMET_OP_OBSERVE, mix_observation(i - nc, k));
    }
    (void)drain_all(&f->d);
    if (rc == 0 && (drain_invalid_total(&f->d) != 0 || f->st.nseries < n))
        rc = -EPROTO;
    if (rc < 0) {
        fprintf(stderr, "shmetrics-bench: filling the scrape store: %s\n", shmet__strerror(rc));
        feed_close(f);
    }
    return rc;
}

/* Buffers for renders: kept between renders (warm), or made afresh for
 * each (cold: new pages, as shmetricsd's first large scrape gets). */
struct bufs {
    struct buf text, out;
    bool cold;
};

/* One render; ms, and the bytes in *bytes; -1 on error. */
static double render_once(struct store *st, enum rmode m, struct bufs *b, size_t *bytes)
{
    uint64_t t0;
    int rc;

    if (b->cold) {
        buf_free(&b->text);
        buf_free(&b->out);
    }
    b->text.len = b->out.len = 0;
    t0 = agg_mono_ns();
    rc = expo_render(st, m == RM_OM ? EXPO_OPENMETRICS : EXPO_TEXT, NULL, &b->text);
    if (rc == 0 && m == RM_GZIP)
        rc = gzip_encode(b->text.data, b->text.len, GZIP_LEVEL, &b->out);
    double ms = (double)(agg_mono_ns() - t0) / 1e6;
    *bytes = m == RM_GZIP ? b->out.len : b->text.len;
    return rc == 0 ? ms : -1;
}

static int render_runs(struct store *st, struct size_res *r, uint64_t runs)
{
    struct bufs warm = {.cold = false}, cold = {.cold = true};
    size_t bytes;
    int rc = 0;

    buf_init(&warm.text);
    buf_init(&warm.out);
    buf_init(&cold.text);
    buf_init(&cold.out);
    r->first_ms = render_once(st, RM_TEXT, &cold, &bytes);
    for (int m = 0; m < RM_COUNT; m++) /* untimed: the kept buffers grow */
        (void)render_once(st, (enum rmode)m, &warm, &bytes);
    for (uint64_t i = 0; i < runs && rc == 0; i++) {
        for (int m = 0; m < RM_COUNT; m++)
            if ((r->render[m][i] = render_once(st, (enum rmode)m, &warm, &r->bytes[m])) < 0)
                rc = -ENOMEM;
        if ((r->cold[i] = render_once(st, RM_TEXT, &cold, &bytes)) < 0)
            rc = -ENOMEM;
    }
    buf_free(&warm.text);
    buf_free(&warm.out);
    buf_free(&cold.text);
    buf_free(&cold.out);
    return rc;
}

static int inproc(struct size_res *r, uint64_t runs)
{
    struct bufs warm = {.cold = false};
    struct feed f;
    size_t bytes;
    int rc;

    if ((rc = build_store(&f, r->n, false)) < 0)
        return rc;
    rc = render_runs(&f.st, r, runs);
    feed_close(&f);
    if (rc < 0 || (rc = build_store(&f, r->n, true)) < 0)
        return rc;
    buf_init(&warm.text);
    buf_init(&warm.out);
    (void)render_once(&f.st, RM_TEXT, &warm, &bytes); /* sorts */
    for (uint64_t i = 0; i < runs && rc == 0; i++)
        if ((r->counters[i] = render_once(&f.st, RM_TEXT, &warm, &r->counters_bytes)) < 0)
            rc = -ENOMEM;
    buf_free(&warm.text);
    buf_free(&warm.out);
    feed_close(&f);
    return rc;
}

/* ---- live ------------------------------------------------------------------ */

static int get_runs(struct live *l, struct size_res *r, uint64_t runs)
{
    struct agg_http c;
    struct agg_resp resp;
    int rc;

    if ((rc = agg_http_open(&c, l->d.port)) < 0)
        return rc;
    /* Untimed: the first scrape after new series sorts them. */
    rc = agg_http_get(&c, "/metrics", "", &resp);
    for (uint64_t i = 0; i < runs && rc == 0; i++)
        for (int m = 0; m < RM_COUNT && rc == 0; m++) {
            uint64_t t0 = agg_mono_ns();
            if ((rc = agg_http_get(&c, "/metrics", rm_headers[m], &resp)) == 0 &&
                resp.status != 200)
                rc = -EPROTO;
            r->get[m][i] = (double)(agg_mono_ns() - t0) / 1e6;
            r->get_bytes[m] = resp.body_len;
        }
    agg_http_close(&c);
    return rc;
}

/* One shmetricsd, grown through every size in turn. */
static int live(struct size_res *res, int nsizes, uint64_t runs, bool smoke)
{
    uint64_t max = res[nsizes - 1].n, c = 0, h = 0;
    struct live l;
    int64_t rc;

    if ((rc = live_start(&l, "scrape", smoke ? 65536 : 1u << 20, feed_arena_for(max), 2)) < 0)
        return (int)rc;
    rc = live_producer(&l);
    for (int s = 0; s < nsizes && rc >= 0; s++) {
        uint64_t nc = res[s].n / 2, nh = res[s].n - nc;
        if ((rc = live_add(&l, SHMET_TYPE_COUNTER, c, nc, 0)) > 0 ||
            (rc >= 0 && (rc = live_add(&l, SHMET_TYPE_HISTOGRAM, h, nh, MIX_OBSERVATIONS)) > 0))
            rc = -ENOBUFS; /* the producer pacing failed */
        c = nc;
        h = nh;
        if (rc >= 0 && (rc = get_runs(&l, &res[s], runs)) == 0)
            res[s].live = true;
    }
    if (rc < 0)
        fprintf(stderr, "shmetrics-bench: live scrape: %s\n", shmet__strerror((int)rc));
    live_stop(&l);
    return (int)rc;
}

/* ---- report ---------------------------------------------------------------- */

static void emit_ms(const char *fmt, const char *a, const char *sz, double *v, uint64_t runs)
{
    char name[128];

    snprintf(name, sizeof(name), fmt, a, sz);
    bench_emit_stats(name, stats_of(v, runs), "ms");
}

static void emit_bytes(const char *fmt, const char *a, const char *sz, size_t bytes)
{
    char name[128];

    snprintf(name, sizeof(name), fmt, a, sz);
    bench_emit(name, (double)bytes, "bytes");
}

static void row(const char *sz, const char *what, double *v, uint64_t runs, size_t bytes)
{
    struct series_stats st = stats_of(v, runs);

    printf("%-8s %-22s %10.3f %10.3f %10.3f %12zu\n", sz, what, st.median, st.min, st.max,
           bytes);
}

static void table(const struct size_res *r)
{
    static const char *const render[RM_COUNT] = {"render text", "render om", "render gzip"};
    static const char *const get[RM_COUNT] = {"GET text", "GET om", "GET gzip"};
    char sz[16];

    agg_size_tag(r->n, sz, sizeof(sz));
    for (int m = 0; m < RM_COUNT; m++)
        row(sz, render[m], r->render[m], r->runs, r->bytes[m]);
    row(sz, "render text, cold", r->cold, r->runs, r->bytes[RM_TEXT]);
    printf("%-8s %-22s %10.3f\n", sz, "render text, first", r->first_ms);
    row(sz, "render counters only", r->counters, r->runs, r->counters_bytes);
    for (int m = 0; r->live && m < RM_COUNT; m++)
        row(sz, get[m], r->get[m], r->runs, r->get_bytes[m]);
}

static void emit(const struct size_res *r)
{
    char sz[16], name[128];

    agg_size_tag(r->n, sz, sizeof(sz));
    for (int m = 0; m < RM_COUNT; m++) {
        emit_ms("scrape_render_%s_%s_ms", rm_tag[m], sz, r->render[m], r->runs);
        emit_bytes("scrape_%s_%s_bytes", rm_tag[m], sz, r->bytes[m]);
    }
    emit_ms("scrape_render_%s_%s_ms", "text_cold", sz, r->cold, r->runs);
    emit_ms("scrape_render_%s_%s_ms", "counters", sz, r->counters, r->runs);
    emit_bytes("scrape_%s_%s_bytes", "counters", sz, r->counters_bytes);
    snprintf(name, sizeof(name), "scrape_render_text_%s_first_ms", sz);
    bench_emit(name, r->first_ms, "ms");
    for (int m = 0; r->live && m < RM_COUNT; m++) {
        emit_ms("scrape_get_%s_%s_ms", rm_tag[m], sz, r->get[m], r->runs);
        emit_bytes("scrape_get_%s_%s_bytes", rm_tag[m], sz, r->get_bytes[m]);
    }
}

static void report(const struct size_res *res, int nsizes)
{
    printf("%-8s %-22s %10s %10s %10s %12s\n", "series", "figure", "median ms", "min", "max",
           "bytes");
    for (int s = 0; s < nsizes; s++)
        table(&res[s]);
    printf("\n");
    for (int s = 0; s < nsizes; s++)
        emit(&res[s]);
}

/* ---- main -------------------------------------------------------------------- */

static int alloc_res(struct size_res *r, uint64_t n, uint64_t runs)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->runs = runs;
    for (int m = 0; m < RM_COUNT; m++) {
        r->render[m] = calloc(runs, sizeof(double));
        r->get[m] = calloc(runs, sizeof(double));
        if (r->render[m] == NULL || r->get[m] == NULL)
            return -ENOMEM;
    }
    r->counters = calloc(runs, sizeof(double));
    r->cold = calloc(runs, sizeof(double));
    return r->counters == NULL || r->cold == NULL ? -ENOMEM : 0;
}

static void free_res(struct size_res *r)
{
    for (int m = 0; m < RM_COUNT; m++) {
        free(r->render[m]);
        free(r->get[m]);
    }
    free(r->counters);
    free(r->cold);
}

int bench_scrape_main(int argc, char **argv)
{
    struct scrape_opts o = {.runs = 11, .mem_series = 100000};
    const struct agg_opt opts[] = {
        AGG_NUM("--runs", &o.runs, 1, 1000),
        AGG_NUM("--mem-series", &o.mem_series, 100, 10000000),
        AGG_NUM("--series", &o.series, 2, 10000000),
        AGG_FLAG("--no-live", &o.no_live),
        AGG_FLAG("--no-mem", &o.no_mem),
        AGG_FLAG("--smoke", &o.smoke),
        AGG_END,
    };
    uint64_t sizes[NSIZES] = {1000, 10000, 100000};
    struct size_res res[NSIZES];
    int nsizes = 0, maxsizes = NSIZES, rc = 0;

    if (agg_parse(argc, argv, opts, help) < 0)
        return 2;
    if (o.smoke) {
        o.runs = agg_has_opt(argc, argv, "--runs") ? o.runs : 3;
        o.mem_series = agg_has_opt(argc, argv, "--mem-series") ? o.mem_series : 1000;
        maxsizes = 1;
    }
    if (o.series != 0) {
        sizes[0] = o.series;
        maxsizes = 1;
    }
    printf("# shmetrics-bench scrape: %llu runs; half counters, half 13-bucket histograms\n"
           "#   (%d observations each), three labels; a histogram series counts as one;\n"
           "#   render into kept buffers (cold: fresh ones); gzip level %d; GET over\n"
           "#   keep-alive loopback\n",
           (unsigned long long)o.runs, MIX_OBSERVATIONS, GZIP_LEVEL);
    fflush(stdout);
    for (; nsizes < maxsizes && rc == 0; nsizes++)
        if ((rc = alloc_res(&res[nsizes], sizes[nsizes], o.runs)) == 0)
            rc = inproc(&res[nsizes], o.runs);
    if (rc == 0 && !o.no_live)
        rc = live(res, nsizes, o.runs, o.smoke);
    if (rc == 0)
        report(res, nsizes);
    for (int s = 0; s < nsizes; s++)
        free_res(&res[s]);
    printf("\n");
    if (rc == 0 && !o.no_mem)
        rc = agg_memory(o.mem_series, !o.no_live, o.smoke);
    return rc == 0 ? 0 : 1;
}
