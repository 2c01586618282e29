/* SPDX-License-Identifier: MIT */
/*
 * aggregator/server.c - see server.h. Two consumers draining the same
 * rings would corrupt them (each ring has one consumer by design), so the
 * segment file is held with an exclusive flock() for the process's
 * lifetime; the kernel drops the lock when the process dies, however it
 * dies, so a crashed aggregator never blocks its successor.
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

#include "checkpoint.h"
#include "debug.h"
#include "gzip.h"
#include "negotiate.h"
#include "server.h"

#define SCRATCH_KEEP (4u << 20) /* buffer capacity kept between responses */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- open / close -------------------------------------------------------- */

/* Lock the segment file of s->seg; 0, -EWOULDBLOCK or another -errno. */
static int lock_segment(struct server *s)
{
    char path[512];
    int rc = shmet__seg_path(s->seg.ns, path, sizeof(path));

    if (rc < 0)
        return rc;
    s->lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (s->lock_fd < 0) {
        rc = -errno;
        fprintf(stderr, "shmetricsd: %s: %s\n", path, strerror(errno));
        return rc;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    rc = -errno;
    if (rc == -EWOULDBLOCK) {
        /* RELAXED: only a name for the message. */
        int32_t other = atomic_load_explicit(&s->seg.hdr->aggregator_pid, memory_order_relaxed);
        if (other > 0)
            fprintf(stderr, "shmetricsd: another shmetricsd (pid %d) already serves namespace %s\n",
                    (int)other, s->seg.ns);
        else /* it holds the lock but has not written its pid yet */
            fprintf(stderr, "shmetricsd: another shmetricsd already serves namespace %s\n",
                    s->seg.ns);
    } else {
        fprintf(stderr, "shmetricsd: cannot lock %s: %s\n", path, strerror(-rc));
    }
    return rc;
}

/* Why the segment could not be opened or created, in the operator's words. */
static void open_failed(const struct server_config *cfg, int rc)
{
    const char *ns = shmet__ns_resolve(cfg->ns);
    char path[512], why[1024];

    if (rc == -EPERM && cfg->group != NULL) {
        fprintf(stderr,
                "shmetricsd: namespace %s: cannot give the new segment group %s: only root, "
                "or a member of that group, may\n",
                ns, cfg->group);
    } else if (rc == -EACCES && shmet__seg_path(cfg->ns, path, sizeof(path)) == 0) {
        shmet__access_describe(path, why, sizeof(why));
        fprintf(stderr, "shmetricsd: %s: %s\n", path, why);
    } else {
        fprintf(stderr, "shmetricsd: namespace %s: %s\n", ns, shmet__strerror(rc));
    }
}

/* --mode and --group given for a segment that already existed. */
static void perm_not_applied(const struct server *s, const struct server_config *cfg)
{
    char path[512], group[256];
    struct stat st;

    if ((!cfg->mode_set && cfg->group == NULL) ||
        shmet__seg_path(s->seg.ns, path, sizeof(path)) < 0 || stat(path, &st) < 0)
        return;
    shmet__group_name(st.st_gid, group, sizeof(group));
    fprintf(stderr,
            "shmetricsd: %s already exists: --mode and --group apply only to a segment "
            "shmetricsd creates; it keeps mode %04o and group %s (remove it with shmtool rm "
            "while nothing uses it to start afresh)\n",
            path, (unsigned)(st.st_mode & 07777), group);
}

static int open_segment(struct server *s, const struct server_config *cfg)
{
    int rc = shmet__seg_open_as(cfg->ns, &cfg->geo, SHMET_SEG_CREATE, &cfg->perm, &s->seg);

    if (rc < 0) {
        open_failed(cfg, rc);
        return rc;
    }
    if (s->seg.created)
        printf("created segment for namespace %s (%u slots, %u records, %u arena bytes, "
               "mode %04o)\n",
               s->seg.ns, s->seg.slots, s->seg.ring_records, s->seg.arena_bytes,
               (unsigned)cfg->perm.mode);
    else
        perm_not_applied(s, cfg);
    return 0;
}

static int build_store(struct server *s, const struct server_config *cfg)
{
    int rc;

    if ((rc = store_init(&s->st, cfg->max_series)) < 0)
        return rc;
    s->d = malloc(sizeof(*s->d));
    if (s->d == NULL)
        return -ENOMEM;
    if ((rc = drain_init(s->d, &s->seg, &s->st)) < 0) {
        free(s->d);
        s->d = NULL;
        return rc;
    }
    return self_init(&s->self, &s->st, s->d);
}

/* Counters from the last graceful stop, if any; a bad file is reported
 * and ignored (the store then starts empty, as after a crash). */
static void load_checkpoint(struct server *s, const struct server_config *cfg)
{
    char err[256] = "";
    int rc;

    if (checkpoint_path(cfg->ns, s->state_path, sizeof(s->state_path)) < 0) {
        s->state_path[0] = '\0';
        return;
    }
    rc = checkpoint_load(&s->st, s->state_path, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "shmetricsd: %s: checkpoint ignored: %s\n", s->state_path,
                err[0] ? err : strerror(-rc));
    else if (rc > 0)
        fprintf(stderr, "shmetricsd: restored %d series from %s\n", rc, s->state_path);
}

int server_checkpoint(struct server *s)
{
    int rc;

    if (s->state_path[0] == '\0')
        return -EINVAL;
    (void)server_drain(s);
    rc = checkpoint_save(&s->st, s->state_path);
    if (rc < 0)
        fprintf(stderr, "shmetricsd: %s: cannot write checkpoint: %s\n", s->state_path,
                strerror(-rc));
    return rc;
}

int server_open(struct server *s, const struct server_config *cfg)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->lock_fd = -1;
    s->pid = (int32_t)getpid();
    s->start_ns = mono_ns();
    s->expo.consts = cfg->consts;
    s->expo.nconsts = cfg->nconsts;
    buf_init(&s->scratch);
    if ((rc = open_segment(s, cfg)) < 0)
        return rc;
    if ((rc = lock_segment(s)) < 0)
        goto err_seg;
    /* RELAXED: a report for shmtool and producers; nothing is published
     * through it. We hold the lock, so no other aggregator writes it. */
    atomic_store_explicit(&s->seg.hdr->aggregator_pid, s->pid, memory_order_relaxed);
    server_heartbeat(s);
    if ((rc = build_store(s, cfg)) < 0) {
        fprintf(stderr, "shmetricsd: %s\n", strerror(-rc));
        goto err_seg;
    }
    load_checkpoint(s, cfg);
    (void)server_drain(s); /* what producers wrote while no aggregator ran */
    return 0;
err_seg:
    server_close(s);
    return rc;
}

