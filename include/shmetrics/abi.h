/* SPDX-License-Identifier: MIT */
/*
 * shmetrics/abi.h - the shared-memory segment format.
 *
 * This comment is the format specification. Every producer (a worker thread
 * linked with libshmetrics), the aggregator (shmetricsd) and shmtool map the
 * same POSIX shared-memory object, /dev/shm/shmetrics.<ns>, and agree on the
 * layout below. Native byte order; the segment never leaves the host.
 *
 * Segment
 * -------
 *   offset 0                        struct shmet_abi_header      (256 bytes)
 *   offset 256                      struct shmet_abi_slot[slots] (256 bytes each)
 *   offset data_offset (page-aligned)
 *                                   per slot k, at data_offset + k * slot_stride:
 *                                     records[ring_records]      (16 bytes each)
 *                                     arena[arena_bytes]         (definitions)
 *   slot_stride = ring_records * 16 + arena_bytes    (a multiple of 64)
 *   segment_size = data_offset + slots * slot_stride
 *
 * Header (written once by the creator before the segment is linked into
 * place, except the fields marked "live")
 * -----------------------------------------------------------------------
 *     0  u64 magic            SHMET_ABI_MAGIC ("SHMETRIC" little-endian)
 *     8  u16 abi_major        readers refuse any other major
 *    10  u16 abi_minor        additive changes only
 *    12  u32 header_size      sizeof(struct shmet_abi_header)
 *    16  u64 segment_size     total bytes; must equal the object's size
 *    24  u32 slots            number of slots
 *    28  u32 ring_records     records per ring, a power of two
 *    32  u32 arena_bytes      definition arena bytes per slot, multiple of 64
 *    36  u32 slot_size        sizeof(struct shmet_abi_slot)
 *    40  u64 data_offset      first ring, page-aligned
 *    48  u64 slot_stride      bytes from one slot's ring to the next
 *    56  u64 created_ns       CLOCK_REALTIME at creation
 *    64  i32 aggregator_pid   live: pid of the running aggregator, or 0
 *    68  u32 reserved0
 *    72  u64 heartbeat_ns     live: aggregator's last CLOCK_REALTIME tick
 *    80  u64 noslot_dropped   live: samples dropped because no slot was free
 *    88  u64 noslot_events    live: times a thread found no free slot
 *    96  u32 listen_seq       live: even, or odd while listen_* are written
 *   100  u32 listen_meta      live: family (4 or 6) << 16 | TCP port, or 0
 *   104  u8  listen_addr[16]  live: IPv4 (first 4 bytes) or IPv6 address,
 *                             network order (four u32 words)
 *   120  u8  reserved[136]    zero
 *
 * Slot control block (one per slot, 4 cache lines so that the producer's
 * and the consumer's hot fields never share a line)
 * ---------------------------------------------------------------------
 *   line 0, ownership (written by the claimer, then the aggregator)
 *     0  u32 state            SHMET_SLOT_FREE/CLAIMING/ACTIVE/DEAD
 *     4  u32 generation       incremented on every claim (ABA, pid reuse)
 *     8  i32 pid              owner process
 *    12  i32 tid              owner thread
 *    16  u64 start_time       owner's /proc/<pid>/stat field 22 (ticks)
 *    24  u64 claimed_ns       CLOCK_REALTIME at claim
 *    32  u32 flags            SHMET_SLOT_F_* (set by the aggregator)
 *    36  i32 claimer          tid of the thread claiming the slot, or 0
 *    40  u32 lock_gen         the generation whose owner holds the slot lock
 *                             (tag-slot-lock); any other value: it holds none
 *    44  i32 lock_claimer     tid of a claimer holding the slot lock, or 0
 *    48  u64 pid_ns           owner's PID namespace (inode of
 *                             /proc/self/ns/pid), 0 when unknown
 *    56  u64 reserved         zero ... up to 64
 *   line 1, producer-written
 *    64  u64 head             records published (free-running)
 *    72  u64 dropped          samples dropped because the ring was full
 *    80  u64 arena_used       bytes of the arena holding definitions
 *    88  u64 defines          DEFINE records among the published ones
 *    96  u64 arena_dropped    samples redirected to __overflow__ (arena full)
 *   104  ... reserved up to 128
 *   line 2, consumer-written
 *   128  u64 tail             records consumed (free-running)
 *   136  ... reserved up to 192
 *   line 3: reserved up to 256
 *
 * Record (16 bytes)
 * -----------------
 *     0  u32 series           slot-local series id
 *     4  u16 op               SHMET_OP_*
 *     6  u16 aux              DEFINE: SHMET_DEF_* kind; otherwise 0
 *     8  f64/i64 value        sample value, or DEFINE: arena offset
 *
 * Aggregator endpoint (tag-listen-publish)
 * ----------------------------------------
 * The aggregator that holds the namespace publishes where its HTTP
 * listener is, so that any process on the host can find it: it stores
 * listen_seq + 1 (odd), a RELEASE fence, listen_meta and listen_addr, then
 * listen_seq + 2 with RELEASE. A reader loads listen_seq with ACQUIRE
 * (retrying while odd), the fields, an ACQUIRE fence, and listen_seq again:
 * equal means an untorn copy. listen_meta 0 means nothing is published
 * (segments made before these fields existed hold 0 there, where they were
 * reserved). The aggregator clears it when it stops. An address is only a
 * hint: readers believe it while aggregator_pid is set and heartbeat_ns is
 * recent (SHMET_HEARTBEAT_STALE_NS), and treat it as untrusted text.
 *
 * Slot claim (tag-slot-claim)
 * ---------------------------
 * A claimer first takes the slot's claim word with a compare-and-swap of
 * claimer from 0 to its tid, then moves state FREE -> CLAIMING, resets the
 * slot, stores ACTIVE and gives the claim word back (0). Only the holder
 * of the claim word moves a slot out of FREE. A claimer killed half way
 * leaves its tid there, which names it: once that thread is gone, the
 * aggregator moves a CLAIMING slot back to FREE (nothing was published
 * from it) and clears the word. Segments written before this word existed
 * hold 0 there (it was reserved), which means "no claim in progress".
 *
 * Slot lock (tag-slot-lock, ABI minor 1)
 * ---------------------------------------
 * Pids name processes only inside one PID namespace, and a worker in a
 * container and shmetricsd in another (or on the host) share /dev/shm but
 * not pids. So an owner's liveness is a lock the kernel tracks, not its
 * pid: a producer holds an open-file-description (OFD) write lock on byte
 * SHMET_SLOT_LOCK_OFFSET(k) of the segment file for as long as it owns
 * slot k (the lock says nothing about the bytes: nobody reads the file
 * through locks, the mapping is used as always). The kernel drops it when
 * the last descriptor of that open file description closes, which is when
 * the process dies however it dies; a forked child reopens the file so it
 * never shares its parent's description. Anyone may test the lock
 * (F_OFD_GETLK), through any descriptor, from any PID namespace.
 *
 * A lock-aware claimer takes the slot lock (non-blocking) before the claim
 * word; failing, it moves on (the slot is in use). With the lock held it
 * stores lock_claimer = its tid, takes the claim word as above, and stores
 * lock_gen = the new generation with the rest of the reset. Giving the
 * claim word back, it clears lock_claimer first. At retirement the owner
 * releases the lock, then moves ACTIVE -> DEAD.
 *
 * The aggregator judges an ACTIVE slot with lock_gen == generation by the
 * lock alone: when it can take the lock itself (F_OFD_SETLK), the owner is
 * gone; it retires, drains and frees the slot, then releases the lock. A
 * claim word equal to lock_claimer is judged the same way. Slots whose
 * lock_gen differs from their generation were claimed by producers that
 * hold no lock (ABI minor 0): pid, tid and start_time judge them, which is
 * only meaningful when the owner shares the aggregator's PID namespace
 * (pid_ns tells; old producers leave it 0 or stale). The pids in a slot
 * are for people (shmtool, /debug) and for a pidfd fast path when pid_ns
 * equals the aggregator's own.
 *
 * Ring protocol (tag-ring-publish)
 * --------------------------------
 * Single producer, single consumer. head and tail are free-running u64
 * counters; the record for index i lives at records[i & (ring_records - 1)].
 * The producer writes the record, then stores head = i + 1 with RELEASE;
 * the consumer loads head with ACQUIRE, reads records [tail, head), then
 * stores tail with RELEASE, which the producer loads with ACQUIRE before it
 * reuses those records. Used = head - tail; full when used == ring_records.
 * No read-modify-write atomics are used on the ring.
 *
 * Definition arena
 * ----------------
 * Append-only, 8-byte aligned entries, each starting with struct
 * shmet_abi_def. The producer writes an entry at arena_used, stores the new
 * arena_used with RELEASE, then pushes a DEFINE record whose value is the
 * entry's offset and whose aux is its kind (tag-define-record). Entries
 * are never rewritten while the slot is claimed. A reader reads the arena
 * in order: up to the entry a DEFINE record names when that record comes
 * (so a definition is bound before the samples behind it), and to
 * arena_used when a sample names an id it has no definition for yet (its
 * DEFINE was not pushed: the producer skips it when the ring is full).
 *
 *   shmet_abi_def (16 bytes): u32 size (whole entry, multiple of 8),
 *                             u16 kind, u16 nstrings, u32 id, u32 family
 *   FAMILY entry: shmet_abi_def_family (16 bytes) follows, then nbounds
 *                 f64 bucket bounds, then nstrings strings: name, help,
 *                 label names (nstrings = 2 + nlabels)
 *   SERIES entry: nstrings strings, one label value per family label;
 *                 family = the family id of the same slot
 *   string: u32 length, then that many bytes (no terminator, no padding);
 *           the entry is zero-padded to its size.
 *
 * Everything in the segment is untrusted input to a reader: every offset,
 * length, count and state is validated before use. The geometry is
 * validated once, at attach, and each reader keeps its own copy: later
 * writes to the header's geometry fields are never believed.
 */
