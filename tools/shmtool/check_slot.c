/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/check_slot.c - the checks of one slot for "shmtool check":
 * its control block (state, owner, generation, ring indexes, arena size)
 * and the records waiting in its ring. The arena's entries are checked in
 * check_defs.c.
 *
 * The slot may be in use while we read it. The control block comes from a
 * snapshot that reads head, then tail, then head again (seg.c), so the
 * relations checked here hold for any sane slot however producer and
 * consumer move. Ring records are judged only if the consumer did not move
 * while we read them: then the producer cannot have reused them.
 */
#include <stdarg.h>
#include <string.h>

#include "shmtool.h"

#define RING_CHUNK 512u /* records copied out per step */
#define RING_LIST 20u   /* ring findings kept for the report */

/* Ring findings, held back until we know the records were stable. */
struct ring_findings {
    char msg[RING_LIST][200];
    unsigned n;     /* kept */
    unsigned total; /* found */
};

static void ring_note(struct ring_findings *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ring_note(struct ring_findings *f, const char *fmt, ...)
{
    va_list ap;

    f->total++;
    if (f->n == RING_LIST)
        return;
    va_start(ap, fmt);
    vsnprintf(f->msg[f->n++], sizeof(f->msg[0]), fmt, ap);
    va_end(ap);
}

/* A claim in progress: normal for a moment, stuck if the claimer died. */
static void check_claiming(const struct shmet__slot_snap *sn, struct report *r)
{
    if (sn->pid > 0 && sn->alive == 0)
        problem(r, SEV_WARNING, "stale: stuck in claiming state, claimer pid %d is gone", sn->pid);
}

static void check_owner(const struct shmet__slot_snap *sn, struct report *r)
{
    const char *state = shmet__slot_state_name(sn->state);

    if (sn->generation == 0)
        problem(r, SEV_ERROR, "generation 0 on %s %s slot (0 means never claimed)",
                state[0] == 'a' ? "an" : "a", state);
    if (sn->pid <= 0)
        problem(r, SEV_ERROR, "owner pid %d is not a valid pid", sn->pid);
    if (sn->tid <= 0)
        problem(r, SEV_ERROR, "owner tid %d is not a valid thread id", sn->tid);
    if (sn->state == SHMET_SLOT_ACTIVE && sn->pid > 0 && sn->alive == 0)
        problem(r, SEV_WARNING,
                "stale: owner pid %d (tid %d) is gone; the aggregator frees the slot when it "
                "notices",
                sn->pid, sn->tid);
    if (sn->flags & SHMET_SLOT_F_QUARANTINED)
        problem(r, SEV_WARNING, "flagged quarantined (flags bit 0x1), which no shmetricsd sets: "
                            "something else wrote the control block");
}

static void check_counters(const struct shmet__seg *s, const struct shmet__slot_snap *sn, struct report *r)
{
    if (sn->tail > sn->head_after)
        problem(r, SEV_ERROR, "head %llu is behind tail %llu", (unsigned long long)sn->head_after,
                (unsigned long long)sn->tail);
    else if (sn->head >= sn->tail && sn->head - sn->tail > s->ring_records)
        problem(r, SEV_ERROR,
                "ring holds %llu records, more than its capacity %u (head %llu, "
                "tail %llu)",
                (unsigned long long)(sn->head - sn->tail), s->ring_records,
                (unsigned long long)sn->head, (unsigned long long)sn->tail);
    if (sn->defines > sn->head_after)
        problem(r, SEV_ERROR, "%llu DEFINE records counted, but only %llu records published",
                (unsigned long long)sn->defines, (unsigned long long)sn->head_after);
    if (sn->arena_used > s->arena_bytes)
        problem(r, SEV_ERROR, "arena_used %llu is beyond the arena (%u bytes)",
                (unsigned long long)sn->arena_used, s->arena_bytes);
    else if (sn->arena_used % 8 != 0)
        problem(r, SEV_ERROR, "arena_used %llu is not a multiple of 8",
                (unsigned long long)sn->arena_used);
}

/* Control block checks; true when the slot's contents are worth checking
 * (it is active or dead). */
static bool check_fields(const struct shmet__seg *s, const struct shmet__slot_snap *sn, struct report *r)
{
    if (sn->state > SHMET_SLOT_DEAD) {
        problem(r, SEV_ERROR, "state %u is not a valid state", sn->state);
        return false;
    }
    if (sn->state == SHMET_SLOT_FREE)
        return false; /* what a former owner left is read by nobody */
    if (sn->state == SHMET_SLOT_CLAIMING) {
        check_claiming(sn, r);
        return false; /* being reset by the claimer */
    }
    check_owner(sn, r);
    check_counters(s, sn, r);
    return true;
}

/* Binary searches by offset; fam[] and ser[] are in arena order. */
static bool family_at(const struct defs *d, uint64_t off, uint32_t id)
{
    size_t lo = 0, hi = d->nfam;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->fam[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nfam && d->fam[lo].off == off && d->fam[lo].id == id;
}

static bool series_at(const struct defs *d, uint64_t off, uint32_t id)
{
    size_t lo = 0, hi = d->nser;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->ser[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nser && d->ser[lo].off == off && d->ser[lo].id == id;
}

static void check_define(const struct defs *d, uint64_t at, const struct shmet_abi_record *rec,
                         struct ring_findings *f)
{
    uint64_t off = (uint64_t)rec->value.i;
    const char *kind = rec->aux == SHMET_DEF_FAMILY ? "family" : "series";
    bool ok;

    if (rec->aux != SHMET_DEF_FAMILY && rec->aux != SHMET_DEF_SERIES) {
        ring_note(f, "record %llu: DEFINE of kind %u, neither family nor series",
                  (unsigned long long)at, rec->aux);
        return;
    }
    ok = rec->aux == SHMET_DEF_FAMILY ? family_at(d, off, rec->series)
                                      : series_at(d, off, rec->series);
    /* An invalid entry or an unread arena is reported already. */
    if (!ok && d->nbad == 0 && !d->stopped)
        ring_note(f,
                  "record %llu: DEFINE of %s %u points at offset %llu, where no such "
                  "definition starts",
                  (unsigned long long)at, kind, rec->series, (unsigned long long)off);
}

static void check_record(const struct defs *d, uint64_t at, const struct shmet_abi_record *rec,
                         struct ring_findings *f)
{
    if (rec->op == SHMET_OP_DEFINE)
        check_define(d, at, rec, f);
    else if (rec->op < SHMET_OP_COUNTER_ADD || rec->op > SHMET_OP_OBSERVE)
        ring_note(f, "record %llu: op %u is not a valid op", (unsigned long long)at, rec->op);
    else if (defs_series(d, rec->series) == NULL && d->nbad == 0 && !d->stopped)
        ring_note(f, "record %llu: series %u is not defined in the arena", (unsigned long long)at,
                  rec->series);
}

/* Records [from, to) (at most one ring), copied out a chunk at a time. */
static void scan(const struct shmet__seg *s, uint32_t idx, uint64_t from, uint64_t to,
                 const struct defs *d, struct ring_findings *f)
{
    const struct shmet_abi_record *ring = shmet__slot_ring(s, idx);
    struct shmet_abi_record buf[RING_CHUNK];
    uint64_t mask = s->ring_records - 1;

    for (uint64_t i = from; i < to;) {
        uint64_t n = to - i, room = s->ring_records - (i & mask);
        if (n > RING_CHUNK)
            n = RING_CHUNK;
        if (n > room)
            n = room;
        memcpy(buf, &ring[i & mask], (size_t)n * sizeof(buf[0]));
        for (uint64_t k = 0; k < n; k++)
            check_record(d, i + k, &buf[k], f);
        i += n;
    }
}

/*
 * check_ring - the records published and not yet consumed, [tail, head)
 * of the snapshot (head read first, so they are complete; the arena was
 * loaded after head, so every definition they name is in d).
 */
void check_ring(const struct shmet__seg *s, uint32_t idx, const struct shmet__slot_snap *sn,
                const struct defs *d, struct report *r)
{
    struct ring_findings f = {.n = 0};
    uint64_t tail;

    if (sn->head <= sn->tail || sn->head - sn->tail > s->ring_records)
        return; /* empty, or already reported */
    scan(s, idx, sn->tail, sn->head, d, &f);
    /* ACQUIRE fence: our copies of the records happen before the re-read
     * of tail below (the seqlock reader pattern). An unchanged tail means
     * the consumer released none of them, so the producer reused none. */
    atomic_thread_fence(memory_order_acquire);
    /* RELAXED: ordered by the fence above. */
    tail = atomic_load_explicit(&shmet__slot(s, idx)->tail, memory_order_relaxed);
    if (tail != sn->tail || shmet__slot_generation(s, idx) != sn->generation)
        return;
    for (unsigned i = 0; i < f.n; i++)
        problem(r, SEV_ERROR, "%s", f.msg[i]);
    r->errors += f.total - f.n;
    r->hidden_slot += f.total - f.n;
}

void check_slot(const struct shmet__seg *s, uint32_t idx, struct report *r)
{
    struct shmet__slot_snap sn;
    struct defs d;

    report_slot(r, idx);
    shmet__slot_snapshot(s, idx, true, &sn);
    if (check_fields(s, &sn, r)) {
        /* Contents: the arena and the ring of one owner, read together. */
        if (!defs_load_slot(s, idx, &sn, &d))
            problem(r, SEV_WARNING, "changed owner again and again while being read; skipped");
        else if (sn.state == SHMET_SLOT_ACTIVE || sn.state == SHMET_SLOT_DEAD) {
            check_defs(s, &d, r);
            check_ring(s, idx, &sn, &d, r);
        }
        defs_free(&d);
    }
    report_slot_end(r);
}
