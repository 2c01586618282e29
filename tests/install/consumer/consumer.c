/* SPDX-License-Identifier: MIT */
/*
 * tests/install/consumer/consumer.c - a program built against an installed
 * shmetrics (through pkg-config, and through find_package) by
 * test_install.sh. Usage: consumer NAMESPACE VERSION. It checks that the
 * headers it compiled with carry VERSION, opens a client on NAMESPACE,
 * defines a counter, records to it and closes; exit 0 only if every step
 * did what the API promises, 1 with a message otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <shmetrics.h>

_Static_assert(SHMET_VERSION_MAJOR == 1, "the installed header is not of major version 1");

static int fail(const char *what, int rc)
{
    fprintf(stderr, "consumer: %s: %s\n", what, shmet_strerror(rc));
    return 1;
}

/* Define a labelled counter (twice: the same family both times), record
 * 3 to one series, and check the slot that recording claimed. */
static int record(struct shmet_client *c)
{
    const char *const labels[] = {"kind", NULL};
    const char *const values[] = {"test"};
    struct shmet_family *f, *again;
    struct shmet_series s;
    int rc;

    rc = shmet_counter(c, "consumer_events_total", "Events.", labels, &f);
    if (rc < 0)
        return fail("shmet_counter", rc);
    rc = shmet_counter(c, "consumer_events_total", "Events.", labels, &again);
    if (rc < 0)
        return fail("shmet_counter, again", rc);
    if (again != f) {
        fputs("consumer: a second shmet_counter returned another family\n", stderr);
        return 1;
    }
    rc = shmet_series_get(f, values, &s);
    if (rc < 0)
        return fail("shmet_series_get", rc);
    shmet_inc(s);
    shmet_add(s, 2.0);
    rc = shmet_worker_id(c);
    if (rc < 0 || rc >= 4) {
        fprintf(stderr, "consumer: shmet_worker_id returned %d, not a slot of 4\n", rc);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct shmet_options opt = {.slots = 4, .ring_records = 64, .arena_bytes = 4096};
    struct shmet_client *c;
    int rc;

    if (argc != 3) {
        fputs("usage: consumer NAMESPACE VERSION\n", stderr);
        return 2;
    }
    if (strcmp(argv[2], SHMET_VERSION) != 0) {
        fprintf(stderr, "consumer: header version %s, expected %s\n", SHMET_VERSION, argv[2]);
        return 1;
    }
    opt.ns = argv[1];
    rc = shmet_open(&opt, &c);
    if (rc < 0)
        return fail("shmet_open", rc);
    rc = record(c);
    shmet_close(c);
    if (rc == 0)
        printf("consumer: ok (shmetrics %s)\n", SHMET_VERSION);
    return rc;
}