#ifndef SHMETRICS_ABI_H
#define SHMETRICS_ABI_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The live fields are atomics shared across processes (tag-abi-atomics).
 * SHMET_ATOMIC(T) spells them: _Atomic T in C, and plain T in C++, which
 * has no _Atomic and whose std::atomic<T> promises no layout. A C++ reader
 * must access those fields only through the GCC/Clang __atomic builtins
 * (__atomic_load_n(&slot->head, __ATOMIC_ACQUIRE)). Both views are one
 * layout: on the supported targets (x86-64, aarch64) _Atomic u32/u64 have
 * the size and alignment of u32/u64 and are lock-free, hence address-free,
 * so C11 atomics and __atomic builtins on the same bytes interoperate. The
 * asserts at the end pin this, and every offset, in both languages.
 */
#ifdef __cplusplus
#define SHMET_ATOMIC(T) T
#define SHMET_STATIC_ASSERT(e, msg) static_assert(e, msg)
#define SHMET__ALIGNOF(T) alignof(T)
#define SHMET__LLONG_LOCK_FREE __GCC_ATOMIC_LLONG_LOCK_FREE
#define SHMET__INT_LOCK_FREE __GCC_ATOMIC_INT_LOCK_FREE
#else
#define SHMET_ATOMIC(T) _Atomic T
#define SHMET_STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#define SHMET__ALIGNOF(T) _Alignof(T)
#define SHMET__LLONG_LOCK_FREE ATOMIC_LLONG_LOCK_FREE
#define SHMET__INT_LOCK_FREE ATOMIC_INT_LOCK_FREE
#endif

