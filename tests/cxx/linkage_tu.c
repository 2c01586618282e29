/* SPDX-License-Identifier: MIT */
/*
 * tests/cxx/linkage_tu.c - one translation unit of the linkage test,
 * compiled as C (linkage_a, linkage_b) and as C++ (linkage_cxx): every
 * recorder called inline, and its address taken, which needs the one
 * external definition (or, in C++, a mergeable copy of it).
 */
#include "linkage.h"

void LINKAGE_TU(struct shmet_series s, struct linkage_ptrs *out)
{
    shmet_inc(s);
    shmet_add(s, 1.0);
    shmet_dec(s);
    shmet_set(s, 2.0);
    shmet_observe(s, 3.0);
    out->inc = shmet_inc;
    out->add = shmet_add;
    out->dec = shmet_dec;
    out->set = shmet_set;
    out->observe = shmet_observe;
}
