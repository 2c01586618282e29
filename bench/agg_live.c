/* SPDX-License-Identifier: MIT */
/*
 * bench/agg_live.c - a live shmetricsd and one producer process
 * (struct live in agg.h). The producer is forked and records through the
 * real client; the parent tells it what to define over a pipe and waits
 * for its answer, then for shmetricsd to have drained its ring (watched
 * through a read-only mapping of the segment). The producer paces itself
 * so that its ring never fills: a sample lost there would make the
 * figures lie.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmetrics.h>

#include "agg.h"
#include "ingest/checkpoint.h"

#define DRAIN_TIMEOUT_MS 60000
#define PACE_EVERY 1024 /* records between looks at the ring */

struct live_cmd {
    uint32_t type; /* enum shmet_type; 0: exit */
    uint32_t observations;
    uint64_t from, to;
};

struct producer {
    struct shmet_client *c;
    struct shmet_family *fam[4]; /* by enum shmet_type */
    struct shmet__seg seg;       /* read-only, to watch our own ring */
    struct shmet_abi_slot *slot;
    uint64_t records;
};

/* ---- the producer process ----------------------------------------------- */

static int family(struct producer *p, uint32_t type, struct shmet_family **out)
{
    if (p->fam[type] != NULL) {
        *out = p->fam[type];
        return 0;
    }
    int rc = type == SHMET_TYPE_COUNTER
                 ? shmet_counter(p->c, "http_requests_total", "Requests served.", mix_labels,
                                 &p->fam[type])
             : type == SHMET_TYPE_GAUGE
                 ? shmet_gauge(p->c, "bench_in_progress", "Requests in progress.", mix_labels,
                               SHMET_GAUGE_SUM, &p->fam[type])
                 : shmet_histogram(p->c, "http_request_duration_seconds", "Request latency.",
                                   mix_labels, mix_bounds, MIX_BOUNDS, &p->fam[type]);
    *out = p->fam[type];
    return rc;
}

/* This thread's slot, found by tid once it has recorded. */
static struct shmet_abi_slot *own_slot(struct producer *p)
{
    int32_t tid = shmet__gettid();

    for (uint32_t i = 0; i < p->seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&p->seg, i);
        /* ACQUIRE: pairs with the RELEASE store of ACTIVE in slot claim. */
        if (atomic_load_explicit(&sl->state, memory_order_acquire) == SHMET_SLOT_ACTIVE &&
            atomic_load_explicit(&sl->tid, memory_order_relaxed) == tid)
            return sl;
    }
    return NULL;
}

/* Wait while our ring is more than half full. RELAXED: only a pace. */
static void pace(struct producer *p)
{
    uint64_t half = p->seg.ring_records / 2, end = agg_mono_ns() + 30000000000ull;

    if (++p->records % PACE_EVERY != 0)
        return;
    if (p->slot == NULL && (p->slot = own_slot(p)) == NULL)
        return;
    while (atomic_load_explicit(&p->slot->head, memory_order_relaxed) -
                   atomic_load_explicit(&p->slot->tail, memory_order_relaxed) >
               half &&
           agg_mono_ns() < end)
        agg_sleep_ns(100000);
}

static int64_t run_cmd(struct producer *p, const struct live_cmd *c)
{
    char bufs[MIX_LABELS][MIX_VALUE_MAX];
    const char *vals[MIX_LABELS];
    struct shmet_family *f;
    struct shmet_series s;
    int rc = family(p, c->type, &f);

    for (uint64_t i = c->from; rc == 0 && i < c->to; i++) {
        mix_values(i, bufs, vals);
        if ((rc = shmet_series_get(f, vals, &s)) < 0)
            break;
        if (c->type == SHMET_TYPE_COUNTER) {
            shmet_add(s, (double)(i * 37 % 5000 + 1));
            pace(p);
        } else if (c->type == SHMET_TYPE_GAUGE) {
            shmet_set(s, (double)(i % 977));
            pace(p);
        }
        for (uint32_t k = 0; c->type == SHMET_TYPE_HISTOGRAM && k < c->observations; k++) {
            shmet_observe(s, mix_observation(i, k));
            pace(p);
        }
    }
    if (rc < 0)
        return rc;
    if (p->slot == NULL && (p->slot = own_slot(p)) == NULL)
        return -ESRCH;
    /* RELAXED: a statistic. */
    return (int64_t)atomic_load_explicit(&p->slot->dropped, memory_order_relaxed);
}

