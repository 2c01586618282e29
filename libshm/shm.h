/* SPDX-License-Identifier: MIT */
/*
 * libshm/shm.h - internal interface of libshm: the shared-memory segment
 * (segment.c), slots (slot.c), the SPSC ring consumer (ring.c), the
 * definition arena (arena.c), name rules (names.c) and process identity
 * (proc.c). Linked into the client library, the aggregator and the tools.
 * The layout itself is include/shmetrics/abi.h.
 */
#ifndef SHMETRICS_LIBSHM_SHM_H
#define SHMETRICS_LIBSHM_SHM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <shmetrics.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHMET_NS_MAX 64
#define SHMET_NS_ENV "SHMETRICS_NS"
#define SHMET_NS_DEFAULT "default"
#define SHMET_DIR_ENV "SHMETRICS_SHM_DIR" /* where segments live; /dev/shm */
#define SHMET_DIR_DEFAULT "/dev/shm"
#define SHMET_MODE_DEFAULT 0660    /* of a new segment, whatever the umask */
#define SHMET_GID_KEEP ((gid_t)-1) /* a new segment keeps the creator's group */

/* Segment errors beyond plain errno values (all negative). */
#define SHMET_E_NOTSEG (-EBADMSG)      /* not a shmetrics segment */
#define SHMET_E_ABI (-EPROTONOSUPPORT) /* unsupported ABI major */
#define SHMET_E_TRUNCATED (-ENODATA)   /* shorter than its header says */
#define SHMET_E_GEOMETRY (-EDOM)       /* geometry out of range */

struct shmet__geometry {
    uint32_t slots;
    uint32_t ring_records;
    uint32_t arena_bytes;
};

/* A mapped segment. Geometry fields are private copies validated at attach:
 * readers use these, never the (writable by anyone) header fields. */
struct shmet__seg {
    uint8_t *base;
    uint64_t size;
    struct shmet_abi_header *hdr;
    uint32_t slots;
    uint32_t ring_records;
    uint32_t arena_bytes;
    uint64_t data_offset;
    uint64_t slot_stride;
    uint16_t abi_minor;
    bool readonly;
    bool created; /* this process created it */
    /* tag-slot-lock: a descriptor of the segment file for slot locks (its
     * own open file description), when has_lock_fd; closed by
     * shmet__seg_close() only when own_lock_fd. */
    bool has_lock_fd;
    bool own_lock_fd;
    int lock_fd;
    char ns[SHMET_NS_MAX + 1];
};

enum {
    SHMET_SEG_CREATE = 1, /* create when missing */
    SHMET_SEG_EXCL = 2,   /* with CREATE: fail with -EEXIST if it exists */
    SHMET_SEG_RDONLY = 4, /* map read-only; never creates */
};

/* segment.c */
int shmet__ns_check(const char *ns);
const char *shmet__ns_resolve(const char *ns);
const char *shmet__shm_dir(void);
int shmet__seg_path(const char *ns, char *buf, size_t len);
int shmet__state_path(const char *ns, char *buf, size_t len);
int shmet__state_unlink(const char *ns);
int shmet__geometry_check(const struct shmet__geometry *g);
uint64_t shmet__geometry_size(const struct shmet__geometry *g, uint64_t *data_offset);
/* Permissions of a segment this call creates (none for an existing one). */
struct shmet__perm {
    mode_t mode; /* exactly, the umask notwithstanding */
    gid_t gid;   /* SHMET_GID_KEEP: the creator's */
};

/* Attach to (flags & CREATE: or create) the segment of ns. Returns 0,
 * -ENOENT, -EEXIST (EXCL), -EACCES (no access to the file or directory),
 * SHMET_E_* for a bad segment, -EPERM when perm->gid cannot be given to a
 * new segment (only root, or a member of the group, may), or another
 * negative errno. */
int shmet__seg_open_as(const char *ns, const struct shmet__geometry *g, unsigned flags,
                       const struct shmet__perm *perm, struct shmet__seg *out);
/* The same with the creator's group. */
int shmet__seg_open(const char *ns, const struct shmet__geometry *g, unsigned flags, mode_t mode,
                    struct shmet__seg *out);
/* Attach to the segment open at fd (the caller keeps fd), as namespace ns:
 * the header is read with pread and validated before anything is mapped. */
int shmet__seg_attach_fd(int fd, const char *ns, bool readonly, struct shmet__seg *out);
void shmet__seg_close(struct shmet__seg *s);
int shmet__seg_unlink(const char *ns);
int shmet__header_check(const struct shmet_abi_header *h, uint64_t size, struct shmet__seg *out);
/* Write a header for geometry g (already valid): every field the creator
 * sets, the live ones (heartbeat, endpoint) left as they are. */
void shmet__header_init(struct shmet_abi_header *h, const struct shmet__geometry *g,
                        uint64_t created_ns);

