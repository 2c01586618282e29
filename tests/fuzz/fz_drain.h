/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fz_drain.h - the input of fuzz_drain, for the target and the
 * seed generator: flags, commands. Layout: u8 flags, u8 cap, FZ_CMDS
 * commands, then one slot as fz_seg_lay_slot() takes it (fuzz_drain.c).
 */
#ifndef SHMETRICS_TESTS_FZ_DRAIN_H
#define SHMETRICS_TESTS_FZ_DRAIN_H

#include <stdint.h>

#define FZ_CMDS 16u
#define FZ_CAP_MAX 64u /* the store's series per family: cap % FZ_CAP_MAX + 1 */

enum fz_flag {
    FZ_F_SLOT = 1,   /* the slot the bytes go to */
    FZ_F_MIRROR = 2, /* copy them to the other slot too */
    FZ_F_SANE = 4,   /* keep it drainable: ACTIVE unless DEAD, a generation,
                      * head within one ring of tail */
    FZ_F_CONSTS = 8, /* render with constant labels, one of them clashing */
};

/* A command's what: bits 0-6 this (modulo FZ_NWHAT), bit 7 its slot. */
enum fz_what {
    FZ_NOP,
    FZ_DRAIN,   /* drain_all() */
    FZ_PUSH,    /* append the record {id, op, aux, value} as a producer would */
    FZ_DEFINE,  /* append a DEFINE naming the id % 32-th arena entry, of kind aux (0: its own) */
    FZ_PUBLISH, /* arena_used = value % 8192 (beyond the arena too) */
    FZ_POKE,    /* the arena's 8 bytes at id % 4096, 8-aligned, = value */
    FZ_STATE,   /* state = op, generation = id, as a hostile writer would */
    FZ_GONE,    /* drain_owner_gone() with the slot's generation */
    FZ_CLAIM,   /* a producer claims a free slot, from this one on */
    FZ_FORGET,  /* op odd: drain_rebind(), else drain_forget() */
    FZ_RESTORE, /* drain_restore_gauge(id, value): a checkpoint's gauge */
    FZ_NWHAT,
};

#define FZ_SLOT1 0x80u /* in what: the command is about slot 1 */

struct fz_cmd {
    uint8_t what;
    uint8_t op;
    uint16_t aux;
    uint32_t id;
    uint64_t value; /* a record's 8 bytes: f64 or i64 */
};
_Static_assert(sizeof(struct fz_cmd) == 16, "a command is 16 bytes of input");

#endif /* SHMETRICS_TESTS_FZ_DRAIN_H */