static void producer_main(const char *ns, int cmd_fd, int ack_fd)
{
    struct shmet_options opt = {.ns = ns};
    struct producer p;
    struct live_cmd c;
    int64_t rc;

    memset(&p, 0, sizeof(p));
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    rc = shmet_open(&opt, &p.c);
    if (rc == 0)
        rc = shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &p.seg);
    while (read(cmd_fd, &c, sizeof(c)) == (ssize_t)sizeof(c) && c.type != 0) {
        int64_t r = rc < 0 ? rc : run_cmd(&p, &c);
        if (write(ack_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
            break;
    }
    shmet_close(p.c);
    _exit(0);
}

/* ---- the parent's side ------------------------------------------------------ */

/* The segment and the checkpoint shmetricsd writes when it stops (it
 * would bring this run's series into the next shmetricsd of the name). */
static void remove_files(const char *ns)
{
    char path[512];

    (void)shmet__seg_unlink(ns);
    if (checkpoint_path(ns, path, sizeof(path)) == 0)
        (void)unlink(path);
}

int live_start(struct live *l, const char *what, uint32_t ring, uint64_t arena, uint32_t slots)
{
    char rs[24], as[24], ss[24];
    const char *extra[16] = {"--max-series-per-family", "10000000"};
    size_t n = 2;
    int rc;

    memset(l, 0, sizeof(*l));
    l->cmd_fd = l->ack_fd = -1;
    agg_ns(l->ns, sizeof(l->ns), what);
    remove_files(l->ns);
    if (ring != 0) {
        snprintf(rs, sizeof(rs), "%u", ring);
        snprintf(as, sizeof(as), "%llu", (unsigned long long)((arena + 63) / 64 * 64));
        snprintf(ss, sizeof(ss), "%u", slots);
        extra[n++] = "--ring-records";
        extra[n++] = rs;
        extra[n++] = "--arena-bytes";
        extra[n++] = as;
        extra[n++] = "--slots";
        extra[n++] = ss;
    }
    extra[n] = NULL;
    if ((rc = bench_daemon_start(&l->d, l->ns, extra)) < 0)
        return rc;
    if ((rc = shmet__seg_open(l->ns, NULL, SHMET_SEG_RDONLY, 0, &l->seg)) < 0) {
        fprintf(stderr, "shmetrics-bench: segment %s: %s\n", l->ns, shmet__strerror(rc));
        live_stop(l);
        return rc;
    }
    l->seg_open = true;
    return 0;
}

int live_producer(struct live *l)
{
    int cmd[2], ack[2];

    if (pipe2(cmd, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(ack, O_CLOEXEC) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return -errno;
    }
    fflush(NULL);
    l->child = fork();
    if (l->child == 0) {
        close(cmd[1]);
        close(ack[0]);
        producer_main(l->ns, cmd[0], ack[1]);
    }
    close(cmd[0]);
    close(ack[1]);
    l->cmd_fd = cmd[1];
    l->ack_fd = ack[0];
    if (l->child < 0) {
        l->child = 0;
        return -errno;
    }
    return 0;
}

int64_t live_add(struct live *l, uint8_t type, uint64_t from, uint64_t to, uint32_t observations)
{
    struct live_cmd c = {.type = type, .observations = observations, .from = from, .to = to};
    int64_t r;

    if (write(l->cmd_fd, &c, sizeof(c)) != (ssize_t)sizeof(c) ||
        read(l->ack_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
        return -EPIPE;
    if (r < 0)
        return r;
    if (agg_wait_drained(&l->seg, DRAIN_TIMEOUT_MS) < 0)
        return -ETIMEDOUT;
    /* The ring is empty once the records are copied out; they are applied
     * right after, within the same drain pass. */
    agg_sleep_ns(20000000);
    return r;
}

void live_stop(struct live *l)
{
    if (l->child > 0) {
        struct live_cmd c = {0};
        if (write(l->cmd_fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
            kill(l->child, SIGKILL);
        waitpid(l->child, NULL, 0);
        l->child = 0;
    }
    if (l->cmd_fd >= 0)
        close(l->cmd_fd);
    if (l->ack_fd >= 0)
        close(l->ack_fd);
    l->cmd_fd = l->ack_fd = -1;
    (void)bench_daemon_stop(&l->d);
    if (l->seg_open)
        shmet__seg_close(&l->seg);
    l->seg_open = false;
    remove_files(l->ns);
}
