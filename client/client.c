/* SPDX-License-Identifier: MIT */
/*
 * client/client.c - opening and closing clients, the process-wide registry
 * of open clients (index and generation, which series handles carry), and
 * fork handling: a child keeps every family and series but none of the
 * parent's slots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

pthread_mutex_t shmet__registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shmet_client *registry[SHMET_MAX_CLIENTS];
static uint16_t registry_gen[SHMET_MAX_CLIENTS];
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Caller holds the registry lock. */
struct shmet_client *shmet__registry_get(uint8_t idx, uint16_t gen)
{
    struct shmet_client *c = registry[idx % SHMET_MAX_CLIENTS];

    return (c != NULL && c->gen == gen) ? c : NULL;
}

/* fork(): hold every lock across it so the child sees consistent tables. */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&shmet__registry_lock);
    for (int i = 0; i < SHMET_MAX_CLIENTS; i++)
        if (registry[i] != NULL)
            pthread_mutex_lock(&registry[i]->lock);
}

static void atfork_parent(void)
{
    for (int i = SHMET_MAX_CLIENTS - 1; i >= 0; i--)
        if (registry[i] != NULL)
            pthread_mutex_unlock(&registry[i]->lock);
    pthread_mutex_unlock(&shmet__registry_lock);
}

/* The child owns none of the parent's slots: forget (not retire) every
 * producer, so that its first record claims a fresh slot. Its copy of the
 * segment descriptor still shares the parent's open file description, and
 * with it the parent's slot locks (tag-slot-lock): the child takes a
 * description of its own, so that it neither keeps a dead parent's slots
 * locked nor has its own locks outlive it in the parent. */
static void atfork_child(void)
{
    for (int i = SHMET_MAX_CLIENTS - 1; i >= 0; i--) {
        if (registry[i] == NULL)
            continue;
        shmet__producers_forget(registry[i]);
        shmet__seg_lock_fd_reopen(&registry[i]->seg);
        pthread_mutex_unlock(&registry[i]->lock);
    }
    pthread_mutex_unlock(&shmet__registry_lock);
}

static void atfork_init(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    shmet__producer_exit_init();
}

static void seed_key(uint64_t key[2])
{
    if (getrandom(key, 2 * sizeof(uint64_t), GRND_NONBLOCK) != 2 * sizeof(uint64_t)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        key[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)key;
    }
}

static int registry_add(struct shmet_client *c)
{
    int rc = -EMFILE;

    pthread_mutex_lock(&shmet__registry_lock);
    for (uint8_t i = 0; i < SHMET_MAX_CLIENTS; i++) {
        if (registry[i] != NULL)
            continue;
        if (++registry_gen[i] == 0)
            registry_gen[i] = 1; /* 0 marks an invalid series */
        c->idx = i;
        c->gen = registry_gen[i];
        registry[i] = c;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&shmet__registry_lock);
    return rc;
}

/* Why shmet__geometry_check() refused g, for shmet_last_error(). */
static int geometry_fail(const struct shmet__geometry *g)
{
    if (g->slots < SHMET_SLOTS_MIN || g->slots > SHMET_SLOTS_MAX)
        return shmet__fail(-EINVAL, "slots is %u, must be %u to %u", (unsigned)g->slots,
                           SHMET_SLOTS_MIN, SHMET_SLOTS_MAX);
    if (g->ring_records < SHMET_RING_MIN || g->ring_records > SHMET_RING_MAX ||
        (g->ring_records & (g->ring_records - 1)) != 0)
        return shmet__fail(-EINVAL, "ring_records is %u, must be a power of two from %u to %u",
                           (unsigned)g->ring_records, SHMET_RING_MIN, SHMET_RING_MAX);
    if (g->arena_bytes < SHMET_ARENA_MIN || g->arena_bytes > SHMET_ARENA_MAX ||
        g->arena_bytes % 64 != 0)
        return shmet__fail(-EINVAL, "arena_bytes is %u, must be a multiple of 64 from %u to %u",
                           (unsigned)g->arena_bytes, SHMET_ARENA_MIN, SHMET_ARENA_MAX);
    return shmet__fail(-EINVAL, "%u slots of %u records and %u arena bytes exceed 64 GiB",
                       (unsigned)g->slots, (unsigned)g->ring_records, (unsigned)g->arena_bytes);
}

/* Why shmet_open() could not open the segment of ns. */
static int open_fail(int rc, const char *ns)
{
    char q[SHMET__QUOTE_BUF];

    if (rc == -EMFILE)
        return shmet__fail(rc, "at most %d clients may be open in a process", SHMET_MAX_CLIENTS);
    return shmet__fail(rc, "namespace '%s': %s", shmet__quote(ns, q), shmet__strerror(rc));
}

