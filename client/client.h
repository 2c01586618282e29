/* SPDX-License-Identifier: MIT */
/*
 * client/client.h - private state of libshmetrics: clients (client.c),
 * families (family.c), series (series.c) and per-thread producers
 * (producer.c). Locking: the registry lock (client.c) before a client's
 * lock; the hot path takes neither.
 */
#ifndef SHMETRICS_CLIENT_CLIENT_H
#define SHMETRICS_CLIENT_CLIENT_H

#include <pthread.h>
#include <stdbool.h>

#include "../libshm/shm.h"

#define SERIES_MAX (1u << 24) /* series per client */
#define FAMILIES_MAX 65536u

struct shmet_family {
    struct shmet_client *c;
    uint32_t id;
    uint8_t type;
    uint8_t gauge_mode;
    uint16_t nlabels;
    uint32_t nbounds;
    uint32_t overflow; /* series id of the __overflow__ series */
    char *name;
    char *help;
    char **labels;
    double *bounds;
};

struct series_rec {
    uint32_t family;
    uint32_t vlen;  /* bytes of values, NUL-separated */
    uint64_t hash;
    char *values;   /* nlabels NUL-terminated strings back to back */
};

/* A thread's producer for one client. pub must stay first: shmet__tls
 * holds &pub. Touched only by its thread, or under the locks by close and
 * fork. */
struct producer {
    struct shmet__producer pub;
    struct shmet_client *c; /* valid while !closed */
    struct producer *next;  /* client's list */
    uint64_t *defined;      /* same as pub.defined, writable */
    uint64_t *fam_defined;
    uint32_t fam_bits;
    uint32_t slot;
    uint32_t slot_gen;
    bool has_slot;
    bool closed;       /* client closed; free on next touch */
    uint32_t noslot_countdown;
    uint64_t defines;       /* private copy of slot->defines */
    uint64_t arena_dropped; /* private copy of slot->arena_dropped */
};

struct shmet_client {
    struct shmet__seg seg;
    pthread_mutex_t lock;
    uint8_t idx;
    uint16_t gen;
    uint64_t key[2]; /* hash key */
    struct shmet_family **families;
    uint32_t nfamilies, families_cap;
    struct series_rec *series;
    uint32_t nseries, series_cap;
    uint32_t *table; /* open addressing: series id + 1, 0 = empty */
    uint32_t table_cap;
    struct producer *producers;
};

/* client.c */
extern pthread_mutex_t shmet__registry_lock;
struct shmet_client *shmet__registry_get(uint8_t idx, uint16_t gen);

/* client.c: the detail shmet_last_error() returns. shmet__fail() formats
 * it for the calling thread and returns rc, so that a failing setup call
 * ends with `return shmet__fail(-EINVAL, "...", ...);`. shmet__quote()
 * copies a user string into buf (SHMET__QUOTE_BUF bytes), cut to
 * SHMET__QUOTE_MAX bytes at a UTF-8 boundary with "..." marking the cut. */
#define SHMET__ERROR_MAX 512u
#define SHMET__QUOTE_MAX 64u
#define SHMET__QUOTE_BUF (SHMET__QUOTE_MAX + 4u)
int shmet__fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *shmet__quote(const char *s, char *buf);

/* family.c */
void shmet__family_free(struct shmet_family *f);

/* series.c */
int shmet__series_intern(struct shmet_client *c, struct shmet_family *f,
                         const char *const *values, uint32_t *id);
void shmet__series_free_all(struct shmet_client *c);
const char *shmet__series_value(const struct series_rec *r, uint16_t i);

/* producer.c */
void shmet__producers_close(struct shmet_client *c);
void shmet__producers_forget(struct shmet_client *c);
void shmet__producer_exit_init(void);

#endif /* SHMETRICS_CLIENT_CLIENT_H */
