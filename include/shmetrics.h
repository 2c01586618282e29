/* SPDX-License-Identifier: MIT */
/*
 * shmetrics.h - the client API: record Prometheus metrics from any process
 * and thread into a shared-memory segment that one aggregator per host
 * (shmetricsd) drains, merges and serves.
 *
 * Setup calls (shmet_open, shmet_counter, shmet_series_get, ...) allocate,
 * lock and may make syscalls; call them at start-up or cache their results.
 * Recording calls (shmet_inc, shmet_add, shmet_dec, shmet_set,
 * shmet_observe) are inline: they write one 16-byte record into the calling
 * thread's own ring, with no syscall, no lock, no allocation, and never
 * block. A thread's first record (and the first record of each series in
 * that thread) takes a slow path that claims a slot and writes definitions.
 * Each recorder is also a symbol of libshmetrics under its own name, for
 * callers that cannot inline C (ctypes, cffi, Go, Rust).
 *
 * Languages: C99 and later (C11 intended), and C++11 and later, with GCC or
 * Clang; one ABI for both (tag-abi-atomics in shmetrics/abi.h).
 *
 * Fork: families and series made before fork() stay valid in the child; the
 * child claims fresh slots on its first record. Threads: every thread that
 * records gets its own slot; it is retired when the thread exits.
 */
#ifndef SHMETRICS_H
#define SHMETRICS_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <stddef.h>
#include <stdint.h>

#include <shmetrics/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHMET_VERSION_MAJOR 1
#define SHMET_VERSION_MINOR 0
#define SHMET_VERSION_PATCH 0
#define SHMET_VERSION "1.0.0"

#if defined(SHMET_BUILDING_LIBRARY)
#define SHMET_EXTERN __attribute__((visibility("default")))
#else
#define SHMET_EXTERN
#endif

/*
 * How the recorders are defined (tag-recorder-linkage). Each is an inline
 * definition with external linkage: C99 `inline` in C, whose definition
 * here is never emitted (a call the compiler does not inline goes to the
 * one external definition, which client/recorders.c emits into
 * libshmetrics); `inline` in C++, whose out-of-line copies are merged
 * (COMDAT) and defer to the library's strong symbol. So every TU may
 * include this header, at any -O, and no definition is ever duplicated.
 * GNU89 inline semantics (-std=gnu89, -fgnu89-inline) would make `inline`
 * emit a definition in every TU; there `extern inline` with gnu_inline
 * means what C99 `inline` means. Every one is always inlined where it is
 * called, at any -O: compilers weigh an inline definition that has an
 * external one elsewhere like any other call (GCC -O2 would call
 * shmet_add through the PLT), and the hot path must not depend on that;
 * it also lets tools that link libshm without the client record into a
 * ring. The external definitions serve callers that take a recorder's
 * address or cannot inline C.
 */
#if defined(__cplusplus) || defined(__GNUC_STDC_INLINE__)
#define SHMET__INLINE inline __attribute__((__always_inline__))
#elif defined(__GNUC_GNU_INLINE__)
#define SHMET__INLINE extern __inline__ __attribute__((__gnu_inline__, __always_inline__))
#else
#error "shmetrics.h needs GCC or Clang (C99 or GNU inline semantics)"
#endif

#define SHMET_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHMET_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* At most this many clients (shmet_open without shmet_close) per process. */
#define SHMET_MAX_CLIENTS 8

struct shmet_client;
struct shmet_family;

/* How the gauge values of several producers combine in the aggregator.
 * SUM, MAX and MIN are over live producers: a dead worker's value goes away
 * with it. LAST is the most recent set by anyone. */
enum shmet_gauge_mode {
    SHMET_GAUGE_SUM = 0,
    SHMET_GAUGE_MAX = 1,
    SHMET_GAUGE_MIN = 2,
    SHMET_GAUGE_LAST = 3,
};

/* Options for shmet_open. Zero fields take defaults. The geometry fields
 * only matter to whoever creates the segment; everyone else reads it. */
struct shmet_options {
    const char *ns;        /* namespace; NULL: $SHMETRICS_NS, else "default" */
    uint32_t slots;        /* producer slots (default 64) */
    uint32_t ring_records; /* records per ring, power of two (default 16384) */
    uint32_t arena_bytes;  /* definition arena per slot (default 256 KiB) */
};

/* A handle on one series: a small value, copy it freely, across threads and
 * fork. A zeroed shmet_series is valid and records nothing. */
struct shmet_series {
    uint32_t id;     /* client-local series id */
    uint8_t client;  /* index of the owning client in this process */
    uint8_t type;    /* enum shmet_type */
    uint16_t gen;    /* generation of that client index; 0 = invalid */
};

