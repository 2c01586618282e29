/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/guard.c - see guard.h. The handler and guard_run() share a
 * few variables. The handler runs on the thread it interrupts (a SIGBUS
 * from a memory access is synchronous), so the variables are lock-free
 * atomics accessed RELAXED, and atomic_signal_fence() orders them against
 * the interrupted code: only the compiler could reorder them.
 *
 * SA_NODEFER keeps SIGBUS unblocked inside the handler, so a jump out of
 * it (sigsetjmp without a saved mask, no system call per guarded run)
 * leaves the signal mask as it was, and a re-raise there is delivered at
 * once.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "ingest/guard.h"

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the handler needs lock-free atomics");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the handler needs lock-free atomics");

static sigjmp_buf jump;            /* set by guard_run() before active */
static _Atomic uintptr_t range_lo; /* the guarded range, [lo, hi) */
static _Atomic uintptr_t range_hi;
static _Atomic uintptr_t fault_at; /* the address that faulted */
static _Atomic int active;         /* a guarded call is running */
static _Atomic int installed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    struct sigaction dfl;

    (void)uc;
    /* RELAXED: see the file comment. si_code > 0: raised by the kernel for
     * an access, not sent by kill() or sigqueue(). */
    if (atomic_load_explicit(&active, memory_order_relaxed) && si->si_code > 0 &&
        a >= atomic_load_explicit(&range_lo, memory_order_relaxed) &&
        a < atomic_load_explicit(&range_hi, memory_order_relaxed)) {
        atomic_store_explicit(&fault_at, a, memory_order_relaxed);
        atomic_store_explicit(&active, 0, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
        siglongjmp(jump, 1);
    }
    /* Not ours: die of it. sigaction() and raise() are async-signal-safe. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

int guard_install(void)
{
    struct sigaction sa;

    /* RELAXED: one thread installs, before any guarded call. */
    if (atomic_load_explicit(&installed, memory_order_relaxed))
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0)
        return -errno;
    atomic_store_explicit(&installed, 1, memory_order_relaxed);
    return 0;
}

int guard_run(const void *base, uint64_t len, void (*fn)(void *), void *arg, uintptr_t *fault)
{
    /* RELAXED: one thread; see the file comment. */
    if (!atomic_load_explicit(&installed, memory_order_relaxed) ||
        atomic_load_explicit(&active, memory_order_relaxed))
        return -EINVAL;
    atomic_store_explicit(&range_lo, (uintptr_t)base, memory_order_relaxed);
    atomic_store_explicit(&range_hi, (uintptr_t)base + len, memory_order_relaxed);
    if (sigsetjmp(jump, 0) != 0) {
        atomic_signal_fence(memory_order_seq_cst);
        if (fault != NULL)
            *fault = atomic_load_explicit(&fault_at, memory_order_relaxed);
        return -EFAULT;
    }
    /* The range and the jump buffer are in place before the handler can
     * see active; fn's accesses come after it. */
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&active, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    fn(arg);
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&active, 0, memory_order_relaxed);
    return 0;
}
