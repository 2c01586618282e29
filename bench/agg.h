/* SPDX-License-Identifier: MIT */
/*
 * bench/agg.h - the aggregator benchmarks of shmetrics-bench:
 *   drain   drain+merge throughput of the aggregator core (agg_drain.c)
 *   scrape  exposition render time, bytes, GET /metrics over loopback and
 *           memory per series (agg_scrape.c, agg_memory.c)
 *   e2e     forked producers through a live shmetricsd: applied samples,
 *           drops, sample-to-visible latency, idle CPU (agg_e2e.c)
 * and what they share (agg_util.c, agg_feed.c, agg_live.c): options, the
 * synthetic workload, /proc readers, a keep-alive HTTP client, a segment
 * fed straight through libshm into an in-process store and drain, and a
 * live shmetricsd (daemon.c) with a producer process.
 */
#ifndef SHMETRICS_BENCH_AGG_H
#define SHMETRICS_BENCH_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"
#include "ingest/drain.h"
#include "shm.h"
#include "store/store.h"

/* Entry points, called from main.c with the whole argv. 0, 1 on a
 * failure, 2 on a usage error. */
int bench_drain_main(int argc, char **argv);
int bench_scrape_main(int argc, char **argv);
int bench_e2e_main(int argc, char **argv);

/* ---- options (agg_util.c) ---------------------------------------------- */

/* One option of a subcommand: "--name N" stores N (k, M, G suffixes)
 * into *val when it is within [min, max]; a flag ("--smoke") sets *flag;
 * "--name WORD" with str set stores WORD in *str. */
struct agg_opt {
    const char *name;
    uint64_t *val;
    uint64_t min, max;
    bool *flag;
    const char **str;
};
#define AGG_NUM(name, val, min, max) {name, val, min, max, NULL, NULL}
#define AGG_FLAG(name, flag) {name, NULL, 0, 0, flag, NULL}
#define AGG_STR(name, str) {name, NULL, 0, 0, NULL, str}
#define AGG_END {NULL, NULL, 0, 0, NULL, NULL}

/* Parse argv[2..] against opts (terminated by a NULL name). "--help"
 * prints help and exits 0. Returns 0 or -EINVAL after a message. */
int agg_parse(int argc, char **argv, const struct agg_opt *opts, const char *help);

/* Whether argv[2..] holds the option name. */
bool agg_has_opt(int argc, char **argv, const char *name);

/* "1k", "100k", "1M" or the plain number: a tag for figure names. */
const char *agg_size_tag(uint64_t n, char *buf, size_t len);

/* ---- the synthetic workload (agg_util.c) -------------------------------- */

#define MIX_LABELS 3  /* method, endpoint, status */
#define MIX_BOUNDS 13 /* the demo's request-duration buckets */
#define MIX_VALUE_MAX 48

extern const char *const mix_labels[MIX_LABELS + 1]; /* NULL-terminated */
extern const double mix_bounds[MIX_BOUNDS];

/* The label values of series i (all distinct), in bufs. */
void mix_values(uint64_t i, char bufs[MIX_LABELS][MIX_VALUE_MAX], const char *out[MIX_LABELS]);
/* Observation k of series i: log-uniform over [0.005, 8) s, spread over
 * every bucket; deterministic. */
double mix_observation(uint64_t i, uint64_t k);

/* A small, fast, deterministic generator (xorshift64*). */
uint64_t agg_rand(uint64_t *state);

/* ---- time and /proc (agg_util.c) ----------------------------------------- */

uint64_t agg_mono_ns(void);
void agg_sleep_ns(uint64_t ns);
/* CPU time a process has used, in ns: /proc/PID/schedstat, else
 * utime+stime of /proc/PID/stat. -1 on error. */
int64_t agg_proc_cpu_ns(pid_t pid);
/* Resident memory in bytes from /proc/PID/status: VmRSS and RssAnon
 * (the heap, without the shared segment's pages). 0 or -errno. */
int agg_proc_rss(pid_t pid, uint64_t *vmrss, uint64_t *rss_anon);

/* ---- a keep-alive HTTP/1.1 client (agg_util.c) ------------------------- */

struct agg_http {
    int fd;
    char *in; /* received bytes; the last response is in[0, used) */
    size_t len, cap, used;
};

struct agg_resp {
    int status;
    const char *body; /* inside the connection's buffer, until the next call */
    size_t body_len;
};

