/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/server.c - see server.h. What reads or writes the
 * segment is a small callback run by ingest_run() (ingest/ingest.h), so
 * that a segment truncated under us cuts the callback short instead of
 * killing the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest/checkpoint.h"
#include "render/debug.h"
#include "render/gzip.h"
#include "log.h"
#include "http/negotiate.h"
#include "daemon/server.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- open / close -------------------------------------------------------- */

/* Why the segment could not be opened or created, in the operator's words. */
static void open_failed(const struct server_config *cfg, int rc)
{
    const char *ns = shmet__ns_resolve(cfg->ns);
    char path[512], why[1024];

    if (rc == -EPERM && cfg->group != NULL) {
        log_error("namespace %s: cannot give the new segment group %s: only root, or a member "
                  "of that group, may",
                  ns, cfg->group);
    } else if (rc == -EACCES && shmet__seg_path(cfg->ns, path, sizeof(path)) == 0) {
        shmet__access_describe(path, why, sizeof(why));
        log_error("%s: %s", path, why);
    } else {
        log_error("namespace %s: %s", ns, shmet__strerror(rc));
    }
}

/* --mode and --group given for a segment that already existed. */
static void perm_not_applied(const struct server *s, const struct server_config *cfg)
{
    char group[256];
    struct stat st;

    if ((!cfg->mode_set && cfg->group == NULL) || stat(s->in.hold.path, &st) < 0)
        return;
    shmet__group_name(st.st_gid, group, sizeof(group));
    log_warn("%s already exists: --mode and --group apply only to a segment shmetricsd "
             "creates; it keeps mode %04o and group %s (remove it with shmtool rm while nothing "
             "uses it to start afresh)",
             s->in.hold.path, (unsigned)(st.st_mode & 07777), group);
}

static int build_store(struct server *s, const struct server_config *cfg)
{
    int rc;

    if ((rc = store_init(&s->st, cfg->max_series)) < 0)
        return rc;
    if ((rc = ingest_start(&s->in, &s->st)) < 0)
        return rc;
    return self_init(&s->self, &s->st, s->in.d);
}

/* Counters from the last graceful stop, if any, taken before the first
 * drain (checkpoint.h); a bad file is reported and ignored (the store
 * then starts empty, as after a crash). */
static void load_checkpoint(struct server *s, const struct server_config *cfg)
{
    char err[256] = "";
    int rc;

    if (checkpoint_path(cfg->ns, s->state_path, sizeof(s->state_path)) < 0) {
        s->state_path[0] = '\0';
        return;
    }
    rc = checkpoint_take(&s->st, s->in.d, s->state_path, err, sizeof(err));
    if (rc < 0)
        log_warn("%s: checkpoint ignored: %s", s->state_path, err[0] ? err : strerror(-rc));
    else if (rc > 0)
        log_info("restored %d series and gauge contributions from %s", rc, s->state_path);
    else
        log_debug("no checkpoint at %s: the counters start from what the rings hold",
                  s->state_path);
}

int server_checkpoint(struct server *s)
{
    int rc;

    if (s->state_path[0] == '\0')
        return -EINVAL;
    (void)server_drain(s);
    rc = checkpoint_save(&s->st, s->in.d, s->state_path);
    if (rc < 0)
        log_error("%s: cannot write checkpoint: %s", s->state_path, strerror(-rc));
    else
        log_info("wrote checkpoint %s", s->state_path);
    return rc;
}

/* The pid another shmetricsd wrote in the header of the segment at fd, or
 * 0 (none yet, or not a segment). */
static int32_t header_pid(int fd)
{
    struct shmet_abi_header h;

    if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.magic != SHMET_ABI_MAGIC)
        return 0;
    /* RELAXED: a report read from our own copy of the header. */
    return atomic_load_explicit(&h.aggregator_pid, memory_order_relaxed);
}

int server_busy(const char *ns)
{
    char path[512];
    int32_t pid;
    int fd, rc = 0;

    ns = shmet__ns_resolve(ns);
    if (shmet__seg_path(ns, path, sizeof(path)) < 0)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0; /* no segment: nobody serves it */
    /* A shared lock conflicts only with the exclusive one a shmetricsd
     * holds (tag-seg-hold), and is dropped by the close below. */
    if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        rc = -EWOULDBLOCK;
        if ((pid = header_pid(fd)) > 0)
            log_error("another shmetricsd (pid %d) already serves namespace %s", (int)pid, ns);
        else
            log_error("another shmetricsd already serves namespace %s", ns);
    }
    close(fd);
    return rc;
}

int server_open(struct server *s, const struct server_config *cfg)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->pid = (int32_t)getpid();
    s->start_ns = mono_ns();
    s->expo.consts = cfg->consts;
    s->expo.nconsts = cfg->nconsts;
    if ((rc = ingest_open(&s->in, cfg->ns, &cfg->geo, &cfg->perm, s->pid)) < 0) {
        if (s->in.hold.open_failed)
            open_failed(cfg, rc);
        goto err_hold;
    }
    if (!s->in.hold.created)
        perm_not_applied(s, cfg);
    server_heartbeat(s);
    if ((rc = build_store(s, cfg)) < 0) {
        log_error("namespace %s: %s", s->in.hold.ns, strerror(-rc));
        goto err_hold;
    }
    log_debug("segment %s: %s, %u slots, %u records, %u arena bytes", s->in.hold.path,
              s->in.hold.created ? "created" : "attached", s->in.hold.seg.slots,
              s->in.hold.seg.ring_records, s->in.hold.seg.arena_bytes);
    load_checkpoint(s, cfg);
    (void)server_drain(s); /* what producers wrote while no aggregator ran */
    return 0;
err_hold:
    server_close(s);
    return rc;
}

