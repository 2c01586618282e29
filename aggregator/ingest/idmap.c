/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/idmap.c - a slot's ids (slot-local, below 2^24) to
 * its bindings: a table of pages of PAGE_IDS entries, made on first use,
 * so a lookup is two loads and ids need not be dense (drain_impl.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ingest/drain_impl.h"

void idmap_init(struct idmap *m, uint32_t elem)
{
    memset(m, 0, sizeof(*m));
    m->elem = elem;
}

void idmap_fini(struct idmap *m)
{
    for (uint32_t i = 0; i < m->npages; i++)
        free(m->pages[i]);
    free(m->pages);
    m->pages = NULL;
    m->npages = 0;
}

/* Entry for id, making its page; NULL for ids beyond IDS_MAX or ENOMEM. */
void *idmap_put(struct idmap *m, uint32_t id)
{
    uint32_t p = id / PAGE_IDS;

    if (id >= IDS_MAX)
        return NULL;
    if (p >= m->npages) {
        uint32_t n = p + 1 > m->npages * 2 ? p + 1 : m->npages * 2;
        void **pages = realloc(m->pages, n * sizeof(void *));
        if (pages == NULL)
            return NULL;
        memset(pages + m->npages, 0, (n - m->npages) * sizeof(void *));
        m->pages = pages;
        m->npages = n;
    }
    if (m->pages[p] == NULL) {
        /* Cache-line aligned, so that no 32-byte binding straddles two
         * lines: the drain touches one binding per sample, at random. */
        size_t bytes = ((size_t)PAGE_IDS * m->elem + 63) & ~(size_t)63;
        if ((m->pages[p] = aligned_alloc(64, bytes)) == NULL)
            return NULL;
        memset(m->pages[p], 0, bytes);
    }
    return (uint8_t *)m->pages[p] + (size_t)(id % PAGE_IDS) * m->elem;
}
