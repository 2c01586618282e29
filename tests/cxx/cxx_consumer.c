/* SPDX-License-Identifier: MIT */
/*
 * tests/cxx/cxx_consumer.c - see cxx_consumer.h: the test consumer over a
 * namespace's segment, compiled as C for the C++ test.
 */
#include <stdlib.h>

#include "cxx_consumer.h"
#include "shm.h"
#include "t_consumer.h"

struct cxx_consumer {
    struct shmet__seg seg;
    struct t_consumer *tc;
};

struct cxx_consumer *cxx_consumer_open(const char *ns)
{
    struct cxx_consumer *cc = calloc(1, sizeof(*cc));

    if (cc == NULL)
        return NULL;
    if (shmet__seg_open(ns, NULL, 0, 0, &cc->seg) < 0) {
        free(cc);
        return NULL;
    }
    cc->tc = t_consumer_new(&cc->seg);
    return cc;
}

void cxx_consumer_close(struct cxx_consumer *cc)
{
    if (cc == NULL)
        return;
    t_consumer_free(cc->tc);
    shmet__seg_close(&cc->seg);
    free(cc);
}

uint64_t cxx_drain(struct cxx_consumer *cc)
{
    return t_consumer_drain(cc->tc);
}

double cxx_counter(struct cxx_consumer *cc, const char *family, const char *labels)
{
    return t_counter(cc->tc, family, labels);
}

double cxx_gauge_sum(struct cxx_consumer *cc, const char *family, const char *labels)
{
    return t_gauge_sum(cc->tc, family, labels);
}

uint64_t cxx_hist_count(struct cxx_consumer *cc, const char *family, const char *labels)
{
    return t_hist_count(cc->tc, family, labels);
}

double cxx_hist_sum(struct cxx_consumer *cc, const char *family, const char *labels)
{
    return t_hist_sum(cc->tc, family, labels);
}

uint64_t cxx_hist_bucket(struct cxx_consumer *cc, const char *family, const char *labels,
                         uint32_t i)
{
    return t_hist_bucket(cc->tc, family, labels, i);
}

uint64_t cxx_invalid(struct cxx_consumer *cc)
{
    return t_invalid(cc->tc);
}

uint64_t cxx_dropped(struct cxx_consumer *cc)
{
    /* RELAXED: statistics; the producers are done (joined or reaped). */
    uint64_t n = atomic_load_explicit(&cc->seg.hdr->noslot_dropped, memory_order_relaxed);

    for (uint32_t i = 0; i < cc->seg.slots; i++)
        n += atomic_load_explicit(&shmet__slot(&cc->seg, i)->dropped, memory_order_relaxed);
    return n;
}

void cxx_ns_cleanup(const char *ns)
{
    (void)shmet__seg_unlink(ns);
    (void)shmet__state_unlink(ns);
}

size_t cxx_c_layout(size_t *out)
{
    size_t n = 0;

#define CXX_PUT(v) out[n++] = (v);
    CXX_LAYOUT(CXX_PUT)
#undef CXX_PUT
    return n;
}
