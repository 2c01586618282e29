/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_drain.c - libFuzzer target for the aggregator's drain
 * (aggregator/ingest/drain.c), which turns slot bytes nobody vouches for
 * into store updates: record validation, DEFINE records and the arena
 * offset they name, series binding, several definitions of one family,
 * the cardinality cap and the __overflow__ placeholder, gauge
 * contributions, histograms. A two-slot segment of real geometry is built
 * in a heap block of exactly its size; the input is laid over one slot
 * (and, when asked, copied to the other: a second worker of the same
 * program); then up to 16 commands drain, append records, publish or
 * rewrite arena bytes, set a slot's state, give up a dead owner, claim a
 * slot anew or forget every slot, and a last drain runs. Checked for any
 * input: every record the ring consumer hands the drain is counted once
 * (applied, a DEFINE, or refused), the cap and the placeholder hold, no
 * label set is served twice, the exposition renders, and every gauge
 * contribution leaves with its slot; ASan, UBSan and LeakSanitizer watch
 * the rest.
 *
 * Input: u8 flags, u8 cap, 16 commands of 16 bytes, then 256 bytes of slot
 * control block, 1024 bytes of ring (64 records) and up to 4096 bytes of
 * arena. Missing bytes are zero (a zero command does nothing).
 *   flags: bit 0, the slot the bytes go to; bit 1, copy them to the other
 *          slot too; bit 2, keep the slot drainable (ACTIVE unless DEAD, a
 *          generation, head within one ring of tail), the other fields as
 *          given; bit 3, render with constant labels, one of them clashing.
 *   cap:   the store's series per family, cap % 64 + 1.
 *   command: u8 what (bits 0-6 an enum fz_what, modulo FZ_NWHAT; bit 7
 *          the slot), u8 op, u16 aux, u32 id, u64 value; fz_drain.h says
 *          what each does with them.
 *
 * Deterministic and without a syscall per input: the segment has no file,
 * so a slot lock is never taken (a lock-aware slot is judged as without
 * one) and owners are never looked up in /proc (liveness is not asked;
 * drain_owner_gone() is what a failed check calls); logging is off but for
 * errors; the store's hash key is fixed.
 *
 * Linked with -Wl,--wrap=shmet__ring_consume: the wrapper sees each record
 * the drain is handed, which is what its totals are checked against.
 */
#include <stdlib.h>
#include <string.h>

#include "fz_drain.h"
#include "fz_seg.h"
#include "ingest/drain.h"
#include "log.h"
#include "render/expo.h"
#include "shm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_shmet__ring_consume(struct shmet__ring_consumer *c, struct shmet_abi_record *out,
                               size_t max);
int __wrap_shmet__ring_consume(struct shmet__ring_consumer *c, struct shmet_abi_record *out,
                               size_t max);

struct fz {
    struct shmet__seg seg;
    struct store st;
    struct drain d; /* 64 KiB of definition buffer: not on the stack */
};

/* What the ring consumer handed the drain, each record once. */
static struct {
    uint64_t samples;  /* records of a sample op */
    uint64_t observes; /* of them, OBSERVE */
    uint64_t defines;  /* DEFINE records */
    uint64_t bad_ops;  /* an unknown op, or a DEFINE of no kind */
    uint64_t resyncs;  /* head not within one ring of tail */
} g_seen;

static struct fz g_fz;
static struct store g_blank; /* as store_init() leaves a store, with a fixed key */
static uint8_t g_defbuf[SHMET_DEF_MAX] __attribute__((aligned(8)));

