/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/check.c - "shmtool check": attach, check the header's live
 * fields, run the per-slot checks (check_slot.c, check_defs.c), and report
 * every problem as a line ("slot 3: head 100 is behind tail 200") or as
 * JSON. Errors are corruption and make the exit status 1; warnings (a
 * stale owner, a quarantined slot) do not. See usage_check in usage.c.
 */
#include <stdarg.h>
#include <string.h>

#include "shmtool.h"

#define LIST_PER_SLOT 20 /* problems listed per slot; the rest are counted */

void report_slot(struct report *r, int64_t slot)
{
    r->slot = slot;
    r->in_slot = 0;
}

void report_slot_end(struct report *r)
{
    if (r->hidden_slot > 0 && r->problems == NULL)
        printf("slot %lld: %u more problems not listed\n", (long long)r->slot, r->hidden_slot);
    r->unlisted += r->hidden_slot;
    r->hidden_slot = 0;
    r->slot = -1;
}

void problem(struct report *r, enum severity sev, const char *fmt, ...)
{
    char what[1024], where[32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (sev == SEV_ERROR)
        r->errors++;
    else
        r->warnings++;
    if (r->slot >= 0 && r->in_slot >= LIST_PER_SLOT) {
        r->hidden_slot++;
        return;
    }
    r->in_slot++;
    if (r->problems != NULL) {
        json_t *p = jnew_object();
        jset(p, "slot", r->slot >= 0 ? json_integer(r->slot) : json_null());
        jset(p, "severity", json_string(sev == SEV_ERROR ? "error" : "warning"));
        jset(p, "what", jstrn(what, strlen(what)));
        jpush(r->problems, p);
        return;
    }
    if (r->slot >= 0)
        snprintf(where, sizeof(where), "slot %lld", (long long)r->slot);
    else
        snprintf(where, sizeof(where), "header");
    printf("%s: %s%s\n", where, sev == SEV_WARNING ? "warning: " : "", what);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* What attach does not check: the live fields and reserved bytes; with
 * --attached, that a shmetricsd drains the segment. */
static void check_header(const struct tool_args *a, const struct shmet__seg *s, struct report *r)
{
    const struct shmet_abi_header *h = s->hdr;
    /* RELAXED: a report of an independently written field. */
    int32_t pid = atomic_load_explicit(&h->aggregator_pid, memory_order_relaxed);

    if (pid < 0)
        problem(r, SEV_ERROR, "aggregator pid %d is not a valid pid", pid);
    else if (pid > 0 && !shmet__aggregator_live(h, shmet__now_ns()))
        problem(r, SEV_WARNING, "aggregator pid %d is not running (its heartbeat is stale)", pid);
    if (a->attached && !shmet__aggregator_live(h, shmet__now_ns()))
        problem(r, SEV_ERROR,
                "no shmetricsd is draining this segment: what workers record stays in their "
                "rings and is not served; start shmetricsd for this namespace, or, if it runs "
                "in another container, mount the same /dev/shm in both");
    struct shmet__endpoint e;
    if (shmet__endpoint_read(h, &e) == -EBADMSG)
        problem(r, SEV_ERROR, "the published aggregator address is not a valid one");
    /* Reserved bytes are zero in this minor; a later minor may use them. */
    if (s->abi_minor == SHMET_ABI_MINOR &&
        (h->reserved0 != 0 || !all_zero(h->reserved, sizeof(h->reserved))))
        problem(r, SEV_ERROR, "reserved header bytes are not zero");
}

static json_t *report_json(const struct tool_args *a, const struct report *r)
{
    json_t *root = jnew_object();

    jset(root, "ns", json_string(a->ns));
    jset(root, "path", jstrn(a->path, strlen(a->path)));
    jset(root, "ok", json_boolean(r->errors == 0));
    jset(root, "errors", json_integer(r->errors));
    jset(root, "warnings", json_integer(r->warnings));
    jset(root, "unlisted", json_integer(r->unlisted));
    jset(root, "problems", r->problems);
    return root;
}

static void summary_text(const struct tool_args *a, const struct report *r, uint32_t slots)
{
    fput_escaped(stdout, a->path, strlen(a->path));
    if (r->errors == 0 && r->warnings == 0)
        printf(": ok, no problems in the header and %u slots\n", slots);
    else
        printf(": %u error%s, %u warning%s%s\n", r->errors, r->errors == 1 ? "" : "s", r->warnings,
               r->warnings == 1 ? "" : "s", r->errors ? "" : " (no corruption)");
}

/* The segment could not be attached: corruption of the header is a
 * problem of the report; anything else (missing, no permission) is an
 * error of the command, said on stderr too. */
static void attach_failed(const struct tool_args *a, int err, struct report *r)
{
    char why[1024];

    seg_describe(a->path, err, why, sizeof(why));
    if (!seg_error_is_corruption(err))
        fprintf(stderr, "shmtool: %s: %s\n", a->path, why);
    if (seg_error_is_corruption(err) || r->problems != NULL)
        problem(r, SEV_ERROR, "%s", why);
}

int cmd_check(const struct tool_args *a)
{
    struct report r = {.slot = -1};
    struct shmet__seg s;
    int rc;

    if (a->json)
        r.problems = jnew_array();
    rc = seg_open_ro(a, &s);
    if (rc < 0) {
        attach_failed(a, rc, &r);
    } else {
        check_header(a, &s, &r);
        for (uint32_t i = 0; i < s.slots; i++)
            check_slot(&s, i, &r);
    }
    if (a->json) {
        if (json_print(report_json(a, &r)) < 0)
            return TOOL_PROBLEM;
    } else if (rc == 0 || seg_error_is_corruption(rc)) {
        summary_text(a, &r, rc == 0 ? s.slots : 0);
    }
    if (rc == 0)
        shmet__seg_close(&s);
    return r.errors == 0 && rc == 0 ? TOOL_OK : TOOL_PROBLEM;
}
