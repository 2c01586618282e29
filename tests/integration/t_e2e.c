/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/t_e2e.c - see t_e2e.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"
#include "t_e2e.h"

/* ---- the text format ----------------------------------------------------- */

static int add_sample(struct t_samples *ss, const char *line, size_t len)
{
    const char *sp = NULL;
    char num[64], *end;

    for (size_t i = 0; i < len; i++)
        if (line[i] == ' ')
            sp = line + i;
    if (sp == NULL || sp == line || (size_t)(line + len - sp - 1) >= sizeof(num))
        return -1;
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 256;
        ss->s = realloc(ss->s, ss->cap * sizeof(*ss->s));
        if (ss->s == NULL)
            abort();
    }
    snprintf(num, sizeof(num), "%.*s", (int)(line + len - sp - 1), sp + 1);
    ss->s[ss->n].v = strtod(num, &end);
    if (*end != '\0' || end == num)
        return -1;
    ss->s[ss->n].key = strndup(line, (size_t)(sp - line));
    if (ss->s[ss->n].key == NULL)
        abort();
    ss->n++;
    return 0;
}

int t_samples_parse(const char *body, struct t_samples *out)
{
    memset(out, 0, sizeof(*out));
    while (*body != '\0') {
        const char *nl = strchr(body, '\n');
        size_t len = nl ? (size_t)(nl - body) : strlen(body);
        if (len > 0 && body[0] != '#' && add_sample(out, body, len) < 0) {
            t_samples_free(out);
            return -1;
        }
        body += len + (nl != NULL);
    }
    return 0;
}

void t_samples_free(struct t_samples *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        free(ss->s[i].key);
    free(ss->s);
    memset(ss, 0, sizeof(*ss));
}

bool t_samples_find(const struct t_samples *ss, const char *key, double *v)
{
    for (size_t i = 0; i < ss->n; i++) {
        if (strcmp(ss->s[i].key, key) == 0) {
            *v = ss->s[i].v;
            return true;
        }
    }
    return false;
}

double t_samples_get(const struct t_samples *ss, const char *key)
{
    double v;

    return t_samples_find(ss, key, &v) ? v : -1;
}

/* ---- HTTP ---------------------------------------------------------------- */

int t_get(struct t_http *c, const char *path, struct t_resp *r)
{
    char req[512];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    if (t_http_send(c, req, strlen(req)) < 0 || t_http_read(c, r, false) < 0)
        return -1;
    if (r->status != 200) {
        t_resp_free(r);
        return -1;
    }
    return 0;
}

static int get_once(int port, const char *path, struct t_resp *r)
{
    char req[512];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (t_roundtrip(port, req, r, false) < 0 || r->status != 200) {
        t_resp_free(r);
        return -1;
    }
    return 0;
}

int t_scrape(int port, struct t_samples *out)
{
    struct t_resp r;
    int rc;

    memset(out, 0, sizeof(*out));
    if (get_once(port, "/metrics", &r) < 0)
        return -1;
    rc = t_samples_parse(r.body, out);
    t_resp_free(&r);
    return rc;
}

double t_scrape_value(int port, const char *key)
{
    struct t_samples ss;
    double v;

    if (t_scrape(port, &ss) < 0)
        return -2;
    v = t_samples_get(&ss, key);
    t_samples_free(&ss);
    return v;
}

double t_wait_value(int port, const char *key, double want)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;
    double v;

    while ((v = t_scrape_value(port, key)) != want && t_now_ms() < end)
        usleep(10 * 1000);
    return v;
}

json_t *t_debug(int port)
{
    struct t_resp r;
    json_t *root;

    if (get_once(port, "/debug", &r) < 0)
        return NULL;
    root = json_loadb(r.body, r.body_len, 0, NULL);
    t_resp_free(&r);
    return root;
}

static bool labels_equal(json_t *labels, const char *const *kv)
{
    size_t n = 0;

    for (; kv != NULL && kv[n] != NULL; n += 2) {
        json_t *v = json_object_get(labels, kv[n]);
        if (!json_is_string(v) || strcmp(json_string_value(v), kv[n + 1]) != 0)
            return false;
    }
    return json_object_size(labels) == n / 2;
}