static inline struct shmet_abi_slot *shmet__slot(const struct shmet__seg *s, uint32_t i)
{
    return (struct shmet_abi_slot *)(s->base + sizeof(struct shmet_abi_header)) + i;
}

static inline struct shmet_abi_record *shmet__slot_ring(const struct shmet__seg *s, uint32_t i)
{
    return (struct shmet_abi_record *)(s->base + s->data_offset + (uint64_t)i * s->slot_stride);
}

static inline uint8_t *shmet__slot_arena(const struct shmet__seg *s, uint32_t i)
{
    return s->base + s->data_offset + (uint64_t)i * s->slot_stride +
           (uint64_t)s->ring_records * sizeof(struct shmet_abi_record);
}

/* endpoint.c (tag-listen-publish) */
struct shmet__endpoint {
    uint16_t family; /* SHMET_LISTEN_IPV4 or SHMET_LISTEN_IPV6 */
    uint16_t port;   /* host order */
    uint8_t addr[16];
};
/* Publish e (NULL: clear). Only the holder of the namespace lock calls it. */
void shmet__endpoint_publish(struct shmet_abi_header *h, const struct shmet__endpoint *e);
/* 0 and *out; -ENOENT nothing published; -EBADMSG garbage; -EAGAIN the
 * writer kept changing it. */
int shmet__endpoint_read(const struct shmet_abi_header *h, struct shmet__endpoint *out);
/* "A.B.C.D:PORT" or "[V6]:PORT", an unspecified address as loopback.
 * Returns the length, or -ENOSPC / -EINVAL. */
int shmet__endpoint_format(const struct shmet__endpoint *e, char *buf, size_t len);
/* An aggregator has marked the segment and its heartbeat is recent. */
bool shmet__aggregator_live(const struct shmet_abi_header *h, uint64_t now_ns);

/* hash.c */
uint64_t shmet__siphash(const uint64_t key[2], const void *data, size_t len);

/* error.c */
const char *shmet__strerror(int err);

/* slot.c */
struct shmet__owner {
    int32_t pid;
    int32_t tid;
    uint64_t start_time;
    uint64_t pid_ns; /* shmet__pid_ns() */
};
/* Claim a FREE slot (from hint on): 0 and *idx, *gen; -EAGAIN none free.
 * With s->lock_fd, the claimer takes the slot lock and keeps it
 * (tag-slot-lock). A lock belongs to the open file description, which
 * every thread using s shares: the caller serialises claims and releases
 * through one s (the client does, under its lock). */
int shmet__slot_claim(struct shmet__seg *s, const struct shmet__owner *o, uint32_t hint,
                      uint32_t *idx, uint32_t *gen);
int shmet__slot_retire(struct shmet__seg *s, uint32_t idx, uint32_t gen);
int shmet__slot_free(struct shmet__seg *s, uint32_t idx, uint32_t gen);
/* Give back a slot whose claimer (a tid, found gone by the caller) died
 * while claiming it (tag-slot-claim in abi.h). 0, -ESTALE when another
 * claimer holds the word now, -EINVAL. */
int shmet__slot_unclaim(struct shmet__seg *s, uint32_t idx, int32_t claimer);
const char *shmet__slot_state_name(uint32_t state);

/* lock.c (tag-slot-lock in abi.h). Each takes the segment's lock_fd. */
/* Take slot idx's lock: 0, -EAGAIN when another open file description
 * holds it, -EBADF when s has no descriptor for locks (or it is read-only),
 * or another negative errno. Non-blocking. Taking a lock this description
 * already holds succeeds: callers serialise their own claims. */
int shmet__slot_lock(const struct shmet__seg *s, uint32_t idx);
/* Release it (a no-op when not held). 0 or a negative errno. */
int shmet__slot_unlock(const struct shmet__seg *s, uint32_t idx);
/* 1 when another open file description holds slot idx's lock, 0 when
 * nobody (but possibly this one) does, or a negative errno. Works through
 * a read-only descriptor. */
int shmet__slot_lock_held(const struct shmet__seg *s, uint32_t idx);
/* Whether slot sl's owner of generation gen holds the slot lock (it was
 * claimed by a lock-aware producer) and so is judged by it alone. */
bool shmet__slot_lock_aware(const struct shmet_abi_slot *sl, uint32_t gen);
/* In a forked child: give s a descriptor with an open file description of
 * its own, so that the parent's locks are not shared and the child's are
 * dropped when it dies. Without one (no /proc, the name replaced), s has
 * no lock descriptor any more and later claims hold no lock. */
void shmet__seg_lock_fd_reopen(struct shmet__seg *s);

/* ring.c */
void shmet__ring_producer_init(struct shmet__ring_producer *p, struct shmet__seg *s, uint32_t idx);

