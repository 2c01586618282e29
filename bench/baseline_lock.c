/* SPDX-License-Identifier: MIT */
/*
 * bench/baseline_lock.c - baseline (b), the prometheus-client-c and
 * nginx-vts style: one table of series in a MAP_SHARED mapping, keyed by
 * the series' name and label string, guarded by one process-shared robust
 * mutex. Each sample locks, hashes the key, probes the table, updates the
 * counter or histogram and unlocks.
 *
 * A process that dies holding the mutex leaves it EOWNERDEAD; the next
 * locker marks it consistent and carries on. An entry's key is written
 * before the entry counts as used, so the table survives such a death; at
 * most the one sample the dead process was recording is lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "bench.h"

#define TABLE_CAP 1024 /* entries, a power of two */
#define KEY_MAX 96
#define PREFILL 64 /* other series in the table, as a real server has */

enum { KIND_COUNTER = 1, KIND_HISTOGRAM = 2 };

static const char counter_key[] = "http_requests_total{method=\"GET\",status=\"200\"}";
static const char hist_key[] = "http_request_duration_seconds{method=\"GET\"}";

struct lock_entry {
    char key[KEY_MAX]; /* "" while free */
    uint32_t kind;
    double value; /* counter */
    uint64_t count;
    double sum;
    uint64_t buckets[BENCH_NBOUNDS + 1];
};

struct lock_table {
    pthread_mutex_t mu; /* PROCESS_SHARED, ROBUST */
    uint64_t recovered; /* times the lock came back EOWNERDEAD */
    uint64_t samples;   /* samples recorded */
    struct lock_entry e[TABLE_CAP];
};

/* FNV-1a, 64 bits, over the NUL-terminated key. */
static uint64_t key_hash(const char *k)
{
    uint64_t h = 0xcbf29ce484222325ull;

    while (*k != '\0')
        h = (h ^ (unsigned char)*k++) * 0x100000001b3ull;
    return h;
}

/* Lock; 0 or a negative errno. */
static int table_lock(struct lock_table *t)
{
    int rc = pthread_mutex_lock(&t->mu);

    if (rc == EOWNERDEAD) {
        t->recovered++;
        rc = pthread_mutex_consistent(&t->mu);
    }
    return -rc;
}

/* The entry of key, created if missing; NULL when the table is full, the
 * key too long or the kind differs. Called with the lock held. */
static struct lock_entry *lookup(struct lock_table *t, const char *key, uint32_t kind)
{
    uint64_t h = key_hash(key);

    for (uint32_t i = 0; i < TABLE_CAP; i++) {
        struct lock_entry *e = &t->e[(h + i) & (TABLE_CAP - 1)];
        if (e->key[0] == '\0') {
            size_t len = strlen(key);
            if (len >= KEY_MAX)
                return NULL;
            e->kind = kind;
            /* The first byte last: it is what marks the entry used. */
            memcpy(e->key + 1, key + 1, len);
            e->key[0] = key[0];
            return e;
        }
        if (strcmp(e->key, key) == 0)
            return e->kind == kind ? e : NULL;
    }
    return NULL;
}

static int record(struct lock_table *t, const char *key, uint32_t kind, double v)
{
    struct lock_entry *e;
    int rc = table_lock(t);

    if (rc < 0)
        return rc;
    if ((e = lookup(t, key, kind)) == NULL) {
        pthread_mutex_unlock(&t->mu);
        return -ENOSPC;
    }
    if (kind == KIND_COUNTER) {
        e->value += v;
    } else {
        e->buckets[bench_bucket(v)]++;
        e->count++;
        e->sum += v;
    }
    t->samples++;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

int lock_loop_inc(struct lock_table *t, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int rc = record(t, counter_key, KIND_COUNTER, 1.0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int lock_loop_observe(struct lock_table *t, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++) {
        int rc = record(t, hist_key, KIND_HISTOGRAM, bench_value(i));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int mutex_init(pthread_mutex_t *mu)
{
    pthread_mutexattr_t a;
    int rc;

    if ((rc = pthread_mutexattr_init(&a)) != 0)
        return -rc;
    if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
        (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
        rc = pthread_mutex_init(mu, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

/* Other series, so that probes meet other keys as in a real table. */
static int prefill(struct lock_table *t)
{
    char key[KEY_MAX];

    for (int i = 0; i < PREFILL; i++) {
        snprintf(key, sizeof(key), "http_requests_total{method=\"POST\",status=\"%d\"}", 200 + i);
        if (record(t, key, KIND_COUNTER, 1.0) < 0)
            return -ENOSPC;
    }
    return 0;
}

struct lock_table *lock_table_new(void)
{
    struct lock_table *t =
        mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (t == MAP_FAILED)
        return NULL;
    if (mutex_init(&t->mu) < 0 || prefill(t) < 0) {
        munmap(t, sizeof(*t));
        return NULL;
    }
    t->samples = 0; /* count the measured samples only */
    return t;
}

void lock_table_free(struct lock_table *t)
{
    if (t != NULL) {
        pthread_mutex_destroy(&t->mu);
        munmap(t, sizeof(*t));
    }
}

/* Read under the lock: the loops may have just finished on other threads. */
static uint64_t locked_read(struct lock_table *t, const uint64_t *field)
{
    uint64_t v = 0;

    if (table_lock(t) == 0) {
        v = *field;
        pthread_mutex_unlock(&t->mu);
    }
    return v;
}

uint64_t lock_table_count(struct lock_table *t)
{
    return locked_read(t, &t->samples);
}

uint64_t lock_table_recovered(struct lock_table *t)
{
    return locked_read(t, &t->recovered);
}

int lock_table_owner_death_check(struct lock_table *t)
{
    uint64_t before = lock_table_recovered(t);
    int st;
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* Die holding the lock: the kernel's robust-list walk at exit
         * marks it EOWNERDEAD for the next locker. */
        _exit(pthread_mutex_lock(&t->mu) == 0 ? 0 : 1);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -ECHILD;
    if (table_lock(t) < 0)
        return -ENOTRECOVERABLE;
    pthread_mutex_unlock(&t->mu);
    return lock_table_recovered(t) == before + 1 ? 0 : -EPROTO;
}