void server_close(struct server *s)
{
    if (s == NULL)
        return;
    if (s->d != NULL) {
        drain_fini(s->d);
        free(s->d);
        s->d = NULL;
    }
    store_fini(&s->st);
    buf_free(&s->scratch);
    if (s->seg.base != NULL && s->lock_fd >= 0) {
        int32_t mine = s->pid;
        /* RELAXED: as in server_open(); clear only our own mark. */
        atomic_compare_exchange_strong_explicit(&s->seg.hdr->aggregator_pid, &mine, 0,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    shmet__seg_close(&s->seg);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}

uint64_t server_drain(struct server *s)
{
    uint64_t t0 = mono_ns(), n = drain_all(s->d);

    self_observe_drain(&s->self, (double)(mono_ns() - t0) / 1e9);
    return n;
}

void server_heartbeat(struct server *s)
{
    /* RELAXED: a liveness report; readers compare it with their clock. */
    atomic_store_explicit(&s->seg.hdr->heartbeat_ns, shmet__now_ns(), memory_order_relaxed);
}

/* ---- replies ------------------------------------------------------------- */

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void reply_reset(struct reply *r)
{
    struct buf body = r->body;

    if (body.cap > SCRATCH_KEEP)
        buf_free(&body);
    body.len = 0;
    body.failed = false;
    memset(r, 0, sizeof(*r));
    r->body = body;
}

void reply_free(struct reply *r)
{
    buf_free(&r->body);
    memset(r, 0, sizeof(*r));
}

static void text_reply(struct reply *r, int status, const char *text)
{
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    buf_str(&r->body, text);
}

void server_error(struct reply *r, int status)
{
    char text[96];

    reply_reset(r);
    snprintf(text, sizeof(text), "%d %s\n", status, http_reason(status));
    text_reply(r, status, text);
    r->close = status != 404 && status != 405;
}

/* ---- routes -------------------------------------------------------------- */

static int route_metrics(struct server *s, const struct http_request *req, struct reply *r)
{
    enum expo_format fmt = negotiate_format(req->accept, req->naccept);
    bool gz = negotiate_gzip(req->accept_encoding, req->naccept_encoding);
    struct buf *text = gz ? &s->scratch : &r->body;
    uint64_t t0;
    int rc;

    (void)server_drain(s); /* what was recorded before the request is in it */
    self_update(&s->self, &s->st, s->d);
    t0 = mono_ns();
    text->len = 0;
    rc = expo_render(&s->st, fmt, &s->expo, text);
    if (rc == 0 && gz)
        rc = gzip_encode(text->data, text->len, GZIP_LEVEL, &r->body);
    self_observe_scrape(&s->self, (double)(mono_ns() - t0) / 1e9);
    if (s->scratch.cap > SCRATCH_KEEP)
        buf_free(&s->scratch);
    if (rc < 0)
        return rc;
    r->status = 200;
    r->content_type = expo_content_type(fmt);
    r->content_encoding = gz ? "gzip" : NULL;
    r->vary = true;
    return 0;
}

static int route_debug(struct server *s, struct reply *r)
{
    struct debug_ctx c = {.seg = &s->seg,
                          .st = &s->st,
                          .d = s->d,
                          .pid = s->pid,
                          .uptime_seconds = (double)(mono_ns() - s->start_ns) / 1e9};

    (void)server_drain(s);
    self_update(&s->self, &s->st, s->d);
    r->status = 200;
    r->content_type = "application/json";
    return debug_render(&c, &r->body);
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
               SHMET_VERSION, s->seg.ns);
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
        server_error(r, 404);
        return 0;
    }
    if (req->method == HTTP_OTHER) {
        server_error(r, 405);
        r->allow = "GET, HEAD";
        return 0;
    }
    if (route == 0)
        rc = route_metrics(s, req, r);
    else if (route == 1)
        rc = route_debug(s, r);
    else if (route == 2)
        text_reply(r, 200, "ok\n");
    else
        route_index(s, r);
    if (rc == 0 && buf_failed(&r->body))
        rc = -ENOMEM;
    if (rc < 0)
        server_error(r, 500);
    return rc;
}