#define SHMET_ABI_MAGIC UINT64_C(0x43495254454d4853) /* "SHMETRIC" */
#define SHMET_ABI_MAJOR 1
#define SHMET_ABI_MINOR 1

/* Geometry limits, enforced at creation and on every attach. */
#define SHMET_SLOTS_MIN 1u
#define SHMET_SLOTS_MAX 4096u
#define SHMET_RING_MIN 64u
#define SHMET_RING_MAX (1u << 24)
#define SHMET_ARENA_MIN 4096u
#define SHMET_ARENA_MAX (64u << 20)
#define SHMET_SEGMENT_MAX (UINT64_C(64) << 30)

/* Defaults (docs/ARCHITECTURE.md, "The ABI"): 64 slots, 16384 records,
 * 256 KiB arena. */
#define SHMET_DEFAULT_SLOTS 64u
#define SHMET_DEFAULT_RING_RECORDS 16384u
#define SHMET_DEFAULT_ARENA_BYTES (256u << 10)

/* Slot states. FREE -> CLAIMING -> ACTIVE -> DEAD -> FREE. */
enum shmet_slot_state {
    SHMET_SLOT_FREE = 0,
    SHMET_SLOT_CLAIMING = 1, /* a producer is initialising it */
    SHMET_SLOT_ACTIVE = 2,
    SHMET_SLOT_DEAD = 3, /* owner gone; the consumer drains, then frees */
};

/* An aggregator whose heartbeat is older than this is taken for gone. Its
 * drain timer writes the heartbeat at least every 32 ms. */
#define SHMET_HEARTBEAT_STALE_NS UINT64_C(3000000000)

/* Address families in listen_meta (not the host's AF_* values). */
#define SHMET_LISTEN_IPV4 4u
#define SHMET_LISTEN_IPV6 6u

