/* SPDX-License-Identifier: MIT */
/*
 * tools/shmtool/info.c - "shmtool info": the header, the geometry and one
 * row per slot in use, as text or JSON. Reads the live header fields and
 * slot snapshots (seg.c); writes nothing.
 */
#include <string.h>

#include "shmtool.h"

/* The header's live fields, read once. */
struct live {
    int32_t agg_pid;
    int agg_alive; /* 1, 0, or -1 unknown */
    uint64_t heartbeat_ns;
    uint64_t noslot_dropped;
    uint64_t noslot_events;
    char listen[64]; /* published listener, "" when none (tag-listen-publish) */
};

static void read_live(const struct shmet__seg *s, struct live *l)
{
    struct shmet_abi_header *h = s->hdr;

    /* RELAXED: independent statistics, read for a report. */
    l->agg_pid = atomic_load_explicit(&h->aggregator_pid, memory_order_relaxed);
    l->heartbeat_ns = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed);
    l->noslot_dropped = atomic_load_explicit(&h->noslot_dropped, memory_order_relaxed);
    l->noslot_events = atomic_load_explicit(&h->noslot_events, memory_order_relaxed);
    /* The rule of shmet_aggregator_attached(): a mark and a recent
     * heartbeat, which mean the same from every PID namespace. */
    l->agg_alive = shmet__aggregator_live(h, shmet__now_ns()) ? 1 : 0;
    struct shmet__endpoint e;
    l->listen[0] = '\0';
    if (shmet__endpoint_read(h, &e) == 0 &&
        shmet__endpoint_format(&e, l->listen, sizeof(l->listen)) < 0)
        l->listen[0] = '\0';
    if (l->agg_alive < 0)
        l->agg_alive = -1;
}

static double heartbeat_age(const struct live *l)
{
    return ((double)shmet__now_ns() - (double)l->heartbeat_ns) / 1e9;
}

static json_t *jalive(int alive)
{
    return alive < 0 ? json_null() : json_boolean(alive);
}

static json_t *segment_json(const struct tool_args *a, const struct shmet__seg *s,
                            const struct live *l)
{
    json_t *o = jnew_object();
    char buf[64];

    jset(o, "ns", json_string(a->ns));
    jset(o, "path", jstrn(a->path, strlen(a->path)));
    snprintf(buf, sizeof(buf), "%u.%u", SHMET_ABI_MAJOR, s->abi_minor);
    jset(o, "abi", json_string(buf));
    jset(o, "abi_major", json_integer(SHMET_ABI_MAJOR));
    jset(o, "abi_minor", json_integer(s->abi_minor));
    jset(o, "segment_size", ju64(s->size));
    jset(o, "slots", json_integer(s->slots));
    jset(o, "ring_records", json_integer(s->ring_records));
    jset(o, "arena_bytes", json_integer(s->arena_bytes));
    jset(o, "created_ns", ju64(s->hdr->created_ns));
    fmt_time(s->hdr->created_ns, buf, sizeof(buf));
    jset(o, "created", json_string(buf));
    jset(o, "aggregator_pid", json_integer(l->agg_pid));
    jset(o, "aggregator_alive", jalive(l->agg_alive));
    jset(o, "aggregator_attached", json_boolean(l->agg_alive > 0));
    jset(o, "aggregator_listen", l->listen[0] ? json_string(l->listen) : json_null());
    jset(o, "heartbeat_ns", ju64(l->heartbeat_ns));
    jset(o, "heartbeat_age_seconds", l->heartbeat_ns ? json_real(heartbeat_age(l)) : json_null());
    jset(o, "noslot_dropped", ju64(l->noslot_dropped));
    jset(o, "noslot_events", ju64(l->noslot_events));
    return o;
}

static json_t *slot_json(const struct shmet__seg *s, uint32_t i, const struct shmet__slot_snap *sn)
{
    json_t *o = jnew_object();

    jset(o, "slot", json_integer(i));
    jset(o, "state", json_string(shmet__slot_state_name(sn->state)));
    jset(o, "pid", json_integer(sn->pid));
    jset(o, "tid", json_integer(sn->tid));
    jset(o, "generation", json_integer(sn->generation));
    jset(o, "ring_used", ju64(shmet__snap_ring_used(s, sn)));
    jset(o, "ring_capacity", json_integer(s->ring_records));
    jset(o, "samples_total", ju64(shmet__snap_samples(sn)));
    jset(o, "dropped_total", ju64(sn->dropped));
    jset(o, "arena_used", ju64(sn->arena_used));
    jset(o, "arena_dropped", ju64(sn->arena_dropped));
    jset(o, "alive", sn->state == SHMET_SLOT_FREE ? json_null() : jalive(sn->alive));
    jset(o, "liveness", json_string(sn->generation != 0 && sn->lock_gen == sn->generation ? "lock"
                                                                                          : "pid"));
    jset(o, "defines", ju64(sn->defines));
    jset(o, "head", ju64(sn->head_after));
    jset(o, "tail", ju64(sn->tail));
    jset(o, "start_time", ju64(sn->start_time));
    jset(o, "claimed_ns", ju64(sn->claimed_ns));
    jset(o, "quarantined", json_boolean(sn->flags & SHMET_SLOT_F_QUARANTINED));
    return o;
}