int __wrap_shmet__ring_consume(struct shmet__ring_consumer *c, struct shmet_abi_record *out,
                               size_t max)
{
    int n = __real_shmet__ring_consume(c, out, max);

    g_seen.resyncs += n == -EBADMSG;
    for (int i = 0; i < n; i++) {
        uint16_t op = out[i].op;
        if (op == SHMET_OP_DEFINE) {
            g_seen.defines++;
            g_seen.bad_ops += out[i].aux != SHMET_DEF_FAMILY && out[i].aux != SHMET_DEF_SERIES;
        } else if (op < SHMET_OP_COUNTER_ADD || op > SHMET_OP_OBSERVE) {
            g_seen.bad_ops++;
        } else {
            g_seen.samples++;
            g_seen.observes += op == SHMET_OP_OBSERVE;
        }
    }
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    /* One getrandom() for the run, not one per input: store_init() makes
     * no allocation, so a copy of its result is a store just made. */
    if (store_init(&g_blank, 1) != 0 || g_blank.families != NULL || g_blank.table != NULL)
        abort();
    g_blank.key[0] = UINT64_C(0x0706050403020100);
    g_blank.key[1] = UINT64_C(0x0f0e0d0c0b0a0908);
    return 0;
}

/* ---- the drain's totals ------------------------------------------------ */

/* Each DEFINE is counted as one, each unknown op refused as one, each
 * resync refused once. A sample record is applied or refused exactly
 * once: refused for its op, value or unknown id (reasons only records
 * have), or for its id's refused definition (reasons definitions share,
 * so those bound it from above only). */
static void check_counts(const struct drain *d)
{
    const uint64_t *inv = d->invalid;
    uint64_t own = inv[INV_UNKNOWN_SERIES] + inv[INV_TYPE_MISMATCH] + inv[INV_BAD_VALUE];
    uint64_t shared = inv[INV_BAD_DEFINITION] + inv[INV_FAMILY_CONFLICT] + inv[INV_RESERVED_VALUE] +
                      inv[INV_DEFINITION_LIMIT];
    uint64_t samples = 0, dropped = 0;

    if (d->defines != g_seen.defines || inv[INV_BAD_OP] != g_seen.bad_ops ||
        inv[INV_RING_CORRUPT] != g_seen.resyncs)
        abort();
    if (d->samples_total + own > g_seen.samples || g_seen.samples > d->samples_total + own + shared)
        abort();
    for (uint32_t i = 0; i < d->ncounted; i++) {
        samples += d->slot_samples[i];
        dropped += d->slot_dropped[i];
    }
    if (samples != d->samples_total || dropped != d->dropped_total || d->active > d->nslots)
        abort();
}

/* ---- the store --------------------------------------------------------- */

/* A label set as Prometheus reads it: the pairs with a non-empty value. */
static uint32_t pairs(const struct store_series *s)
{
    uint32_t n = 0;

    for (uint16_t i = 0; i < s->def->nlabels; i++)
        n += s->lens[i] > 0;
    return n;
}

static bool has_pair(const struct store_series *s, const char *name, const char *v, uint32_t len)
{
    for (uint16_t i = 0; i < s->def->nlabels; i++)
        if (s->lens[i] == len && strcmp(s->def->labels[i], name) == 0 &&
            memcmp(s->values[i], v, len) == 0)
            return true;
    return false;
}

static bool same_label_set(const struct store_series *a, const struct store_series *b)
{
    if (pairs(a) != pairs(b))
        return false;
    for (uint16_t i = 0; i < a->def->nlabels; i++)
        if (a->lens[i] > 0 && !has_pair(b, a->def->labels[i], a->values[i], a->lens[i]))
            return false;
    return true;
}

struct fz_totals {
    uint64_t series, observed, contribs, conflicts, folded_samples, mismatch_samples;
};

/* One series: its own values (no NUL inside, never the reserved value
 * unless it is the placeholder) and its numbers. */
static void check_series(const struct store_family *f, const struct store_series *s,
                         struct fz_totals *t)
{
    uint64_t in_buckets = 0;

    if (s->fam != f || s->def->fam != f)
        abort();
    for (uint16_t i = 0; i < s->def->nlabels; i++)
        if (strlen(s->values[i]) != s->lens[i] ||
            (!s->overflow && strcmp(s->values[i], SHMET_OVERFLOW_VALUE) == 0))
            abort();
    if (f->type == SHMET_TYPE_HISTOGRAM) {
        for (uint32_t i = 0; i <= s->def->nbounds; i++)
            in_buckets += s->v.h.buckets[i];
        if (in_buckets != s->v.h.count)
            abort();
        t->observed += s->v.h.count;
    } else if (f->type == SHMET_TYPE_GAUGE) {
        for (uint32_t i = 0; i < s->v.g.ncontribs; i++)
            if (s->v.g.contribs[i]->series != s || s->v.g.contribs[i]->index != i)
                abort();
        t->contribs += s->v.g.ncontribs;
    } else if (!(s->v.counter >= 0)) {
        abort();
    }
}