int agg_http_open(struct agg_http *c, int port);
void agg_http_close(struct agg_http *c);
/* GET path with extra header lines ("Accept: ...\r\n" or ""); reads the
 * whole response (Content-Length). 0 or -errno. */
int agg_http_get(struct agg_http *c, const char *path, const char *headers, struct agg_resp *r);

/* ---- segments (agg_util.c) ---------------------------------------------- */

/* A namespace of our own: "shmbench-<what>-<pid>". */
void agg_ns(char *buf, size_t len, const char *what);
/* Wait until every ACTIVE slot's ring is empty (the aggregator applied
 * everything published so far). 0, or -ETIMEDOUT. */
int agg_wait_drained(const struct shmet__seg *seg, uint64_t timeout_ms);

/* ---- a segment fed straight through libshm (agg_feed.c) ---------------- */

#define FEED_SLOTS_MAX 16

/* The producer side is written here with libshm (arena definitions,
 * DEFINE records, shmet__ring_push), the consumer side is the aggregator
 * core itself (drain_all into a store) in the same process. Every slot
 * defines the same families and series under the same local ids. */
struct feed {
    char ns[SHMET_NS_MAX + 1];
    struct shmet__seg seg;
    struct store st;
    struct drain d;
    bool seg_open, st_open, d_open;
    uint32_t nslots;
    uint32_t slot[FEED_SLOTS_MAX];
    struct shmet__ring_producer rp[FEED_SLOTS_MAX];
    uint32_t nfamilies, nseries; /* next local ids */
};

/* Create the segment (arena_bytes rounded up to 64), claim nslots slots,
 * and set up a store (max_series per family) and a drain over it. */
int feed_open(struct feed *f, const char *what, uint32_t nslots, uint32_t ring_records,
              uint64_t arena_bytes, uint32_t max_series);
void feed_close(struct feed *f);
/* Define a family (and its __overflow__ series, as the client does) in
 * every slot; *id is its local family id. */
int feed_family(struct feed *f, uint8_t type, const char *name, const char *help,
                const double *bounds, uint32_t nbounds, uint32_t *id);
/* Define one series of family fam in every slot; *id is its local id. */
int feed_series(struct feed *f, uint32_t fam, const char *const *values, uint32_t *id);
/* Records that fit in slot k's ring now. */
uint64_t feed_room(struct feed *f, uint32_t k);
/* Append one record to slot k, draining first when the ring is full. */
void feed_record(struct feed *f, uint32_t k, uint32_t id, uint16_t op, double v);
/* Arena bytes one mix series definition takes, with margin. */
uint64_t feed_arena_for(uint64_t nseries);

/* ---- memory per series (agg_memory.c) ----------------------------------- */

/* Print and emit bytes per series of each type for n series: the store's
 * heap in this process, and (live) shmetricsd's anonymous RSS. 0 or -errno. */
int agg_memory(uint64_t n, bool live, bool smoke);

/* ---- a live shmetricsd and a producer process (agg_live.c) -------------- */

/* shmetricsd on a namespace of its own (daemon.c starts it), the segment
 * mapped read-only here to watch the rings, and optionally one forked
 * producer that defines and records series through the real client when
 * told to. */
struct live {
    struct bench_daemon d;
    char ns[SHMET_NS_MAX + 1];
    struct shmet__seg seg;
    bool seg_open;
    pid_t child;
    int cmd_fd, ack_fd; /* pipes to and from the producer */
};

/* Start shmetricsd with --max-series-per-family 10M and, when non-zero,
 * --ring-records ring --arena-bytes arena --slots slots. 0 or -errno. */
int live_start(struct live *l, const char *what, uint32_t ring, uint64_t arena, uint32_t slots);
/* Stop the producer (if any) and shmetricsd; remove the segment. */
void live_stop(struct live *l);
/* Fork the producer. 0 or -errno. */
int live_producer(struct live *l);
/* Have the producer define series [from, to) of a type (mix labels; the
 * counter family http_requests_total, the SUM gauge bench_in_progress, the
 * histogram http_request_duration_seconds) and record into each: counters
 * and gauges once, histograms `observations` spread values. Waits until
 * shmetricsd has drained them. Returns the producer's ring-full drops so
 * far (0 expected), or -errno. */
int64_t live_add(struct live *l, uint8_t type, uint64_t from, uint64_t to, uint32_t observations);

#endif /* SHMETRICS_BENCH_AGG_H */
