/* SPDX-License-Identifier: MIT */
/*
 * tests/cxx/cxx_consumer.h - what the C++ test needs from C: the test
 * consumer of tests/common/t_consumer.h (whose header pulls in libshm's
 * C-only internals) behind plain functions, and the C compiler's view of
 * the layouts that C++ code shares with the library. Compiles as C and C++.
 */
#ifndef SHMETRICS_TESTS_CXX_CONSUMER_H
#define SHMETRICS_TESTS_CXX_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include <shmetrics.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cxx_consumer;

/* Map the segment of ns and make a consumer over it; NULL on failure. */
struct cxx_consumer *cxx_consumer_open(const char *ns);
void cxx_consumer_close(struct cxx_consumer *cc);

/* Drain every slot once (freeing DEAD ones); the sample records applied. */
uint64_t cxx_drain(struct cxx_consumer *cc);

/* Totals by family and '|'-joined label values, as in t_consumer.h. */
double cxx_counter(struct cxx_consumer *cc, const char *family, const char *labels);
double cxx_gauge_sum(struct cxx_consumer *cc, const char *family, const char *labels);
uint64_t cxx_hist_count(struct cxx_consumer *cc, const char *family, const char *labels);
double cxx_hist_sum(struct cxx_consumer *cc, const char *family, const char *labels);
uint64_t cxx_hist_bucket(struct cxx_consumer *cc, const char *family, const char *labels,
                         uint32_t i);
uint64_t cxx_invalid(struct cxx_consumer *cc);
/* Samples dropped for a full ring or no free slot, over the segment. */
uint64_t cxx_dropped(struct cxx_consumer *cc);

/* Remove the namespace's segment and checkpoint, if any. */
void cxx_ns_cleanup(const char *ns);

/* Layout facts each language computes for itself (CXX_LAYOUT below);
 * cxx_c_layout() fills out[] with the C compiler's and returns the count. */
#define CXX_LAYOUT(X)                                                                              \
    X(sizeof(struct shmet_abi_header))                                                             \
    X(SHMET__ALIGNOF(struct shmet_abi_header))                                                     \
    X(offsetof(struct shmet_abi_header, heartbeat_ns))                                             \
    X(offsetof(struct shmet_abi_header, listen_addr))                                              \
    X(sizeof(struct shmet_abi_slot))                                                               \
    X(SHMET__ALIGNOF(struct shmet_abi_slot))                                                       \
    X(offsetof(struct shmet_abi_slot, lock_gen))                                                   \
    X(offsetof(struct shmet_abi_slot, pid_ns))                                                     \
    X(offsetof(struct shmet_abi_slot, head))                                                       \
    X(offsetof(struct shmet_abi_slot, tail))                                                       \
    X(sizeof(struct shmet_abi_record))                                                             \
    X(sizeof(struct shmet_series))                                                                 \
    X(sizeof(struct shmet_options))                                                                \
    X(sizeof(struct shmet__ring_producer))                                                         \
    X(offsetof(struct shmet__ring_producer, head_pub))                                             \
    X(offsetof(struct shmet__ring_producer, dropped_pub))                                          \
    X(sizeof(struct shmet__producer))                                                              \
    X(SHMET__ALIGNOF(struct shmet__producer))                                                      \
    X(offsetof(struct shmet__producer, defined))                                                   \
    X(offsetof(struct shmet__producer, gen))
#define CXX_LAYOUT_MAX 32
size_t cxx_c_layout(size_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_TESTS_CXX_CONSUMER_H */