SHMET_EXTERN int shmet_open(const struct shmet_options *opt, struct shmet_client **out)
{
    struct shmet_options o = {0};
    struct shmet__geometry g;
    struct shmet_client *c;
    char q[SHMET__QUOTE_BUF];
    const char *ns;
    int rc;

    if (out == NULL)
        return shmet__fail(-EINVAL, "out is NULL");
    if (opt != NULL)
        o = *opt;
    g.slots = o.slots ? o.slots : SHMET_DEFAULT_SLOTS;
    g.ring_records = o.ring_records ? o.ring_records : SHMET_DEFAULT_RING_RECORDS;
    g.arena_bytes = o.arena_bytes ? o.arena_bytes : SHMET_DEFAULT_ARENA_BYTES;
    if (shmet__geometry_check(&g) < 0)
        return geometry_fail(&g);
    ns = shmet__ns_resolve(o.ns);
    if (shmet__ns_check(ns) < 0)
        return shmet__fail(-EINVAL, "namespace '%s'%s must be 1 to %d of [A-Za-z0-9_.-]",
                           shmet__quote(ns, q), o.ns == NULL ? " (from $" SHMET_NS_ENV ")" : "",
                           SHMET_NS_MAX);
    pthread_once(&atfork_once, atfork_init);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return shmet__fail(-ENOMEM, "out of memory");
    rc = shmet__seg_open(o.ns, &g, SHMET_SEG_CREATE, SHMET_MODE_DEFAULT, &c->seg);
    if (rc < 0)
        goto err_alloc;
    pthread_mutex_init(&c->lock, NULL);
    seed_key(c->key);
    rc = registry_add(c);
    if (rc < 0)
        goto err_seg;
    *out = c;
    return 0;

err_seg:
    pthread_mutex_destroy(&c->lock);
    shmet__seg_close(&c->seg);
err_alloc:
    free(c);
    return open_fail(rc, ns);
}

SHMET_EXTERN void shmet_close(struct shmet_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&shmet__registry_lock);
    registry[c->idx] = NULL;
    pthread_mutex_lock(&c->lock);
    shmet__producers_close(c);
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&shmet__registry_lock);

    for (uint32_t i = 0; i < c->nfamilies; i++)
        shmet__family_free(c->families[i]);
    free(c->families);
    shmet__series_free_all(c);
    shmet__seg_close(&c->seg);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

SHMET_EXTERN int shmet_aggregator_attached(const struct shmet_client *c)
{
    if (c == NULL)
        return -EINVAL;
    return shmet__aggregator_live(c->seg.hdr, shmet__now_ns()) ? 1 : 0;
}

SHMET_EXTERN int shmet_aggregator_address(const struct shmet_client *c, char *buf, size_t len)
{
    struct shmet__endpoint e;
    int rc;

    if (c == NULL || buf == NULL || len == 0)
        return -EINVAL;
    if (!shmet__aggregator_live(c->seg.hdr, shmet__now_ns()))
        return -ENOENT;
    rc = shmet__endpoint_read(c->seg.hdr, &e);
    if (rc < 0)
        return rc == -ENOENT ? -ENOENT : -EAGAIN;
    return shmet__endpoint_format(&e, buf, len);
}

SHMET_EXTERN const char *shmet_strerror(int err)
{
    return shmet__strerror(err);
}

/* ---- shmet_last_error ----------------------------------------------------
 * Each thread's detail lives in a heap buffer under a pthread key, freed
 * when the thread exits. Not a _Thread_local array: the library's static
 * TLS (shmet__tls) must stay small enough for dlopen (ctypes, Python). */
static pthread_once_t error_once = PTHREAD_ONCE_INIT;
static pthread_key_t error_key;
static bool error_key_ok;
static const char error_nomem[] = "out of memory (no room for the detail of this error)";

static void error_free(void *p)
{
    if (p != error_nomem)
        free(p);
}

static void error_init(void)
{
    error_key_ok = pthread_key_create(&error_key, error_free) == 0;
}

int shmet__fail(int rc, const char *fmt, ...)
{
    char *buf;
    va_list ap;

    pthread_once(&error_once, error_init);
    if (!error_key_ok)
        return rc;
    buf = pthread_getspecific(error_key);
    if (buf == NULL || buf == error_nomem) {
        buf = malloc(SHMET__ERROR_MAX);
        if (buf == NULL || pthread_setspecific(error_key, buf) != 0) {
            free(buf);
            (void)pthread_setspecific(error_key, error_nomem);
            return rc;
        }
    }
    va_start(ap, fmt);
    vsnprintf(buf, SHMET__ERROR_MAX, fmt, ap);
    va_end(ap);
    return rc;
}

const char *shmet__quote(const char *s, char *buf)
{
    size_t n = strnlen(s, SHMET__QUOTE_MAX + 1);

    if (n <= SHMET__QUOTE_MAX) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    n = SHMET__QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* s[n] continues a character: cut before the character */
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

SHMET_EXTERN const char *shmet_last_error(void)
{
    const char *p = NULL;

    pthread_once(&error_once, error_init);
    if (error_key_ok)
        p = pthread_getspecific(error_key);
    return p != NULL ? p : "";
}