/* Slot flags. QUARANTINED is reserved for a reader that gives up on a
 * corrupt slot; shmetricsd neither sets nor reads it (it refuses bad
 * records one by one and resynchronises a corrupt ring), shmtool reports
 * it, and every claim clears it. */
#define SHMET_SLOT_F_QUARANTINED 0x1u

/* tag-slot-lock: the byte of the segment file whose OFD write lock slot k's
 * owner holds: the first byte of the slot's control block. */
#define SHMET_SLOT_LOCK_OFFSET(k) ((uint64_t)sizeof(struct shmet_abi_header) + (uint64_t)(k) * 256u)

/* Record ops. */
enum shmet_op {
    SHMET_OP_DEFINE = 1,
    SHMET_OP_COUNTER_ADD = 2,
    SHMET_OP_GAUGE_SET = 3,
    SHMET_OP_GAUGE_ADD = 4,
    SHMET_OP_OBSERVE = 5,
};

/* Definition kinds (shmet_abi_def.kind and DEFINE aux). */
enum shmet_def_kind {
    SHMET_DEF_FAMILY = 1,
    SHMET_DEF_SERIES = 2,
};

/* Metric types (shmet_abi_def_family.type). */
enum shmet_type {
    SHMET_TYPE_COUNTER = 1,
    SHMET_TYPE_GAUGE = 2,
    SHMET_TYPE_HISTOGRAM = 3,
};

struct shmet_abi_header {
    uint64_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t header_size;
    uint64_t segment_size;
    uint32_t slots;
    uint32_t ring_records;
    uint32_t arena_bytes;
    uint32_t slot_size;
    uint64_t data_offset;
    uint64_t slot_stride;
    uint64_t created_ns;
    SHMET_ATOMIC(int32_t) aggregator_pid; /* live */
    uint32_t reserved0;
    SHMET_ATOMIC(uint64_t) heartbeat_ns;   /* live */
    SHMET_ATOMIC(uint64_t) noslot_dropped; /* live, fetch_add by any producer */
    SHMET_ATOMIC(uint64_t) noslot_events;  /* live, fetch_add by any producer */
    SHMET_ATOMIC(uint32_t) listen_seq;     /* live, tag-listen-publish */
    SHMET_ATOMIC(uint32_t) listen_meta;    /* live: family << 16 | port, 0 = none */
    SHMET_ATOMIC(uint32_t) listen_addr[4]; /* live: address, network byte order */
    uint8_t reserved[136];
};

struct shmet_abi_slot {
    /* line 0: ownership */
    SHMET_ATOMIC(uint32_t) state;       /* enum shmet_slot_state */
    SHMET_ATOMIC(uint32_t) generation;  /* ++ on every claim */
    SHMET_ATOMIC(int32_t) pid;          /* owner process */
    SHMET_ATOMIC(int32_t) tid;          /* owner thread */
    SHMET_ATOMIC(uint64_t) start_time;  /* owner's start time, clock ticks */
    SHMET_ATOMIC(uint64_t) claimed_ns;  /* CLOCK_REALTIME at claim */
    SHMET_ATOMIC(uint32_t) flags;       /* SHMET_SLOT_F_* */
    SHMET_ATOMIC(int32_t) claimer;      /* tag-slot-claim: tid claiming it, or 0 */
    SHMET_ATOMIC(uint32_t) lock_gen;    /* tag-slot-lock: generation holding the lock */
    SHMET_ATOMIC(int32_t) lock_claimer; /* tag-slot-lock: tid of a locked claim, or 0 */
    SHMET_ATOMIC(uint64_t) pid_ns;      /* owner's PID namespace inode, 0 unknown */
    uint64_t reserved1;
    /* line 1: producer */
    SHMET_ATOMIC(uint64_t) head;          /* records published */
    SHMET_ATOMIC(uint64_t) dropped;       /* samples lost to a full ring */
    SHMET_ATOMIC(uint64_t) arena_used;    /* arena bytes in use */
    SHMET_ATOMIC(uint64_t) defines;       /* DEFINE records published */
    SHMET_ATOMIC(uint64_t) arena_dropped; /* samples folded into __overflow__ */
    uint64_t reserved2[3];
    /* line 2: consumer */
    SHMET_ATOMIC(uint64_t) tail; /* records consumed */
    uint64_t reserved3[7];
    /* line 3 */
    uint64_t reserved4[8];
};

struct shmet_abi_record {
    uint32_t series;
    uint16_t op;
    uint16_t aux;
    union {
        double f;
        int64_t i;
    } value;
};

