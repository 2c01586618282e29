/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_endpoint.c - libshm/endpoint.c: the aggregator's
 * published listener (tag-listen-publish) round-trips, clears, is named
 * as loopback when unspecified, refuses garbage written by anyone, and is
 * believed only while the heartbeat is fresh. A reader racing a writer
 * never sees a torn address.
 */
#include <pthread.h>
#include <string.h>

#include "shm.h"
#include "t_util.h"

static struct shmet_abi_header hdr;

static struct shmet__endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct shmet__endpoint e = {.family = SHMET_LISTEN_IPV4, .port = port};

    e.addr[0] = a, e.addr[1] = b, e.addr[2] = c, e.addr[3] = d;
    return e;
}

static void test_endpoint_publish_read_format(void)
{
    struct shmet__endpoint e = v4(127, 0, 0, 1, 9477), out;
    char buf[64];

    memset(&hdr, 0, sizeof(hdr));
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), -ENOENT);
    shmet__endpoint_publish(&hdr, &e);
    CU_ASSERT_EQUAL_FATAL(shmet__endpoint_read(&hdr, &out), 0);
    CU_ASSERT_EQUAL(out.port, 9477);
    CU_ASSERT_EQUAL(shmet__endpoint_format(&out, buf, sizeof(buf)), 14);
    CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1:9477");
    CU_ASSERT_EQUAL(atomic_load(&hdr.listen_seq) & 1u, 0);
    shmet__endpoint_publish(&hdr, NULL);
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), -ENOENT);
}

static void test_endpoint_format_unspecified_and_v6(void)
{
    struct shmet__endpoint any4 = v4(0, 0, 0, 0, 80), any6 = {.family = SHMET_LISTEN_IPV6, .port = 81};
    struct shmet__endpoint lo6 = {.family = SHMET_LISTEN_IPV6, .port = 82};
    char buf[64];

    lo6.addr[15] = 1;
    CU_ASSERT(shmet__endpoint_format(&any4, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1:80");
    CU_ASSERT(shmet__endpoint_format(&any6, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "[::1]:81");
    CU_ASSERT(shmet__endpoint_format(&lo6, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "[::1]:82");
    CU_ASSERT_EQUAL(shmet__endpoint_format(&lo6, buf, 5), -ENOSPC);
}

static void test_endpoint_read_refuses_garbage(void)
{
    struct shmet__endpoint out;

    memset(&hdr, 0, sizeof(hdr));
    atomic_store(&hdr.listen_meta, 5u << 16 | 80u); /* family 5 */
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), -EBADMSG);
    atomic_store(&hdr.listen_meta, SHMET_LISTEN_IPV4 << 16); /* port 0 */
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), -EBADMSG);
    atomic_store(&hdr.listen_seq, 7u); /* a writer died mid-write: stays odd */
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), -EAGAIN);
    struct shmet__endpoint e = v4(10, 1, 2, 3, 1234);
    shmet__endpoint_publish(&hdr, &e); /* the next writer recovers it */
    CU_ASSERT_EQUAL(shmet__endpoint_read(&hdr, &out), 0);
    CU_ASSERT_EQUAL(memcmp(out.addr, e.addr, 4), 0);
}

static void test_aggregator_live_heartbeat(void)
{
    uint64_t now = UINT64_C(1700000000) * 1000000000u;

    memset(&hdr, 0, sizeof(hdr));
    CU_ASSERT_FALSE(shmet__aggregator_live(&hdr, now));
    atomic_store(&hdr.aggregator_pid, 42);
    CU_ASSERT_FALSE(shmet__aggregator_live(&hdr, now)); /* never beat */
    atomic_store(&hdr.heartbeat_ns, now - SHMET_HEARTBEAT_STALE_NS);
    CU_ASSERT_TRUE(shmet__aggregator_live(&hdr, now));
    atomic_store(&hdr.heartbeat_ns, now - SHMET_HEARTBEAT_STALE_NS - 1);
    CU_ASSERT_FALSE(shmet__aggregator_live(&hdr, now));
    atomic_store(&hdr.heartbeat_ns, now + 1000); /* the clock stepped back */
    CU_ASSERT_TRUE(shmet__aggregator_live(&hdr, now));
    atomic_store(&hdr.aggregator_pid, 0);
    CU_ASSERT_FALSE(shmet__aggregator_live(&hdr, now));
}

/* Two addresses whose every byte differs: a torn read would mix them. */
static _Atomic int stop;
static _Atomic unsigned long writes;

static void *writer(void *arg)
{
    struct shmet__endpoint a = v4(1, 1, 1, 1, 1111), b = v4(2, 2, 2, 2, 2222);

    (void)arg;
    for (unsigned i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++)
    {
        shmet__endpoint_publish(&hdr, (i & 1) ? &a : &b);
        atomic_fetch_add_explicit(&writes, 1, memory_order_relaxed);
    }
    return NULL;
}

static void test_endpoint_read_never_torn(void)
{
    pthread_t t;
    unsigned long ok = 0, torn = 0;

    struct shmet__endpoint first = v4(2, 2, 2, 2, 2222);

    memset(&hdr, 0, sizeof(hdr));
    shmet__endpoint_publish(&hdr, &first);
    atomic_store(&stop, 0);
    atomic_store(&writes, 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, writer, NULL), 0);
    /* Until both sides have done enough, however the threads are scheduled. */
    for (long i = 0; i < 200000 || atomic_load(&writes) < 100000; i++) {
        struct shmet__endpoint out;
        int rc = shmet__endpoint_read(&hdr, &out);
        if (rc == -EAGAIN)
            continue; /* the writer kept it busy: allowed, never wrong */
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        uint8_t x = out.addr[0];
        if (!((x == 1 && out.port == 1111) || (x == 2 && out.port == 2222)) ||
            out.addr[1] != x || out.addr[2] != x || out.addr[3] != x)
            torn++;
        else
            ok++;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(torn, 0);
    CU_ASSERT(ok > 0);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_endpoint_publish_read_format", test_endpoint_publish_read_format},
        {"test_endpoint_format_unspecified_and_v6", test_endpoint_format_unspecified_and_v6},
        {"test_endpoint_read_refuses_garbage", test_endpoint_read_refuses_garbage},
        {"test_aggregator_live_heartbeat", test_aggregator_live_heartbeat},
        {"test_endpoint_read_never_torn", test_endpoint_read_never_torn},
    };

    return T_RUN("endpoint", tests);
}