/* Its definitions in order, one placeholder at most, and no more label
 * sets than the cap lets in: a new non-empty one only below it, and the
 * empty one (a family without labels has it) once. */
static void check_family(struct store *st, const struct store_family *f, struct fz_totals *t)
{
    uint32_t made = 0, placeholders = 0, labelled = 0;

    if (f->type < SHMET_TYPE_COUNTER || f->type > SHMET_TYPE_HISTOGRAM || f->ndefs == 0 ||
        f->ndefs > STORE_DEFS_MAX || f->cur->fam != f ||
        store_family_find(st, f->name, strlen(f->name)) != f)
        abort();
    for (uint32_t i = 0; i < f->ndefs; i++) {
        if (f->defs[i]->index != i || f->defs[i]->fam != f)
            abort();
        made += f->defs[i]->nseries;
    }
    for (uint32_t i = 0; i < f->nseries; i++) {
        const struct store_series *s = f->series[i];
        check_series(f, s, t);
        placeholders += s->overflow;
        labelled += !s->overflow && pairs(s) > 0;
        for (uint32_t j = 0; j < i && !s->overflow; j++)
            if (!f->series[j]->overflow && same_label_set(s, f->series[j]))
                abort();
    }
    if (placeholders != (f->overflow != NULL) || (f->overflow != NULL && !f->overflow->overflow) ||
        made != store_family_series(f) || labelled > st->max_series || made > st->max_series + 1)
        abort();
    for (uint8_t k = SHMET_TYPE_COUNTER; k <= SHMET_TYPE_HISTOGRAM; k++)
        if (f->conflicts[k] != NULL)
            t->conflicts += f->conflicts[k]->definitions + f->conflicts[k]->records;
    t->series += made;
    t->folded_samples +=
        f->overflow_samples[STORE_FOLD_ARENA] + f->overflow_samples[STORE_FOLD_CARDINALITY];
    t->mismatch_samples += f->mismatch_samples;
}

static void count_gauge(void *ctx, const struct drain_owner *o, uint32_t id, double value)
{
    (void)id;
    (void)value;
    if (o->idx >= FZ_SLOTS)
        abort();
    ++*(uint64_t *)ctx;
}

/* The store as a whole, and against the drain's totals: every refusal for
 * a family conflict is counted in the family's conflict record, and what
 * reached a series is no more than the drain applied. */
static void check_store(struct fz *z)
{
    struct fz_totals t = {0};
    uint64_t live = 0;

    for (uint32_t i = 0; i < z->st.nfamilies; i++)
        check_family(&z->st, z->st.families[i], &t);
    if (t.series != z->st.nseries || t.conflicts != z->d.invalid[INV_FAMILY_CONFLICT] ||
        t.observed > g_seen.observes || t.folded_samples > z->d.samples_total ||
        t.mismatch_samples > z->d.samples_total)
        abort();
    drain_each_gauge(&z->d, count_gauge, &live);
    if (live > t.contribs)
        abort();
}

/* After drain_fini(): no producer's contribution is left in a gauge. */
static void check_left(const struct store *st)
{
    for (uint32_t i = 0; i < st->nfamilies; i++) {
        const struct store_family *f = st->families[i];
        for (uint32_t k = 0; f->type == SHMET_TYPE_GAUGE && k < f->nseries; k++)
            if (f->series[k]->v.g.ncontribs != 0)
                abort();
    }
}

/* Both formats render; the text twice alike (the first render caches
 * label text), each line ended, no NUL, OpenMetrics with its EOF. */
