/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_fmt.c - libFuzzer target for the exposition's number
 * formatter, fmt_double() (aggregator/render/number.c), against its reference,
 * fmt_double_printf() (snprintf and strtod). For every finite double:
 *   - the text reads back as exactly the same double;
 *   - it is the reference's text, except for integers below 2^53 (written
 *     in full on purpose) and where the reference needs 17 digits but a
 *     shorter text exists: then it is shorter;
 *   - it fits the 32 bytes the callers reserve, and the length returned
 *     is the length written.
 * NaN and infinities are their fixed spellings.
 *
 * Input: 8 bytes, the double's bits (shorter inputs are zero-padded).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t bits = 0;
    char out[33], ref[33];
    double v;

    memcpy(&bits, data, size < sizeof(bits) ? size : sizeof(bits));
    memcpy(&v, &bits, sizeof(v));
    memset(out, 0x7f, sizeof(out));
    size_t n = fmt_double(out, v);
    if (n >= 32 || out[n] != '\0' || strlen(out) != n)
        abort();
    if (isnan(v)) {
        if (strcmp(out, "NaN") != 0)
            abort();
        return 0;
    }
    if (isinf(v)) {
        if (strcmp(out, v > 0 ? "+Inf" : "-Inf") != 0)
            abort();
        return 0;
    }
    if (strtod(out, NULL) != v || signbit(strtod(out, NULL)) != signbit(v))
        abort();
    size_t rn = fmt_double_printf(ref, v);
    if (strcmp(out, ref) != 0 && v != trunc(v) && !(n < rn))
        abort();
    return 0;
}
