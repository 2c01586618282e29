/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/watch.c - see watch.h. A pidfd names a process, not a pid
 * number, but it is opened by number: between the producer's claim and
 * pidfd_open() the owner may have died and its pid been reused. So after
 * opening, the process's start time is compared with the one the slot
 * recorded; a mismatch means the owner is gone. When a pidfd fires, each
 * slot is checked again with /proc before it is retired: the slot table is
 * untrusted, and a retire is not undone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ingest/watch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

int watch_init(struct watches *ws, uint32_t slots)
{
    memset(ws, 0, sizeof(*ws));
    ws->slots = slots;
    ws->pid_ns = shmet__pid_ns();
    ws->max = slots * 2 > 64 ? slots * 2 : 64;
    ws->seen_gen = calloc(slots, sizeof(*ws->seen_gen));
    ws->covered = calloc(slots, sizeof(*ws->covered));
    if (ws->seen_gen == NULL || ws->covered == NULL) {
        watch_fini(ws);
        return -ENOMEM;
    }
    return 0;
}

void watch_fini(struct watches *ws)
{
    for (uint32_t i = 0; i < ws->n; i++)
        if (ws->w[i].fd >= 0)
            close(ws->w[i].fd);
    free(ws->w);
    free(ws->seen_gen);
    free(ws->covered);
    memset(ws, 0, sizeof(*ws));
}

int watch_reset(struct watches *ws, uint32_t slots)
{
    uint32_t *seen = calloc(slots, sizeof(*seen));
    bool *covered = calloc(slots, sizeof(*covered));

    free(ws->seen_gen);
    free(ws->covered);
    ws->seen_gen = seen;
    ws->covered = covered;
    ws->uncovered = 0;
    if (seen == NULL || covered == NULL) {
        free(seen);
        free(covered);
        ws->seen_gen = NULL;
        ws->covered = NULL;
        ws->slots = 0; /* the liveness check does it all: watch_uncovered() */
        return -ENOMEM;
    }
    ws->slots = slots;
    ws->max = slots * 2 > 64 ? slots * 2 : 64;
    return 0;
}

/* Slots both we and the drain know: the same, unless a reset failed. */
static uint32_t slots_known(const struct watches *ws, const struct drain *d)
{
    return ws->slots < d->nslots ? ws->slots : d->nslots;
}

static bool find(const struct watches *ws, int32_t pid, uint64_t start_time)
{
    for (uint32_t i = 0; i < ws->n; i++)
        if (ws->w[i].fd >= 0 && ws->w[i].pid == pid && ws->w[i].start_time == start_time)
            return true;
    return false;
}

/* A free entry (reused or appended), or UINT32_MAX. */
static uint32_t entry(struct watches *ws)
{
    uint32_t live = 0;

    for (uint32_t i = 0; i < ws->n; i++) {
        if (ws->w[i].fd < 0)
            return i;
        live++;
    }
    if (live >= ws->max)
        return UINT32_MAX;
    if (ws->n == ws->cap) {
        uint32_t cap = ws->cap ? ws->cap * 2 : 16;
        struct watch *w = realloc(ws->w, cap * sizeof(*w));
        if (w == NULL)
            return UINT32_MAX;
        ws->w = w;
        ws->cap = cap;
    }
    ws->w[ws->n].fd = -1;
    return ws->n++;
}

/* Watch the owner of slot idx. Returns true when it is watched, or was
 * found gone and handled; false when it must rely on the liveness check. */
static bool watch_owner(struct watches *ws, struct drain *d, uint32_t idx, uint32_t gen)
{
    struct shmet_abi_slot *sl = shmet__slot(d->seg, idx);
    /* RELAXED: written before the ACTIVE state, loaded with ACQUIRE by the
     * caller. */
    int32_t pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
    uint64_t start = atomic_load_explicit(&sl->start_time, memory_order_relaxed), now = 0;
    uint32_t e;
    int fd;

    if (pid <= 0)
        return false; /* nonsense: the liveness check will judge it */
    /* tag-slot-lock: an owner holding the lock in another PID namespace
     * (or one we cannot tell) is judged by its lock, at every check. */
    if (shmet__slot_lock_aware(sl, gen) &&
        (ws->pid_ns == 0 || atomic_load_explicit(&sl->pid_ns, memory_order_relaxed) != ws->pid_ns))
        return false;
    if (find(ws, pid, start))
        return true;
    if ((e = entry(ws)) == UINT32_MAX)
        return false;
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        if (errno != ESRCH)
            return false; /* ENOSYS, EPERM, EMFILE: fall back */
        drain_owner_gone(d, idx, gen);
        return true;
    }
    if (shmet__proc_start_time(pid, &now) == 0 && start != 0 && now != start) {
        close(fd); /* the pid now names another process */
        drain_owner_gone(d, idx, gen);
        return true;
    }
    ws->w[e] = (struct watch){.pid = pid, .start_time = start, .fd = fd};
    return true;
}

void watch_scan(struct watches *ws, struct drain *d)
{
    ws->uncovered = 0;
    for (uint32_t i = 0; i < slots_known(ws, d); i++) {
        struct shmet_abi_slot *sl = shmet__slot(d->seg, i);
        /* ACQUIRE: pairs with the RELEASE store of ACTIVE in the claim
         * (libshm/slot.c): pid and start time are written. */
        uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
        uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed);

        if (state != SHMET_SLOT_ACTIVE)
            continue;
        if (ws->seen_gen[i] != gen + 1) {
            ws->seen_gen[i] = gen + 1;
            ws->covered[i] = watch_owner(ws, d, i, gen);
        }
        ws->uncovered += !ws->covered[i];
    }
}

bool watch_next_unarmed(struct watches *ws, uint32_t *index, int *fd)
{
    for (uint32_t i = 0; i < ws->n; i++) {
        if (ws->w[i].fd >= 0 && !ws->w[i].armed) {
            ws->w[i].armed = true;
            *index = i;
            *fd = ws->w[i].fd;
            return true;
        }
    }
    return false;
}

bool watch_take(struct watches *ws, uint32_t index, struct watch *w)
{
    if (index >= ws->n || ws->w[index].fd < 0)
        return false;
    *w = ws->w[index];
    close(w->fd);
    ws->w[index].fd = -1;
    return true;
}

void watch_fired(struct watches *ws, const struct watch *w, struct drain *d)
{
    for (uint32_t i = 0; i < slots_known(ws, d); i++) {
        struct shmet_abi_slot *sl = shmet__slot(d->seg, i);
        /* ACQUIRE/RELAXED: as in watch_scan(). */
        uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
        uint32_t gen = atomic_load_explicit(&sl->generation, memory_order_relaxed);

        if (state != SHMET_SLOT_ACTIVE ||
            atomic_load_explicit(&sl->pid, memory_order_relaxed) != w->pid ||
            atomic_load_explicit(&sl->start_time, memory_order_relaxed) != w->start_time)
            continue;
        ws->seen_gen[i] = 0; /* alive after all (a failed poll): watch again */
        if (shmet__proc_alive(w->pid, w->start_time) == 0)
            drain_owner_gone(d, i, gen);
    }
}
