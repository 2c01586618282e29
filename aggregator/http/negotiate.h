/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/negotiate.h - content negotiation for GET /metrics: which
 * exposition format (Accept) and whether to gzip (Accept-Encoding). Pure
 * functions over the header values the parser (http.c) collected.
 *
 * Format (RFC 9110 12.5.1). Each format is weighed by the most specific
 * media range that matches it (type/subtype with parameters, then
 * type/subtype, type/ *, * / *); among ranges equally specific, the
 * highest q counts. OpenMetrics is chosen when its weight is above that of
 * text, or equal and from a more specific range; otherwise text 0.0.4.
 *   - application/openmetrics-text matches with version 1.0.0, 0.0.1 or
 *     none. 0.0.1 is the draft name of the same wire format; Prometheus
 *     parses both alike, so it is served as 1.0.0 and labelled so.
 *   - text/plain matches with version 0.0.4, 1.0.0 or none: every name
 *     shmetrics holds is a legacy Prometheus name, so 0.0.4 output is also
 *     valid 1.0.0 output; it is labelled 0.0.4.
 *   - a charset parameter other than utf-8 stops a range from matching;
 *     other parameters (escaping=...) change nothing in our output and
 *     are ignored.
 *   - q=0 means "not acceptable". A malformed element (bad q, missing
 *     subtype, stray bytes) is ignored, the rest still counts.
 *   - when nothing is acceptable, or Accept is absent, the answer is text
 *     0.0.4 rather than 406: every Prometheus-compatible scraper reads it.
 *
 * Encoding (RFC 9110 12.5.3). gzip (or x-gzip, or *) with q > 0 is used
 * unless identity is strictly preferred by an explicit identity or *
 * element. Without Accept-Encoding the response is not compressed.
 */
#ifndef SHMETRICS_AGGREGATOR_NEGOTIATE_H
#define SHMETRICS_AGGREGATOR_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "render/expo.h"
#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format to serve for these Accept field lines (n may be 0). */
enum expo_format negotiate_format(const struct http_str *accept, size_t n);

/* Whether to gzip, for these Accept-Encoding field lines (n may be 0). */
bool negotiate_gzip(const struct http_str *accept_encoding, size_t n);

/* A qvalue ("0.5", "1", "0.125") in thousandths, 0..1000; -EINVAL when it
 * is not one (more than three decimals, above 1, empty). */
int negotiate_qvalue(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_AGGREGATOR_NEGOTIATE_H */
