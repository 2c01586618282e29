/* SPDX-License-Identifier: MIT */
/*
 * client/recorders.c - the one external definition of each inline function
 * of shmetrics.h (tag-recorder-linkage): the recorders shmet_inc, shmet_add,
 * shmet_dec, shmet_set and shmet_observe, exported from libshmetrics under
 * their own names for callers that cannot inline C (ctypes, cffi, Go, Rust)
 * or that take a recorder's address, and the helpers they are made of.
 *
 * Under C99 inline semantics a TU whose file-scope declarations of an
 * inline function all say `inline` without `extern` holds an inline
 * definition only (C11 6.7.4p7); the `extern` declarations below make the
 * header's definitions external ones here, and nowhere else. They keep the
 * default visibility SHMET_EXTERN gives the header's declarations, so the
 * -fvisibility=hidden build still exports them.
 */
#include <shmetrics.h>

#if !defined(__GNUC_STDC_INLINE__)
#error "client/recorders.c needs C99 inline semantics (not -std=gnu89 or -fgnu89-inline)"
#endif

extern inline int shmet__ring_push(struct shmet__ring_producer *r, uint32_t series, uint16_t op,
                                   uint16_t aux, double v);
extern inline void shmet__record(struct shmet_series s, uint16_t op, double v);

extern inline void shmet_add(struct shmet_series s, double v);
extern inline void shmet_inc(struct shmet_series s);
extern inline void shmet_dec(struct shmet_series s);
extern inline void shmet_set(struct shmet_series s, double v);
extern inline void shmet_observe(struct shmet_series s, double v);
