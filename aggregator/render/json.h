/* SPDX-License-Identifier: MIT */
/*
 * aggregator/render/json.h - a streaming JSON (RFC 8259) writer into a
 * struct buf, for the /debug document. Numbers are written as the
 * exposition writes them (fmt_double, number.h), so 0.1 is 0.1; a library
 * printing %.17g would write 0.10000000000000001.
 *
 * Layout: one member a line, indented one space a level, "key": value,
 * empty containers as {} and [] (the layout of jansson's JSON_INDENT(1)).
 *
 * Values:
 *   - jw_real: a double by fmt_double, with ".0" added where that text
 *     would read as an integer (1.0, -0.0), so that a reader keeps it a
 *     real; NaN and the infinities, which JSON cannot hold, as the strings
 *     "NaN", "+Inf", "-Inf";
 *   - jw_int: an integer, as the int64 that readers of JSON integers hold
 *     (jansson refuses a larger one): an unsigned count past INT64_MAX,
 *     which only a corrupted slot shows, reads as negative, as it did
 *     when /debug was written with jansson;
 *   - jw_string: any bytes, escaped: quote and backslash; the control
 *     characters U+0000..U+001F as \b \f \n \r \t or \u00XX (uppercase
 *     hex); everything else as it is, UTF-8 included. Bytes that are not
 *     UTF-8 (a stray continuation byte, a truncated or overlong sequence,
 *     a surrogate, past U+10FFFF) become U+FFFD, one for each maximal
 *     ill-formed subpart (the Unicode recommendation, as Python's
 *     errors="replace" does): the output is valid UTF-8 and valid JSON
 *     whatever the input. Keys are strings too.
 *
 * Every value takes a key: the member's name inside an object, NULL inside
 * an array and at the top. Containers nest up to JW_DEPTH_MAX deep; a
 * deeper one, like a failed allocation, fails the buffer (buf_failed()).
 * The writer checks no other misuse (a key in an array, a value where a
 * key is due): the caller's structure is the document's.
 */
#ifndef SHMETRICS_AGGREGATOR_JSON_H
#define SHMETRICS_AGGREGATOR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/buf.h"

#define JW_DEPTH_MAX 32u

struct jw {
    struct buf *b;
    unsigned depth;  /* containers open */
    uint32_t arrays; /* bit d: the container at depth d + 1 is an array */
    uint32_t filled; /* bit d: it has a member already */
};

void jw_init(struct jw *w, struct buf *b);

void jw_object(struct jw *w, const char *key);
void jw_array(struct jw *w, const char *key);
/* Close the innermost container. */
void jw_end(struct jw *w);

void jw_string(struct jw *w, const char *key, const char *s, size_t n);
/* A NUL-terminated string; NULL writes null. */
void jw_cstring(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_real(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, bool v);

#endif /* SHMETRICS_AGGREGATOR_JSON_H */