/*
 * shmet_open - attach to (or create) the segment of a namespace.
 * Returns 0 and sets *out, or a negative errno: -EINVAL bad namespace or
 * geometry, -ENOSPC no room in /dev/shm to create it, -EACCES no permission
 * (this user is neither the segment's owner nor in its group, with mode
 * 0660), -EMFILE too many open clients, or a segment error (see
 * shmet_strerror). A segment this call creates gets mode 0660 whatever the
 * umask, and the caller's group; shmetricsd --group/--mode or shmtool
 * create give others. Thread-safe.
 */
SHMET_EXTERN int shmet_open(const struct shmet_options *opt, struct shmet_client **out);

/*
 * shmet_close - retire every slot this client holds and unmap the segment.
 * No thread may record through this client's series during the call;
 * records after it are dropped. shmet_close(NULL) is a no-op.
 */
SHMET_EXTERN void shmet_close(struct shmet_client *c);

/*
 * shmet_counter, shmet_gauge, shmet_histogram - get or create a family.
 * labels: NULL-terminated label names, or NULL for none. Calling again with
 * the same name and the same definition returns the same family. Returns 0,
 * -EINVAL (bad name, label or bounds), -EEXIST (same name, other type,
 * labels, buckets or mode) or -ENOMEM. Thread-safe.
 * Histogram bounds must be finite and strictly increasing (+Inf is
 * implied); bounds NULL and nbounds 0 give the Prometheus defaults.
 */
SHMET_EXTERN int shmet_counter(struct shmet_client *c, const char *name, const char *help,
                               const char *const *labels, struct shmet_family **out);
SHMET_EXTERN int shmet_gauge(struct shmet_client *c, const char *name, const char *help,
                             const char *const *labels, enum shmet_gauge_mode mode,
                             struct shmet_family **out);
SHMET_EXTERN int shmet_histogram(struct shmet_client *c, const char *name, const char *help,
                                 const char *const *labels, const double *bounds, size_t nbounds,
                                 struct shmet_family **out);

/*
 * shmet_series_get - get or create the series of a family for the given
 * label values (one per label; NULL for a family without labels). Values
 * are UTF-8 of at most 1024 bytes. A hash lookup. Returns 0, -EINVAL or
 * -ENOMEM; -ENOSPC when the process already holds 2^24 series. Thread-safe.
 */
SHMET_EXTERN int shmet_series_get(struct shmet_family *f, const char *const *values,
                                  struct shmet_series *out);

/*
 * shmet_aggregator_attached - 1 while a live shmetricsd drains this
 * client's namespace (it has marked the segment and its heartbeat is at
 * most SHMET_HEARTBEAT_STALE_NS old), 0 otherwise, -EINVAL for NULL. For
 * readiness probes. Reads the header only; thread-safe, no lock.
 */
SHMET_EXTERN int shmet_aggregator_attached(const struct shmet_client *c);

/*
 * shmet_aggregator_address - where the live shmetricsd of this namespace
 * serves HTTP: writes "A.B.C.D:PORT" or "[V6]:PORT" (NUL-terminated; an
 * unspecified listen address is named as loopback) into buf. Returns the
 * length, -ENOENT when no live aggregator published an address, -ENOSPC
 * when len is too small (64 always suffices), -EINVAL. Thread-safe.
 */
SHMET_EXTERN int shmet_aggregator_address(const struct shmet_client *c, char *buf, size_t len);

/*
 * shmet_worker_id - a bounded identity of the calling process for
 * per-worker labels: the lowest slot index its threads hold in this
 * client's segment (0 .. slots - 1), claiming a slot for the calling thread
 * when the process holds none. It changes only when the slot giving it is
 * retired (its thread exited). Returns the index, -EAGAIN when no slot is
 * free, -EINVAL, -ENOMEM. Thread-safe; after fork() the child gets its own.
 */
SHMET_EXTERN int shmet_worker_id(struct shmet_client *c);

/* shmet_strerror - a message for any error these calls return. */
SHMET_EXTERN const char *shmet_strerror(int err);

/*
 * shmet_last_error - what was wrong in the last setup call that failed in
 * the calling thread (shmet_open, shmet_counter, shmet_gauge,
 * shmet_histogram, shmet_series_get): for -EINVAL and -EEXIST the argument
 * and the rule it broke ("label name 'le' is reserved", "expected 2 label
 * values, got 1"), for other errors shmet_strerror's message with the
 * namespace ("namespace 'web': permission denied on the segment ...") or
 * the limit reached ("at most 65536 families per client"). "" while no
 * such call has failed in this thread. Like errno, a successful call
 * leaves it as it was, so read it right after the failure. Never NULL; the
 * text is the thread's own, valid until its next failing setup call, and
 * quotes user strings cut to 64 bytes. Thread-safe; never fails.
 */