struct shmet__ring_consumer {
    const struct shmet_abi_record *records;
    _Atomic uint64_t *head_pub;
    _Atomic uint64_t *tail_pub;
    uint64_t capacity;
    uint64_t mask;
    uint64_t tail;       /* private copy of slot->tail */
    uint64_t head_cache; /* last head read from the producer */
};
void shmet__ring_consumer_init(struct shmet__ring_consumer *c, struct shmet__seg *s, uint32_t idx);
int shmet__ring_consume(struct shmet__ring_consumer *c, struct shmet_abi_record *out, size_t max);
uint64_t shmet__ring_used(const struct shmet__seg *s, uint32_t idx);

/* snap.c: a copy of a slot's control block for reports (shmtool,
 * /debug), retried while a claim changes it under us. Best effort: the
 * writers do not follow a seqlock protocol, so a snapshot of a slot in
 * motion may still mix two moments; reports say what was seen. */
struct shmet__slot_snap {
    uint32_t state;
    uint32_t generation;
    uint32_t flags;
    int32_t pid;
    int32_t tid;
    uint64_t start_time;
    uint64_t claimed_ns;
    uint64_t head; /* read before tail */
    uint64_t tail;
    uint64_t head_after; /* read after tail */
    uint64_t dropped;
    uint64_t arena_used;
    uint64_t defines;
    uint64_t arena_dropped;
    uint32_t lock_gen; /* tag-slot-lock */
    uint64_t pid_ns;
    int alive; /* 1 runs, 0 gone (or its pid reused), -1 unknown or not judged */
};
/* judge: also judge the owner's liveness (a lock probe, /proc). */
void shmet__slot_snapshot(const struct shmet__seg *s, uint32_t idx, bool judge,
                          struct shmet__slot_snap *out);
/* The generation again, after everything read since the last one. */
uint32_t shmet__slot_generation(const struct shmet__seg *s, uint32_t idx);
/* Sample records published (DEFINE records excluded); 0 if inconsistent. */
uint64_t shmet__snap_samples(const struct shmet__slot_snap *sn);
/* Records waiting in the ring, clamped to [0, capacity]. */
uint64_t shmet__snap_ring_used(const struct shmet__seg *s, const struct shmet__slot_snap *sn);

/* arena.c */
#define SHMET_DEF_MAX (64u << 10) /* largest valid entry */

struct shmet__str {
    const char *ptr;
    uint32_t len;
};

/* A parsed, validated definition; strings point into the caller's copy. */
struct shmet__def_view {
    uint16_t kind;
    uint32_t id;
    uint32_t family;
    uint32_t size;
    /* FAMILY */
    uint8_t type;
    uint8_t gauge_mode;
    uint32_t overflow_series;
    uint32_t nbounds;
    const double *bounds; /* 8-aligned within the copy */
    struct shmet__str name, help;
    /* FAMILY: label names; SERIES: label values */
    uint16_t nlabels;
    struct shmet__str labels[SHMET_LABELS_MAX];
};

struct shmet__family_def {
    uint32_t id;
    uint8_t type;
    uint8_t gauge_mode;
    uint32_t overflow_series;
    const char *name;
    const char *help;
    const char *const *labels;
    uint16_t nlabels;
    const double *bounds;
    uint32_t nbounds;
};

int shmet__arena_put_family(struct shmet__seg *s, uint32_t idx, const struct shmet__family_def *f,
                            uint64_t *off);
int shmet__arena_put_series(struct shmet__seg *s, uint32_t idx, uint32_t id, uint32_t family,
                            const char *const *values, uint16_t nvalues, uint64_t *off);
int shmet__def_read(const uint8_t *arena, uint64_t used, uint64_t off, uint8_t *buf, size_t cap,
                    struct shmet__def_view *v);
const char *shmet__def_error(int err);
int shmet__arena_next(const struct shmet__seg *s, uint32_t idx, uint64_t used, uint64_t *off,
                      uint8_t *buf, size_t cap, struct shmet__def_view *v);

/* perm.c */
int shmet__mode_parse(const char *s, mode_t *out);
int shmet__group_parse(const char *s, gid_t *out);
void shmet__group_name(gid_t gid, char *buf, size_t len);
void shmet__access_describe(const char *path, char *buf, size_t len);

/* names.c */
/* Decimal digits only, the whole string, within [min, max]: *out, true. */
bool shmet__u64_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);
bool shmet__metric_name_ok(const char *s, size_t n);
bool shmet__label_name_ok(const char *s, size_t n);
bool shmet__utf8_ok(const char *s, size_t n);
bool shmet__help_ok(const char *s, size_t n);
int shmet__bounds_check(const double *b, size_t n);

/* proc.c */
int shmet__proc_start_time(pid_t pid, uint64_t *out);
int shmet__proc_alive(pid_t pid, uint64_t start_time);
/* The inode of this process's PID namespace (/proc/self/ns/pid), or 0 when
 * it cannot be read. Equal values mean pids are comparable. */
uint64_t shmet__pid_ns(void);
int32_t shmet__gettid(void);
uint64_t shmet__now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_LIBSHM_SHM_H */
