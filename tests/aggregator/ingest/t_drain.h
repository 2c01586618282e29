/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/t_drain.h - the drain suites' fixture: a client
 * of its own namespace recording into a segment that a drain in this
 * process reads into a store; raw records as a hostile writer would push
 * them; series looked up in the store.
 */
#ifndef SHMETRICS_TESTS_T_DRAIN_H
#define SHMETRICS_TESTS_T_DRAIN_H

#include <stdint.h>

#include <shmetrics.h>

#include "ingest/drain.h"
#include "shm.h"
#include "store/store.h"

struct fixture {
    char ns[64];
    struct shmet_client *c;
    struct shmet__seg seg;
    struct store st;
    struct drain d;
};

/* A namespace of 8 slots with rings of ring records and arenas of arena
 * bytes (0: the default), a client on it, and a drain into a store capped
 * at max_series per family. t_setup(): the default arena, 1000 series. */
void t_setup_with(struct fixture *fx, uint32_t ring, uint32_t arena, uint32_t max_series);
void t_setup(struct fixture *fx, uint32_t ring);
/* Free everything and remove the namespace's files. */
void t_teardown(struct fixture *fx);

/* The series of family fam: its first label's value v0, or the one
 * without labels. */
struct store_series *t_find(struct store *st, const char *fam, const char *v0);

/* Append a raw record to slot idx's ring as a hostile writer would. */
void t_raw_push(struct fixture *fx, uint32_t idx, uint32_t series, uint16_t op, double v);

/* The slot this process's client holds (a failure if none). */
uint32_t t_own_slot(struct fixture *fx);

/* The series of family fam whose labels are exactly the NULL-terminated
 * name, value pairs kv (empty values included). */
struct store_series *t_find_kv(struct store *st, const char *fam, const char *const *kv);

/* A DEFINE record with the given kind (aux) naming arena offset off. */
void t_raw_define(struct fixture *fx, uint32_t idx, uint16_t kind, uint64_t off);

#endif /* SHMETRICS_TESTS_T_DRAIN_H */