SHMET_EXTERN const char *shmet_last_error(void);

/* ---- internals used by the inline recorders; not API ---------------- */

/* The producer's side of one SPSC ring (tag-ring-publish in abi.h).
 * Private to one thread; the fields it publishes live in the segment. */
struct shmet__ring_producer {
    uint64_t head;                       /* next index to write (private copy) */
    uint64_t tail_cache;                 /* last tail read from the consumer */
    uint64_t capacity;                   /* ring_records */
    uint64_t mask;                       /* ring_records - 1 */
    uint64_t dropped;                    /* private copy of slot->dropped */
    struct shmet_abi_record *records;    /* the ring in the segment */
    SHMET_ATOMIC(uint64_t) *head_pub;    /* slot->head */
    SHMET_ATOMIC(uint64_t) *tail_pub;    /* slot->tail */
    SHMET_ATOMIC(uint64_t) *dropped_pub; /* slot->dropped */
};

/* One thread's slot in one client. */
struct shmet__producer {
    struct shmet__ring_producer ring;
    const uint64_t *defined;    /* bit per series id: defined in this slot */
    uint32_t defined_bits;      /* bits in defined[] */
    SHMET_ATOMIC(uint16_t) gen; /* client generation; 0 once closed */
};

/* The library (C) allocates producers and the recorders read them in the
 * caller's language: both views must be one layout (tag-abi-atomics). */
#ifdef __cplusplus
SHMET_STATIC_ASSERT(__GCC_ATOMIC_SHORT_LOCK_FREE == 2, "16-bit atomics must be lock-free");
#else
SHMET_STATIC_ASSERT(ATOMIC_SHORT_LOCK_FREE == 2, "16-bit atomics must be lock-free");
#endif
SHMET_STATIC_ASSERT(sizeof(SHMET_ATOMIC(uint16_t)) == 2, "atomic u16 must be 2 bytes");
SHMET_STATIC_ASSERT(SHMET__ALIGNOF(SHMET_ATOMIC(uint16_t)) == 2, "atomic u16 must be 2-aligned");
SHMET_STATIC_ASSERT(offsetof(struct shmet__producer, gen) ==
                        offsetof(struct shmet__producer, defined_bits) + 4,
                    "producer");
SHMET_STATIC_ASSERT(offsetof(struct shmet__ring_producer, head_pub) ==
                        offsetof(struct shmet__ring_producer, records) + sizeof(void *),
                    "ring producer");

/* The atomics of the recorders (tag-abi-atomics): C11 _explicit operations
 * in C, the same orderings through the __atomic builtins in C++, on the
 * same lock-free fields. */
#ifdef __cplusplus
#define SHMET__LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define SHMET__LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SHMET__STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define SHMET__STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define SHMET__LOAD_RELAXED(p) atomic_load_explicit((p), memory_order_relaxed)
#define SHMET__LOAD_ACQUIRE(p) atomic_load_explicit((p), memory_order_acquire)
#define SHMET__STORE_RELAXED(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define SHMET__STORE_RELEASE(p, v) atomic_store_explicit((p), (v), memory_order_release)
#endif

/* The thread's producers, one per client index. C's _Thread_local; in C++
 * GNU __thread, not thread_local: the same symbol and TLS model, but C++
 * would reach an extern thread_local through a wrapper that first checks
 * for a dynamic initialiser (two branches and a call on the hot path),
 * where __thread promises there is none, as in C. */
#ifdef __cplusplus
#define SHMET__THREAD_LOCAL __thread
#else
#define SHMET__THREAD_LOCAL _Thread_local
#endif

/* initial-exec: the recorder reaches its producer with one %fs-relative
 * load instead of a __tls_get_addr call; the 64 bytes fit glibc's static
 * TLS reserve even when the library is loaded with dlopen. */
SHMET_EXTERN extern SHMET__THREAD_LOCAL struct shmet__producer *shmet__tls[SHMET_MAX_CLIENTS]
    __attribute__((tls_model("initial-exec")));
SHMET_EXTERN void shmet__record_slow(struct shmet_series s, uint16_t op, double v);

/* Records ahead of head whose cache line the producer asks for in advance
 * (8 lines of 4 records). The aggregator has read every line of the ring
 * since the producer last wrote it, so a store to it waits for the line to
 * come back from the aggregator's core; asking early overlaps those waits.
 * A hint only: it reads and writes nothing. */
#define SHMET__PREFETCH_AHEAD 32

