/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/guard.h - surviving a segment that shrinks under us
 * (tag-seg-guard). Anyone with write access can ftruncate the segment
 * file; the next access to a page past the new end raises SIGBUS, which
 * would kill the aggregator. Every access to the mapping therefore runs
 * inside guard_run(): a SIGBUS handler jumps back out of it when, and only
 * when, the faulting address lies in the guarded range while a guarded
 * call is running. Any other SIGBUS (a bug elsewhere, kill -BUS) restores
 * the default action and re-raises, so the process dies of it as it
 * would without the handler.
 *
 * The guarded function is abandoned at the faulting access: it must keep
 * its own (non-segment) state consistent at every access to the segment,
 * and must not hold resources (heap blocks, descriptors) in locals
 * across such accesses. The compiler may move its plain stores across
 * such an access, so the last changes it made just before the fault may
 * or may not have happened: after -EFAULT, the caller forgets whatever
 * described the segment (drain_forget()). One thread; guarded calls do
 * not nest.
 */
#ifndef SHMETRICS_AGGREGATOR_GUARD_H
#define SHMETRICS_AGGREGATOR_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Install the SIGBUS handler (once; later calls do nothing). 0 or -errno. */
int guard_install(void);

/* Run fn(arg) with SIGBUS inside [base, base + len) caught. Returns 0 when
 * fn returned, -EFAULT when an access in the range faulted (fn was
 * abandoned there; *fault, when not NULL, is the address), -EINVAL when
 * the handler is not installed or a guarded call is already running. */
int guard_run(const void *base, uint64_t len, void (*fn)(void *), void *arg, uintptr_t *fault);

#endif /* SHMETRICS_AGGREGATOR_GUARD_H */