json_t *t_debug_series(json_t *root, const char *name, const char *const *kv)
{
    json_t *fams = json_object_get(root, "families"), *f, *s;
    size_t i, j;

    for (i = 0; (f = json_array_get(fams, i)) != NULL; i++) {
        const char *fn = json_string_value(json_object_get(f, "name"));
        if (fn == NULL || strcmp(fn, name) != 0)
            continue;
        json_t *series = json_object_get(f, "series");
        for (j = 0; (s = json_array_get(series, j)) != NULL; j++) {
            if (labels_equal(json_object_get(s, "labels"), kv))
                return s;
        }
    }
    return NULL;
}

/* ---- the segment --------------------------------------------------------- */

int t_free_slots_of(const struct shmet__seg *seg)
{
    int n = 0;

    for (uint32_t i = 0; i < seg->slots; i++) {
        /* ACQUIRE: pairs with the RELEASE stores of the state in
         * libshm/slot.c; only the state itself is read here. */
        n += atomic_load_explicit(&shmet__slot(seg, i)->state, memory_order_acquire) ==
             SHMET_SLOT_FREE;
    }
    return n;
}

int t_free_slots(const char *ns)
{
    struct shmet__seg seg;
    int n;

    if (shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg) != 0)
        return -1;
    n = t_free_slots_of(&seg);
    shmet__seg_close(&seg);
    return n;
}

/* The slots that are not free, on stderr, to explain a failed wait. */
static void dump_busy_slots(const char *ns)
{
    struct shmet__seg seg;

    if (shmet__seg_open(ns, NULL, SHMET_SEG_RDONLY, 0, &seg) != 0)
        return;
    for (uint32_t i = 0; i < seg.slots; i++) {
        struct shmet_abi_slot *sl = shmet__slot(&seg, i);
        /* ACQUIRE/RELAXED: a report, as in shmtool. */
        uint32_t state = atomic_load_explicit(&sl->state, memory_order_acquire);
        int32_t pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
        if (state == SHMET_SLOT_FREE)
            continue;
        fprintf(stderr,
                "slot %u: %s, generation %u, pid %d (%s), tid %d, head %llu, tail %llu\n", i,
                shmet__slot_state_name(state),
                atomic_load_explicit(&sl->generation, memory_order_relaxed), (int)pid,
                shmet__proc_alive(pid, 0) == 1 ? "alive" : "gone",
                (int)atomic_load_explicit(&sl->tid, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&sl->head, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&sl->tail, memory_order_relaxed));
    }
    shmet__seg_close(&seg);
}

bool t_wait_all_free(const char *ns, int n)
{
    uint64_t end = t_now_ms() + T_DEADLINE_MS;

    while (t_free_slots(ns) != n) {
        if (t_now_ms() > end) {
            dump_busy_slots(ns);
            return false;
        }
        usleep(1000);
    }
    return true;
}

double t_debug_aggregator(int port, const char *field)
{
    json_t *root = t_debug(port);
    json_t *v = json_object_get(json_object_get(root, "aggregator"), field);
    double x = json_is_number(v) ? json_number_value(v) : -1;

    json_decref(root);
    return x;
}

/* ---- processes ----------------------------------------------------------- */

long t_proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    while (kb < 0 && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            kb = strtol(line + flen + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* ---- other programs ------------------------------------------------------ */

char *t_run_capture(const char *const *argv, int *status)
{
    const char *dir = getenv("SHMETRICS_BIN_DIR");
    char path[4096], *out = NULL;
    size_t len = 0, cap = 0;
    int p[2];
    pid_t pid;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "bin", argv[0]);
    if (pipe2(p, O_CLOEXEC) != 0)
        return NULL;
    if ((pid = fork()) < 0)
        return NULL;
    if (pid == 0) {
        dup2(p[1], 1);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    do {
        if (cap - len < 4096) {
            cap = cap * 2 + 4096;
            if ((out = realloc(out, cap)) == NULL)
                abort();
        }
        n = read(p[0], out + len, cap - len - 1);
        len += n > 0 ? (size_t)n : 0;
    } while (n > 0 || (n < 0 && errno == EINTR));
    out[len] = '\0';
    close(p[0]);
    waitpid(pid, status, 0);
    return out;
}