#if defined(__x86_64__) || defined(__i386__)
/* PREFETCHW (exclusive, for writing) whatever -march says: compilers emit
 * it for __builtin_prefetch(p, 1) only with -mprfchw. CPUs without it
 * execute it as a NOP. */
#define SHMET__PREFETCH_W(p) __asm__ volatile("prefetchw %0" : : "m"(*(const char *)(p)))
#else
#define SHMET__PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#endif

/* shmet__ring_push - append one record; returns 0, or -1 when the ring is
 * full (the sample is counted in slot->dropped). Never blocks. */
SHMET_EXTERN SHMET__INLINE int shmet__ring_push(struct shmet__ring_producer *r, uint32_t series,
                                             uint16_t op, uint16_t aux, double v)
{
    uint64_t head = r->head;
    struct {
        uint32_t series;
        uint16_t op, aux;
    } meta = {series, op, aux}; /* bytes 0-7 of the record, native order */
    struct shmet_abi_record *rec;

    if (SHMET_UNLIKELY(head - r->tail_cache >= r->capacity)) {
        /* ACQUIRE: pairs with the consumer's RELEASE store of tail in
         * shmet__ring_consume() (libshm/ring.c); the records below tail
         * have been read and may be overwritten. */
        r->tail_cache = SHMET__LOAD_ACQUIRE(r->tail_pub);
        if (head - r->tail_cache >= r->capacity) {
            /* RELAXED: a statistic with one writer; readers need no order. */
            SHMET__STORE_RELAXED(r->dropped_pub, ++r->dropped);
            return -1;
        }
    }
    rec = &r->records[head & r->mask];
    __builtin_memcpy(rec, &meta, sizeof(meta)); /* series, op, aux: one store */
    rec->value.f = v;
    SHMET__PREFETCH_W(&r->records[(head + SHMET__PREFETCH_AHEAD) & r->mask]);
    r->head = head + 1;
    /* RELEASE: publishes the record written above; pairs with the ACQUIRE
     * load of head in shmet__ring_consume() (libshm/ring.c). */
    SHMET__STORE_RELEASE(r->head_pub, head + 1);
    return 0;
}

/* shmet__record - the recorders' common path: the fast path when the
 * calling thread's slot has the series defined, else shmet__record_slow(). */
SHMET_EXTERN SHMET__INLINE void shmet__record(struct shmet_series s, uint16_t op, double v)
{
    struct shmet__producer *p = shmet__tls[s.client & (SHMET_MAX_CLIENTS - 1)];

    /* RELAXED load of gen: shmet_close() zeroes it so that later records
     * take the slow path; recording concurrently with close is excluded by
     * the API contract, so no ordering is needed. */
    if (SHMET_LIKELY(p != NULL && SHMET__LOAD_RELAXED(&p->gen) == s.gen &&
                     s.id < p->defined_bits && ((p->defined[s.id >> 6] >> (s.id & 63)) & 1)))
        (void)shmet__ring_push(&p->ring, s.id, op, 0, v);
    else
        shmet__record_slow(s, op, v);
}

/* ---- recording: inline, wait-free, no syscall ----------------------- */

/* Each recorder takes a series from shmet_series_get (or a zeroed one,
 * which records nothing), returns nothing, and never blocks, allocates or
 * makes a syscall after the thread's first record of the series. Safe from
 * any thread and in forked children; a record of the wrong kind (set() on
 * a counter) is refused and counted by the aggregator. Inline here (tag-
 * recorder-linkage) and exported by libshmetrics under the same name. */

/* counter += v (v >= 0, else the aggregator rejects it); gauge += v. */
SHMET_EXTERN SHMET__INLINE void shmet_add(struct shmet_series s, double v)
{
    shmet__record(s, s.type == SHMET_TYPE_GAUGE ? SHMET_OP_GAUGE_ADD : SHMET_OP_COUNTER_ADD, v);
}

/* counter += 1; gauge += 1. */
SHMET_EXTERN SHMET__INLINE void shmet_inc(struct shmet_series s)
{
    shmet_add(s, 1.0);
}

/* gauge -= 1. */
SHMET_EXTERN SHMET__INLINE void shmet_dec(struct shmet_series s)
{
    shmet__record(s, SHMET_OP_GAUGE_ADD, -1.0);
}

/* gauge = v. */
SHMET_EXTERN SHMET__INLINE void shmet_set(struct shmet_series s, double v)
{
    shmet__record(s, SHMET_OP_GAUGE_SET, v);
}

/* histogram: record one observation. */
SHMET_EXTERN SHMET__INLINE void shmet_observe(struct shmet_series s, double v)
{
    shmet__record(s, SHMET_OP_OBSERVE, v);
}

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_H */