void server_close(struct server *s)
{
    if (s == NULL)
        return;
    ingest_close(&s->in);
    store_fini(&s->st);
}

uint64_t server_drain(struct server *s)
{
    uint64_t t0 = mono_ns();
    int64_t n = ingest_drain(&s->in);

    if (n < 0)
        return 0; /* no segment: nothing to time */
    self_observe_drain(&s->self, (double)(mono_ns() - t0) / 1e9);
    return (uint64_t)n;
}

void server_heartbeat(struct server *s)
{
    ingest_heartbeat(&s->in);
}

bool server_check_segment(struct server *s, struct watches *ws)
{
    if (!ingest_check_segment(&s->in, ws))
        return false;
    (void)server_drain(s); /* what producers wrote before we came */
    return true;
}

struct ingest *server_ingest(struct server *s)
{
    return &s->in;
}

/* ---- routes -------------------------------------------------------------- */

static void swap_bufs(struct buf *a, struct buf *b)
{
    struct buf t = *a;

    *a = *b;
    *b = t;
}

static void update_self(struct server *s)
{
    struct self_segment seg = {.attaches = s->in.hold.attaches, .lost = s->in.hold.losses};

    self_update(&s->self, &s->st, s->in.d, &seg);
}

static int route_metrics(struct server *s, const struct http_request *req, struct reply *r)
{
    enum expo_format fmt = negotiate_format(req->accept, req->naccept);
    bool gz = negotiate_gzip(req->accept_encoding, req->naccept_encoding);
    struct buf *spare = &r->pool->spare, *text = gz ? spare : &r->body;
    uint64_t t0;
    int rc;

    (void)server_drain(s); /* what was recorded before the request is in it */
    update_self(s);
    t0 = mono_ns();
    if (!gz && spare->cap > r->body.cap)
        swap_bufs(spare, &r->body); /* the smaller one waits as spare (reply.h) */
    text->len = 0;
    text->failed = false;
    rc = expo_render(&s->st, fmt, &s->expo, text);
    if (rc == 0 && gz)
        rc = gzip_encode(text->data, text->len, GZIP_LEVEL, &r->body);
    self_observe_scrape(&s->self, (double)(mono_ns() - t0) / 1e9);
    reply_pool_trim(r->pool);
    if (rc < 0)
        return rc;
    r->status = 200;
    r->content_type = expo_content_type(fmt);
    r->content_encoding = gz ? "gzip" : NULL;
    r->vary = true;
    return 0;
}

struct debug_read {
    const struct shmet__seg *seg;
    struct shmet__slot_snap *slots;
};

static void debug_read_cb(void *arg)
{
    struct debug_read *r = arg;

    for (uint32_t i = 0; i < r->seg->slots; i++)
        shmet__slot_snapshot(r->seg, i, false, &r->slots[i]);
}

static int route_debug(struct server *s, struct reply *r)
{
    struct debug_read rd = {.seg = &s->in.hold.seg,
                            .slots = calloc(s->in.hold.seg.slots, sizeof(struct shmet__slot_snap))};
    struct debug_ctx c = {.seg = &s->in.hold.seg,
                          .st = &s->st,
                          .pid = s->pid,
                          .uptime_seconds = (double)(mono_ns() - s->start_ns) / 1e9,
                          .slots = rd.slots,
                          .path = s->in.hold.path};
    int rc;

    if (rd.slots == NULL)
        return -ENOMEM;
    (void)server_drain(s);
    update_self(s);
    c.totals = (struct debug_totals){.samples = s->in.d->samples_total,
                                     .dropped = s->in.d->dropped_total + s->in.d->noslot_total,
                                     .invalid = drain_invalid_total(s->in.d)};
    if (ingest_run(&s->in, debug_read_cb, &rd) == 0)
        c.nslots = s->in.hold.seg.slots;
    c.attached = !s->in.hold.lost; /* after the reads above, which may lose it */
    c.attaches = s->in.hold.attaches;
    c.lost = s->in.hold.losses;
    r->status = 200;
    r->content_type = "application/json";
    rc = debug_render(&c, &r->body);
    free(rd.slots);
    return rc;
}

static void route_index(struct server *s, struct reply *r)
{
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    buf_printf(&r->body,
               "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>shmetricsd</title>"
               "</head>\n<body><h1>shmetricsd %s</h1>\n<p>Namespace <code>%s</code>.</p>\n<ul>\n"
               "<li><a href=\"metrics\">/metrics</a>: Prometheus text 0.0.4 or OpenMetrics</li>\n"
               "<li><a href=\"debug\">/debug</a>: producers, families and quantiles (JSON)</li>\n"
               "<li><a href=\"healthz\">/healthz</a>: liveness</li>\n</ul></body></html>\n",
               SHMET_VERSION, s->in.hold.ns);
}

int server_handle(struct server *s, const struct http_request *req, struct reply *r)
{
    static const char *const paths[] = {"/metrics", "/debug", "/healthz", "/"};
    int route = -1, rc = 0;

    reply_reset(r);
    for (int i = 0; i < 4; i++)
        if (req->path.n == strlen(paths[i]) && memcmp(req->path.p, paths[i], req->path.n) == 0)
            route = i;
    if (route < 0) {
        reply_error(r, 404);
        return 0;
    }
    if (req->method == HTTP_OTHER) {
        reply_error(r, 405);
        r->allow = "GET, HEAD";
        return 0;
    }
    if (route == 0)
        rc = route_metrics(s, req, r);
    else if (route == 1)
        rc = route_debug(s, r);
    else if (route == 2)
        reply_text(r, 200, "ok\n");
    else
        route_index(s, r);
    if (rc == 0 && buf_failed(&r->body))
        rc = -ENOMEM;
    if (rc < 0)
        reply_error(r, 500);
    return rc;
}
