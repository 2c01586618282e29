/* SPDX-License-Identifier: MIT */
/*
 * tests/cxx/linkage_main.c - the linkage test's program: the translation
 * units agree on one address per recorder, and calling through those
 * addresses works. A zeroed series records nothing, so no segment is
 * needed. Exit status 0, or the number of the first check that failed.
 */
#include <stdio.h>
#include <string.h>

#include "linkage.h"

static int same(const struct linkage_ptrs *x, const struct linkage_ptrs *y)
{
    return x->inc == y->inc && x->add == y->add && x->dec == y->dec && x->set == y->set &&
           x->observe == y->observe;
}

int main(void)
{
    struct shmet_series z;
    struct linkage_ptrs a, b;

    memset(&z, 0, sizeof(z));
    linkage_a(z, &a);
    linkage_b(z, &b);
    if (!same(&a, &b))
        return 1;
#ifdef LINKAGE_CXX
    {
        struct linkage_ptrs x;
        linkage_cxx(z, &x);
        if (!same(&a, &x))
            return 2;
    }
#endif
    a.inc(z);
    a.add(z, 1.0);
    a.dec(z);
    a.set(z, 2.0);
    a.observe(z, 3.0);
    if (strcmp(shmet_last_error(), "") != 0)
        return 3;
    puts("linkage: ok");
    return 0;
}
