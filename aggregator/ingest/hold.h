/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/hold.h - the aggregator's hold on the segment of its
 * namespace (tag-seg-hold): the mapping, and the file held with an
 * exclusive flock() (one shmetricsd per namespace; the kernel drops the
 * lock however the process dies). The segment file can be changed under
 * us by anyone allowed to write it:
 *
 *   attached -> lost      the file was truncated: an access faulted
 *                         (guard.h), or its size was found short. The
 *                         mapping is dropped and nothing reads it any more;
 *                         the store keeps serving what was drained.
 *   lost -> attached      a valid segment is at the name again (a producer
 *                         or shmtool created one).
 *   attached -> attached  another file is at the name (renamed over it):
 *                         the old mapping is drained a last time, then the
 *                         new one attached. Producers still attached to the
 *                         old file are not read any more.
 * A name that vanished (unlinked) while the file is intact changes
 * nothing: producers attached to it go on recording into it.
 *
 * Each change is one line on stderr. hold_check() looks at the name and
 * the file; the server calls it once a second.
 */
#ifndef SHMETRICS_AGGREGATOR_HOLD_H
#define SHMETRICS_AGGREGATOR_HOLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm.h"

enum hold_change {
    HOLD_SAME, /* nothing changed */
    HOLD_LOST, /* the segment was found truncated just now */
    HOLD_NEW,  /* h->seg is another segment now */
};

struct hold {
    struct shmet__seg seg; /* base NULL while lost; the geometry stays */
    int fd;                /* the file, flock()ed; -1 while lost */
    bool lost;             /* no mapping: nothing may read the segment */
    bool created;          /* hold_open() created the segment */
    bool open_failed;      /* hold_open() could not open or create the file */
    int32_t pid;           /* ours, marked in the header (aggregator_pid) */
    dev_t dev;             /* the file mapped */
    ino_t ino;
    dev_t told_dev; /* a file at the name refused and said so */
    ino_t told_ino;
    struct shmet__endpoint endpoint; /* published with the mark; family 0: none */
    uint64_t attaches; /* the first included */
    uint64_t losses;   /* attached -> lost */
    char ns[SHMET_NS_MAX + 1];
    char path[512];
};

/*
 * hold_open - attach to (or create, with geometry geo) the segment of ns,
 * lock it and mark it served by pid; install the SIGBUS guard. On failure
 * prints why to stderr and returns a negative errno; -EWOULDBLOCK when
 * another shmetricsd holds the namespace. Prints "created segment ..." on
 * stdout when it created it (with geometry geo and permissions perm; an
 * existing segment keeps its own: h->created says which). When opening or
 * creating the file itself failed, h->open_failed is set and nothing is
 * printed: the caller knows the flags to explain it with.
 */
int hold_open(struct hold *h, const char *ns, const struct shmet__geometry *geo,
              const struct shmet__perm *perm, int32_t pid);

/* Unmark the segment (if still ours), unmap, unlock. */
void hold_close(struct hold *h);

/* Run fn(arg) on the mapping, guarded (guard.h). 0; -ENXIO when lost (fn
 * did not run); -EFAULT when the segment was lost during fn (fn was cut
 * short, the loss reported). */
int hold_run(struct hold *h, void (*fn)(void *), void *arg);

/* Look at the file and the name (see the file comment). Before moving from
 * an intact mapping to a new file, last(arg) runs on the old one, guarded. */
enum hold_change hold_check(struct hold *h, void (*last)(void *), void *arg);

/* Remember where the HTTP listener is and publish it in the header, now
 * and on every later attach (tag-listen-publish); cleared by hold_close(). */
void hold_set_endpoint(struct hold *h, const struct shmet__endpoint *e);

/* Give the mapping up without counting a loss (the caller cannot follow
 * it, e.g. out of memory): lost until hold_check() attaches again. */
void hold_drop(struct hold *h, const char *why);

#endif /* SHMETRICS_AGGREGATOR_HOLD_H */
