/* SPDX-License-Identifier: MIT */
/*
 * libshm/endpoint.c - where the aggregator of a namespace listens, and
 * whether it is alive (tag-listen-publish in abi.h). The aggregator holding
 * the namespace lock is the only writer of the listen_* header fields; any
 * process may read them. Readers also judge liveness from aggregator_pid
 * and heartbeat_ns, so a SIGKILLed aggregator's stale endpoint is ignored
 * within SHMET_HEARTBEAT_STALE_NS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shm.h"

#define READ_TRIES 64 /* torn reads in a row before giving up */

void shmet__endpoint_publish(struct shmet_abi_header *h, const struct shmet__endpoint *e)
{
    /* RELAXED: only the lock holder writes listen_seq. */
    uint32_t seq = atomic_load_explicit(&h->listen_seq, memory_order_relaxed);
    uint32_t meta = 0, words[4] = {0};

    if (e != NULL && (e->family == SHMET_LISTEN_IPV4 || e->family == SHMET_LISTEN_IPV6)) {
        meta = (uint32_t)e->family << 16 | e->port;
        memcpy(words, e->addr, sizeof(words));
    }
    seq |= 1u; /* odd: a write is under way (even if a crash left it odd) */
    atomic_store_explicit(&h->listen_seq, seq, memory_order_relaxed);
    /* RELEASE fence: orders the odd listen_seq above before the field
     * stores below, so a reader that sees any new field also sees the odd
     * (or a later) sequence on its second load; pairs with the ACQUIRE
     * fence in shmet__endpoint_read(). */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&h->listen_meta, meta, memory_order_relaxed);
    for (int i = 0; i < 4; i++)
        atomic_store_explicit(&h->listen_addr[i], words[i], memory_order_relaxed);
    /* RELEASE: publishes the fields above; pairs with the ACQUIRE load of
     * listen_seq in shmet__endpoint_read(). */
    atomic_store_explicit(&h->listen_seq, seq + 1, memory_order_release);
}

int shmet__endpoint_read(const struct shmet_abi_header *h, struct shmet__endpoint *out)
{
    for (int t = 0; t < READ_TRIES; t++) {
        /* ACQUIRE: pairs with the writer's final RELEASE store. */
        uint32_t s1 = atomic_load_explicit(&h->listen_seq, memory_order_acquire), s2;
        uint32_t meta, words[4];

        if (s1 & 1u)
            continue;
        /* RELAXED: validated by the sequence check below. */
        meta = atomic_load_explicit(&h->listen_meta, memory_order_relaxed);
        for (int i = 0; i < 4; i++)
            words[i] = atomic_load_explicit(&h->listen_addr[i], memory_order_relaxed);
        /* ACQUIRE fence: the field loads above happen before the re-read of
         * listen_seq; pairs with the writer's RELEASE fence. */
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&h->listen_seq, memory_order_relaxed);
        if (s1 != s2)
            continue;
        if (meta == 0)
            return -ENOENT;
        out->family = (uint16_t)(meta >> 16);
        out->port = (uint16_t)(meta & 0xffffu);
        memcpy(out->addr, words, sizeof(words));
        if ((out->family != SHMET_LISTEN_IPV4 && out->family != SHMET_LISTEN_IPV6) ||
            out->port == 0)
            return -EBADMSG; /* untrusted: not something an aggregator writes */
        return 0;
    }
    return -EAGAIN;
}

/* An unspecified address (0.0.0.0, ::) accepts on every local address:
 * name the loopback one, which a process on this host can always reach. */
static void loopback_if_any(struct shmet__endpoint *e)
{
    static const uint8_t zero[16];
    size_t n = e->family == SHMET_LISTEN_IPV4 ? 4 : 16;

    if (memcmp(e->addr, zero, n) != 0)
        return;
    if (e->family == SHMET_LISTEN_IPV4) {
        const uint8_t lo4[4] = {127, 0, 0, 1};
        memcpy(e->addr, lo4, 4);
    } else {
        e->addr[15] = 1;
    }
}

int shmet__endpoint_format(const struct shmet__endpoint *e, char *buf, size_t len)
{
    struct shmet__endpoint c = *e;
    char a[INET6_ADDRSTRLEN];
    int n;

    loopback_if_any(&c);
    if (inet_ntop(c.family == SHMET_LISTEN_IPV4 ? AF_INET : AF_INET6, c.addr, a, sizeof(a)) == NULL)
        return -EINVAL;
    n = c.family == SHMET_LISTEN_IPV4 ? snprintf(buf, len, "%s:%u", a, (unsigned)c.port)
                                      : snprintf(buf, len, "[%s]:%u", a, (unsigned)c.port);
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

bool shmet__aggregator_live(const struct shmet_abi_header *h, uint64_t now_ns)
{
    /* RELAXED: reports written independently by the aggregator; a reader
     * only needs a recent value of each. */
    int32_t pid = atomic_load_explicit(&h->aggregator_pid, memory_order_relaxed);
    uint64_t hb = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed);
    uint64_t age = now_ns >= hb ? now_ns - hb : hb - now_ns; /* the clock may step back */

    return pid > 0 && hb != 0 && age <= SHMET_HEARTBEAT_STALE_NS;
}