static void check_render(struct store *st, bool consts)
{
    static const struct const_label cl[] = {{"instance", "a\"b\\\n"}, {"method", "ANY"}};
    const struct expo_opts o = {cl, 2};
    struct buf a, b;

    buf_init(&a);
    buf_init(&b);
    if (expo_render(st, EXPO_TEXT, consts ? &o : NULL, &a) != 0 ||
        expo_render(st, EXPO_TEXT, consts ? &o : NULL, &b) != 0 || a.len != b.len ||
        (a.len > 0 && (a.data[a.len - 1] != '\n' || memchr(a.data, '\0', a.len) != NULL ||
                       memcmp(a.data, b.data, a.len) != 0)))
        abort();
    b.len = 0;
    if (expo_render(st, EXPO_OPENMETRICS, consts ? &o : NULL, &b) != 0 || b.len < 6 ||
        memcmp(b.data + b.len - 6, "# EOF\n", 6) != 0 || memchr(b.data, '\0', b.len) != NULL)
        abort();
    buf_free(&a);
    buf_free(&b);
}

/* ---- the input and the commands --------------------------------------- */

/* Keep slot k drainable: ACTIVE unless DEAD, a generation, head within one
 * ring of tail; the rest as the input has it. */
static void make_sane(struct shmet__seg *s, uint32_t k)
{
    struct shmet_abi_slot *sl = shmet__slot(s, k);
    /* RELAXED: this thread is every writer and the reader. */
    uint64_t head = atomic_load_explicit(&sl->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&sl->tail, memory_order_relaxed);

    if (atomic_load_explicit(&sl->state, memory_order_relaxed) != SHMET_SLOT_DEAD)
        atomic_store_explicit(&sl->state, SHMET_SLOT_ACTIVE, memory_order_relaxed);
    if (atomic_load_explicit(&sl->generation, memory_order_relaxed) == 0)
        atomic_store_explicit(&sl->generation, 1, memory_order_relaxed);
    atomic_store_explicit(&sl->head, tail + (head - tail) % (FZ_RING + 1), memory_order_relaxed);
}

static void lay(struct shmet__seg *s, uint8_t flags, const uint8_t *data, size_t size, size_t *pos)
{
    uint32_t k = flags & FZ_F_SLOT, o = k ^ 1u;

    fz_seg_lay_slot(s, k, data, size, pos);
    if (flags & FZ_F_SANE)
        make_sane(s, k);
    if (flags & FZ_F_MIRROR) {
        memcpy(shmet__slot(s, o), shmet__slot(s, k), sizeof(struct shmet_abi_slot));
        memcpy(shmet__slot_ring(s, o), shmet__slot_ring(s, k),
               FZ_RING * sizeof(struct shmet_abi_record));
        memcpy(shmet__slot_arena(s, o), shmet__slot_arena(s, k), FZ_ARENA);
    }
}

/* Append a record to slot k's ring through a producer (dropped and
 * counted as one when the ring is full); value is the record's 8 bytes. */
static void push(struct fz *z, uint32_t k, uint32_t id, uint16_t op, uint16_t aux, uint64_t value)
{
    struct shmet__ring_producer p;
    double v;

    memcpy(&v, &value, sizeof(v));
    shmet__ring_producer_init(&p, &z->seg, k);
    (void)shmet__ring_push(&p, id, op, aux, v);
}

/* A DEFINE naming the n-th entry of slot k's published arena, or where
 * the walk stopped when there are fewer (an end, or an entry too broken
 * to step over): what a producer pushes after each entry it writes. */
static void define_nth(struct fz *z, uint32_t k, uint32_t n, uint16_t aux)
{
    /* RELAXED: this thread is every writer. */
    uint64_t used =
        atomic_load_explicit(&shmet__slot(&z->seg, k)->arena_used, memory_order_relaxed);
    uint64_t off = 0, at = 0;
    struct shmet__def_view v;

    for (uint32_t i = 0; i <= n % 32; i++) {
        at = off;
        v.kind = 0;
        if (shmet__arena_next(&z->seg, k, used, &off, g_defbuf, sizeof(g_defbuf), &v) == 0 ||
            off == at)
            break;
    }
    if (aux == 0)
        aux = v.kind != 0 ? v.kind : (uint16_t)SHMET_DEF_SERIES;
    push(z, k, 0, SHMET_OP_DEFINE, aux, at);
}

/* A producer of this process claims a free slot (its ring and arena reset,
 * the arena's bytes left for FZ_PUBLISH to bring back). */