struct shmet_abi_def {
    uint32_t size;     /* whole entry, multiple of 8 */
    uint16_t kind;     /* enum shmet_def_kind */
    uint16_t nstrings; /* strings after the fixed part */
    uint32_t id;       /* family or series id, slot-local */
    uint32_t family;   /* SERIES: its family id; FAMILY: 0 */
};

struct shmet_abi_def_family {
    uint8_t type;       /* enum shmet_type */
    uint8_t gauge_mode; /* enum shmet_gauge_mode, gauges only */
    uint16_t nlabels;
    uint32_t nbounds;          /* histogram bucket bounds that follow */
    uint32_t overflow_series;  /* series id of the family's __overflow__ */
    uint32_t reserved;
};

#define SHMET_NAME_MAX 256u          /* metric and label names */
#define SHMET_HELP_MAX 4096u         /* help text */
#define SHMET_LABEL_VALUE_MAX 1024u  /* bytes of one label value */
#define SHMET_LABELS_MAX 32u         /* labels per family */
#define SHMET_BOUNDS_MAX 256u        /* histogram bucket bounds */
#define SHMET_OVERFLOW_VALUE "__overflow__"

/* tag-abi-pins: the layout above, byte for byte. */
SHMET_STATIC_ASSERT(SHMET__LLONG_LOCK_FREE == 2,
                    "64-bit atomics must be lock-free across processes");
SHMET_STATIC_ASSERT(SHMET__INT_LOCK_FREE == 2, "32-bit atomics must be lock-free across processes");
SHMET_STATIC_ASSERT(sizeof(SHMET_ATOMIC(uint64_t)) == 8, "atomic u64 must be 8 bytes");
SHMET_STATIC_ASSERT(sizeof(SHMET_ATOMIC(uint32_t)) == 4, "atomic u32 must be 4 bytes");
/* tag-abi-atomics: C's _Atomic u64 and C++'s plain u64 align alike. */
SHMET_STATIC_ASSERT(SHMET__ALIGNOF(SHMET_ATOMIC(uint64_t)) == 8, "atomic u64 must be 8-aligned");
SHMET_STATIC_ASSERT(SHMET__ALIGNOF(SHMET_ATOMIC(uint32_t)) == 4, "atomic u32 must be 4-aligned");
SHMET_STATIC_ASSERT(sizeof(double) == 8, "f64");

SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, magic) == 0, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, abi_major) == 8, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, abi_minor) == 10, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, header_size) == 12, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, segment_size) == 16, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, slots) == 24, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, ring_records) == 28, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, arena_bytes) == 32, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, slot_size) == 36, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, data_offset) == 40, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, slot_stride) == 48, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, created_ns) == 56, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, aggregator_pid) == 64, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, heartbeat_ns) == 72, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, noslot_dropped) == 80, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, noslot_events) == 88, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, listen_seq) == 96, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, listen_meta) == 100, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, listen_addr) == 104, "hdr");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_header, reserved) == 120, "hdr");
SHMET_STATIC_ASSERT(sizeof(struct shmet_abi_header) == 256, "hdr");

SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, state) == 0, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, generation) == 4, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, pid) == 8, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, tid) == 12, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, start_time) == 16, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, claimed_ns) == 24, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, flags) == 32, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, claimer) == 36, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, lock_gen) == 40, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, lock_claimer) == 44, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, pid_ns) == 48, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, head) == 64, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, dropped) == 72, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, arena_used) == 80, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, defines) == 88, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, arena_dropped) == 96, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, tail) == 128, "slot");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_slot, reserved4) == 192, "slot");
SHMET_STATIC_ASSERT(sizeof(struct shmet_abi_slot) == 256, "slot");

SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_record, series) == 0, "record");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_record, op) == 4, "record");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_record, aux) == 6, "record");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_record, value) == 8, "record");
SHMET_STATIC_ASSERT(sizeof(struct shmet_abi_record) == 16, "record");

SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def, size) == 0, "def");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def, kind) == 4, "def");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def, nstrings) == 6, "def");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def, id) == 8, "def");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def, family) == 12, "def");
SHMET_STATIC_ASSERT(sizeof(struct shmet_abi_def) == 16, "def");

SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def_family, type) == 0, "def_family");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def_family, gauge_mode) == 1, "def_family");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def_family, nlabels) == 2, "def_family");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def_family, nbounds) == 4, "def_family");
SHMET_STATIC_ASSERT(offsetof(struct shmet_abi_def_family, overflow_series) == 8, "def_family");
SHMET_STATIC_ASSERT(sizeof(struct shmet_abi_def_family) == 16, "def_family");

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_ABI_H */