static int info_json(const struct tool_args *a, const struct shmet__seg *s, const struct live *l)
{
    json_t *root = jnew_object(), *slots = jnew_array();
    struct shmet__slot_snap sn;

    jset(root, "segment", segment_json(a, s, l));
    for (uint32_t i = 0; i < s->slots; i++) {
        shmet__slot_snapshot(s, i, true, &sn);
        if (sn.state != SHMET_SLOT_FREE || a->all)
            jpush(slots, slot_json(s, i, &sn));
    }
    jset(root, "slots", slots);
    return json_print(root) < 0 ? TOOL_PROBLEM : TOOL_OK;
}

static void print_aggregator(const struct live *l)
{
    if (l->agg_pid <= 0)
        printf("aggregator    none\n");
    else
        printf("aggregator    pid %d (%s)\n", l->agg_pid,
               l->agg_alive > 0 ? "attached: draining" : "not attached: heartbeat stale");
    if (l->listen[0] != '\0')
        printf("listening on  %s\n", l->listen);
    if (l->heartbeat_ns == 0)
        printf("heartbeat     never\n");
    else
        printf("heartbeat     %.1f s ago\n", heartbeat_age(l));
}

static void print_header(const struct tool_args *a, const struct shmet__seg *s,
                         const struct live *l)
{
    char size[32], created[64];

    fmt_bytes(s->size, size, sizeof(size));
    fmt_time(s->hdr->created_ns, created, sizeof(created));
    printf("namespace     %s\n", a->ns);
    printf("path          ");
    fput_escaped(stdout, a->path, strlen(a->path));
    printf("\nabi           %u.%u\n", SHMET_ABI_MAJOR, s->abi_minor);
    printf("size          %llu bytes (%s)\n", (unsigned long long)s->size, size);
    printf("geometry      %u slots, %u records per ring, %u arena bytes per slot\n", s->slots,
           s->ring_records, s->arena_bytes);
    printf("created       %s\n", created);
    print_aggregator(l);
    printf("no free slot  %llu samples dropped in %llu events\n",
           (unsigned long long)l->noslot_dropped, (unsigned long long)l->noslot_events);
}

static const char *alive_word(const struct shmet__slot_snap *sn)
{
    int alive;

    if (sn->state == SHMET_SLOT_FREE)
        return "-";
    alive = sn->alive;
    return alive > 0 ? "yes" : alive == 0 ? "no" : "?";
}

static void print_slot(const struct shmet__seg *s, uint32_t i, const struct shmet__slot_snap *sn)
{
    char ring[48], state[24];

    snprintf(ring, sizeof(ring), "%llu/%u", (unsigned long long)shmet__snap_ring_used(s, sn),
             s->ring_records);
    if (sn->state <= SHMET_SLOT_DEAD)
        snprintf(state, sizeof(state), "%s", shmet__slot_state_name(sn->state));
    else
        snprintf(state, sizeof(state), "invalid(%u)", sn->state);
    printf("%4u  %-11s %7d %7d %6u %15s %12llu %9llu %9llu  %s%s\n", i, state, sn->pid, sn->tid,
           sn->generation, ring, (unsigned long long)shmet__snap_samples(sn),
           (unsigned long long)sn->dropped, (unsigned long long)sn->arena_used, alive_word(sn),
           (sn->flags & SHMET_SLOT_F_QUARANTINED) ? " quarantined" : "");
}

static int info_text(const struct tool_args *a, const struct shmet__seg *s, const struct live *l)
{
    struct shmet__slot_snap sn;
    uint32_t shown = 0, in_use = 0;

    print_header(a, s, l);
    printf("\nSLOT  STATE           PID     TID    GEN            RING      SAMPLES   DROPPED"
           "     ARENA  ALIVE\n");
    for (uint32_t i = 0; i < s->slots; i++) {
        shmet__slot_snapshot(s, i, true, &sn);
        in_use += sn.state != SHMET_SLOT_FREE;
        if (sn.state == SHMET_SLOT_FREE && !a->all)
            continue;
        print_slot(s, i, &sn);
        shown++;
    }
    printf("%u of %u slots in use%s\n", in_use, s->slots,
           shown == 0 ? " (none to show; --all lists free slots)" : "");
    return TOOL_OK;
}

int cmd_info(const struct tool_args *a)
{
    struct shmet__seg s;
    struct live l;
    int rc;

    if (seg_attach(a, &s) < 0)
        return TOOL_PROBLEM;
    read_live(&s, &l);
    rc = a->json ? info_json(a, &s, &l) : info_text(a, &s, &l);
    shmet__seg_close(&s);
    return rc;
}