static void claim(struct fz *z, uint32_t k)
{
    struct shmet__owner o = {.pid = 1, .tid = 1, .start_time = 1};
    uint32_t idx, gen;

    (void)shmet__slot_claim(&z->seg, &o, k, &idx, &gen);
}

/* The commands of a producer, or of a hostile writer of slot k. */
static void as_writer(struct fz *z, uint32_t k, enum fz_what what, const struct fz_cmd *c)
{
    struct shmet_abi_slot *sl = shmet__slot(&z->seg, k);

    /* RELAXED stores: a hostile writer orders nothing. */
    if (what == FZ_PUSH)
        push(z, k, c->id, c->op, c->aux, c->value);
    else if (what == FZ_DEFINE)
        define_nth(z, k, c->id, c->aux);
    else if (what == FZ_PUBLISH)
        atomic_store_explicit(&sl->arena_used, c->value % (2 * FZ_ARENA), memory_order_relaxed);
    else if (what == FZ_POKE)
        memcpy(shmet__slot_arena(&z->seg, k) + (c->id % FZ_ARENA & ~7u), &c->value, 8);
    else if (what == FZ_CLAIM)
        claim(z, k);
    else if (what == FZ_STATE) {
        atomic_store_explicit(&sl->state, c->op, memory_order_relaxed);
        atomic_store_explicit(&sl->generation, c->id, memory_order_relaxed);
    }
}

/* The commands of the aggregator, about slot k where they name one. */
static void as_aggregator(struct fz *z, uint32_t k, enum fz_what what, const struct fz_cmd *c)
{
    /* RELAXED: this thread is every writer. */
    uint32_t gen = atomic_load_explicit(&shmet__slot(&z->seg, k)->generation, memory_order_relaxed);
    double v;

    memcpy(&v, &c->value, sizeof(v));
    if (what == FZ_DRAIN)
        (void)drain_all(&z->d);
    else if (what == FZ_GONE)
        (void)drain_owner_gone(&z->d, k, gen);
    else if (what == FZ_RESTORE)
        (void)drain_restore_gauge(&z->d, k, c->id, v);
    else if (what == FZ_FORGET && (c->op & 1) == 0)
        drain_forget(&z->d);
    else if (what == FZ_FORGET && drain_rebind(&z->d) != 0)
        abort();
}

static void run_command(struct fz *z, const struct fz_cmd *c)
{
    enum fz_what what = (enum fz_what)((c->what & (FZ_SLOT1 - 1)) % FZ_NWHAT);
    uint32_t k = (c->what & FZ_SLOT1) != 0;

    if (what == FZ_DRAIN || what == FZ_GONE || what == FZ_FORGET || what == FZ_RESTORE)
        as_aggregator(z, k, what, c);
    else
        as_writer(z, k, what, c);
    check_counts(&z->d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shmet__geometry g = {FZ_SLOTS, FZ_RING, FZ_ARENA};
    uint8_t *mem = aligned_alloc(64, fz_seg_size(&g));
    struct fz_cmd cmds[FZ_CMDS];
    struct fz *z = &g_fz;
    uint8_t flags = size > 0 ? data[0] : 0;
    size_t pos = 2;

    if (mem == NULL || fz_seg_init(&z->seg, mem, &g) != 0)
        abort();
    memset(cmds, 0, sizeof(cmds));
    fz_take(data, size, &pos, cmds, sizeof(cmds));
    lay(&z->seg, flags, data, size, &pos);
    z->st = g_blank;
    z->st.max_series = (size > 1 ? data[1] : 0) % FZ_CAP_MAX + 1;
    memset(&g_seen, 0, sizeof(g_seen));
    if (drain_init(&z->d, &z->seg, &z->st) != 0)
        abort();
    for (uint32_t i = 0; i < FZ_CMDS; i++)
        run_command(z, &cmds[i]);
    (void)drain_all(&z->d);
    check_counts(&z->d);
    check_store(z);
    check_render(&z->st, flags & FZ_F_CONSTS);
    drain_fini(&z->d);
    check_left(&z->st);
    store_fini(&z->st);
    free(mem);
    return 0;
}
