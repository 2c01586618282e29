/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/number.h - the text of every number shmetricsd
 * serves: sample values, bucket bounds and counts in the exposition, the
 * numbers of /debug, Content-Length. How fmt_double finds its digits, and
 * why they are exact, is told in number.c.
 */
#ifndef SHMETRICS_AGGREGATOR_NUMBER_H
#define SHMETRICS_AGGREGATOR_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "render/buf.h"

/* The room fmt_double needs: "-1.7976931348623157e+308" and its NUL fit. */
#define FMT_DOUBLE_MAX 32

/* Shortest text for v that reads back as v: "NaN", "+Inf", "-Inf", an
 * integer, or the digits %.15g..%.17g would give, laid out as they would.
 * Writes at most FMT_DOUBLE_MAX bytes, NUL included; returns the length. */
size_t fmt_double(char *out, double v);
/* The same by snprintf and strtod: the first of %.15g, %.16g, %.17g that
 * reads back as v. fmt_double's reference; slower by an order. */
size_t fmt_double_printf(char *out, double v);
/* Decimal text of v in out (at least 21 bytes); returns the length. */
size_t fmt_u64(char *out, uint64_t v);

/* fmt_u64 appended to b. Inline, so that number.c needs no buffer. */
static inline void buf_u64(struct buf *b, uint64_t v)
{
    char tmp[24];

    buf_put(b, tmp, fmt_u64(tmp, v));
}

#endif /* SHMETRICS_AGGREGATOR_NUMBER_H */
