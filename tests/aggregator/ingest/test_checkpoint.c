/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/ingest/test_checkpoint.c - the graceful-restart checkpoint:
 * counters, histograms and LAST gauges survive a save/take round trip
 * exactly; gauges over live producers (without a drain to name them) and
 * the aggregator's own families do not; a damaged file is refused as a
 * whole and leaves the store empty; taking a checkpoint removes the file,
 * valid or not, so that it is never restored twice. A family with several
 * definitions comes back with all of them that hold series (and the
 * newest, for its help), each series under its own, the placeholder by
 * its mark; a version 1 file (one definition, the placeholder known by
 * its values) still loads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shmetrics.h>

#include "ingest/checkpoint.h"
#include "t_store.h"
#include "t_util.h"

static char path[256];

static struct store_family *fam(struct store *st, const char *name, uint8_t type, uint8_t mode,
                                const char *label, const double *b, uint32_t nb)
{
    const char *labels[1] = {label};
    uint32_t lens[1] = {label ? (uint32_t)strlen(label) : 0};
    struct family_spec s = {.name = name, .name_len = strlen(name), .help = "h\n\"x\"",
                            .help_len = 6, .type = type, .gauge_mode = mode,
                            .nlabels = label ? 1 : 0, .labels = labels, .label_lens = lens,
                            .bounds = b, .nbounds = nb};
    struct store_family *f = NULL;

    CU_ASSERT_EQUAL(store_family(st, &s, &f), 0);
    return f;
}

static struct store_series *ser(struct store *st, struct store_family *f, const char *v)
{
    const char *vals[1] = {v};
    uint32_t lens[1] = {v ? (uint32_t)strlen(v) : 0};
    struct store_series *s = NULL;

    CU_ASSERT_EQUAL(store_series(st, f, vals, lens, &s), 0);
    return s;
}

static struct store_series *lookup(struct store *st, const char *name, const char *v)
{
    struct store_family *f = store_family_find(st, name, strlen(name));
    return f ? ser(st, f, v) : NULL;
}

static void fill(struct store *st, struct gauge_contrib **g)
{
    static const double b[] = {0.1, 1};
    struct store_family *internal = fam(st, "shmetrics_x_total", SHMET_TYPE_COUNTER, 0, NULL,
                                        NULL, 0);
    internal->internal = true;
    ser(st, internal, NULL)->v.counter = 5;
    ser(st, fam(st, "c_total", SHMET_TYPE_COUNTER, 0, "k", NULL, 0), "a\"\\\n\xc3\xbc")->v.counter =
        1234.5;
    struct store_series *h = ser(st, fam(st, "h", SHMET_TYPE_HISTOGRAM, 0, NULL, b, 2), NULL);
    store_observe(h, 0.05);
    store_observe(h, 7);
    store_observe(h, 7);
    store_gauge_set_last(st, ser(st, fam(st, "g_last", SHMET_TYPE_GAUGE, SHMET_GAUGE_LAST, NULL,
                                         NULL, 0), NULL), -2.5);
    *g = store_gauge_join(ser(st, fam(st, "g_sum", SHMET_TYPE_GAUGE, SHMET_GAUGE_SUM, NULL, NULL,
                                      0), NULL));
    (*g)->value = 9;
}

static void test_checkpoint_roundtrip(void)
{
    struct store a, b;
    struct gauge_contrib *g;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    fill(&a, &g);
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    struct store_family *own = fam(&b, "shmetrics_x_total", SHMET_TYPE_COUNTER, 0, NULL, NULL, 0);
    own->internal = true;
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 3);
    CU_ASSERT_EQUAL(lookup(&b, "c_total", "a\"\\\n\xc3\xbc")->v.counter, 1234.5);
    struct store_series *h = lookup(&b, "h", NULL);
    CU_ASSERT_EQUAL(h->v.h.count, 3);
    CU_ASSERT_EQUAL(h->v.h.sum, 14.05);
    CU_ASSERT_EQUAL(h->v.h.buckets[0], 1);
    CU_ASSERT_EQUAL(h->v.h.buckets[1], 0);
    CU_ASSERT_EQUAL(h->v.h.buckets[2], 2);
    CU_ASSERT_EQUAL(store_gauge_value(lookup(&b, "g_last", NULL)), -2.5);
    CU_ASSERT_PTR_NULL(store_family_find(&b, "g_sum", 5)); /* live producers set it again */
    CU_ASSERT_EQUAL(lookup(&b, "shmetrics_x_total", NULL)->v.counter, 0); /* not restored */
    CU_ASSERT_STRING_EQUAL(store_family_find(&b, "h", 1)->cur->help, "h\n\"x\"");
    CU_ASSERT_EQUAL(access(path, F_OK), -1); /* taken */
    store_gauge_leave(g);
    store_fini(&a);
    store_fini(&b);
}

static void test_checkpoint_take_missing(void)
{
    struct store st;
    char err[64];

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    unlink(path);
    CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(st.nfamilies, 0);
    store_fini(&st);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, 0600); /* a file of ours only others cannot write, whatever the umask */
}

static void test_checkpoint_take_refuses_damage(void)
{
    static const char *const bad[] = {
        "{",
        "{\"format\":\"x\",\"version\":1,\"families\":[]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":3,\"families\":[]}",
        /* a good family, then a negative counter: nothing may be kept */
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"ok_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[{\"values\":[],\"value\":3}]},"
        "{\"name\":\"neg_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[{\"values\":[],\"value\":-1}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"9bad\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[],\"series\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"h\",\"help\":\"\",\"type\":\"histogram\",\"mode\":0,\"labels\":[],"
        "\"bounds\":[1],\"series\":[{\"values\":[],\"buckets\":[1],\"sum\":1}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"l_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[\"le\"],"
        "\"bounds\":[],\"series\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
        "{\"name\":\"v_total\",\"help\":\"\",\"type\":\"counter\",\"mode\":0,\"labels\":[\"a\"],"
        "\"bounds\":[],\"series\":[{\"values\":[\"x\",\"y\"],\"value\":1}]}]}",
        /* producers: not an array, a negative pid, a gauge without a value */
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":{}}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":["
        "{\"slot\":0,\"generation\":1,\"pid\":-1,\"start_time\":1,\"gauges\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":[],\"producers\":["
        "{\"slot\":0,\"generation\":1,\"pid\":1,\"start_time\":1,\"gauges\":[[3]]}]}",
        /* version 2: no definitions, a series of a definition not there, an
         * overflow mark on a family without labels, a counter "live", a
         * mark that is not a boolean */
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":["
        "{\"name\":\"a_total\",\"type\":\"counter\",\"definitions\":[],\"series\":[]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":["
        "{\"name\":\"a_total\",\"type\":\"counter\",\"definitions\":[{\"help\":\"\","
        "\"mode\":0,\"labels\":[],\"bounds\":[]}],\"series\":[{\"definition\":1,"
        "\"values\":[],\"value\":1}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":["
        "{\"name\":\"a_total\",\"type\":\"counter\",\"definitions\":[{\"help\":\"\","
        "\"mode\":0,\"labels\":[],\"bounds\":[]}],\"series\":[{\"definition\":0,"
        "\"values\":[],\"value\":1,\"overflow\":true}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":["
        "{\"name\":\"a_total\",\"type\":\"counter\",\"definitions\":[{\"help\":\"\","
        "\"mode\":0,\"labels\":[\"k\"],\"bounds\":[]}],\"series\":["
        "{\"definition\":0,\"values\":[\"a\"],\"live\":true}]}]}",
        "{\"format\":\"shmetrics-checkpoint\",\"version\":2,\"families\":["
        "{\"name\":\"a_total\",\"type\":\"counter\",\"definitions\":[{\"help\":\"\","
        "\"mode\":0,\"labels\":[\"k\"],\"bounds\":[]}],\"series\":["
        "{\"definition\":0,\"values\":[\"a\"],\"value\":1,\"overflow\":1}]}]}",
    };
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store st;
        CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
        write_file(bad[i]);
        err[0] = '\0';
        CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), -EINVAL);
        CU_ASSERT(err[0] != '\0');
        CU_ASSERT_EQUAL(st.nfamilies, 0);
        CU_ASSERT_EQUAL(access(path, F_OK), -1); /* refused, and removed all the same */
        store_fini(&st);
    }
}

/* The series of f with these labels (NULL-terminated name, value pairs). */
static struct store_series *by_labels(struct store *st, const char *fam, const char *const *kv)
{
    struct store_family *f = store_family_find(st, fam, strlen(fam));
    size_t n = 0;

    while (kv[n] != NULL)
        n += 2;
    for (uint32_t i = 0; f != NULL && i < f->nseries; i++) {
        struct store_series *s = f->series[i];
        bool ok = !s->overflow && s->def->nlabels == n / 2;
        for (uint16_t k = 0; ok && k < s->def->nlabels; k++)
            ok = strcmp(s->def->labels[k], kv[2 * k]) == 0 &&
                 strcmp(s->values[k], kv[2 * k + 1]) == 0;
        if (ok)
            return s;
    }
    return NULL;
}

static void test_checkpoint_definitions_roundtrip(void)
{
    static const double old_b[] = {1}, new_b[] = {1, 5};
    const char *m[] = {"method", NULL}, *mc[] = {"method", "code", NULL}, *r[] = {"route", NULL};
    const char *pool[] = {"pool", NULL};
    struct store a, b;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    struct store_def *da = t_def(&a, "r_total", SHMET_TYPE_COUNTER, 0, "Old.", m, NULL, 0);
    t_def(&a, "r_total", SHMET_TYPE_COUNTER, 0, "Between.", m, NULL, 0); /* no series: forgotten */
    struct store_def *dc = t_def(&a, "r_total", SHMET_TYPE_COUNTER, 0, "New.", mc, NULL, 0);
    struct store_series *p;
    t_series(&a, da, (const char *[]){"GET"})->v.counter = 3;
    t_series(&a, dc, (const char *[]){"GET", "200"})->v.counter = 5;
    CU_ASSERT_EQUAL_FATAL(store_overflow(&a, dc, &p), 0);
    p->v.counter = 2;
    p->touched = true;
    t_series(&a, dc, (const char *[]){SHMET_OVERFLOW_VALUE, "x"})->v.counter = 9; /* not p */
    struct store_def *ho = t_def(&a, "lat", SHMET_TYPE_HISTOGRAM, 0, "L.", r, old_b, 1);
    struct store_def *hn = t_def(&a, "lat", SHMET_TYPE_HISTOGRAM, 0, "L.", r, new_b, 2);
    store_observe(t_series(&a, ho, (const char *[]){"/a"}), 3);
    store_observe(t_series(&a, hn, (const char *[]){"/a"}), 0.5);
    store_observe(t_series(&a, hn, (const char *[]){"/b"}), 3);
    struct store_def *gl = t_def(&a, "g", SHMET_TYPE_GAUGE, SHMET_GAUGE_LAST, "G.", NULL, NULL, 0);
    struct store_def *gs = t_def(&a, "g", SHMET_TYPE_GAUGE, SHMET_GAUGE_SUM, "G.", pool, NULL, 0);
    store_gauge_set_last(&a, t_series(&a, gl, NULL), 4);
    struct gauge_contrib *gc = store_gauge_join(t_series(&a, gs, (const char *[]){"db"}));
    gc->value = 8;
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    /* r_total: 4 series (the placeholder one), lat 2, g 2 (the SUM one live) */
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 8);

    struct store_family *f = store_family_find(&b, "r_total", 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->ndefs, 2);
    CU_ASSERT_STRING_EQUAL(f->defs[0]->help, "Old.");
    CU_ASSERT_STRING_EQUAL(f->cur->help, "New.");
    CU_ASSERT_EQUAL(f->cur->nlabels, 2);
    struct store_series *get = by_labels(&b, "r_total", (const char *[]){"method", "GET", NULL});
    CU_ASSERT_PTR_NOT_NULL_FATAL(get);
    CU_ASSERT(get->v.counter == 3 && get->def == f->defs[0]);
    CU_ASSERT_EQUAL(by_labels(&b, "r_total", (const char *[]){"method", "GET", "code", "200", NULL})
                        ->v.counter,
                    5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->overflow);
    CU_ASSERT_EQUAL(f->overflow->v.counter, 2);
    CU_ASSERT(store_series_visible(f->overflow));
    CU_ASSERT_EQUAL(by_labels(&b, "r_total",
                              (const char *[]){"method", SHMET_OVERFLOW_VALUE, "code", "x", NULL})
                        ->v.counter,
                    9);
    CU_ASSERT_EQUAL(store_family_series(f), 3);

    struct store_family *h = store_family_find(&b, "lat", 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->ndefs, 2);
    struct store_series *ha = by_labels(&b, "lat", (const char *[]){"route", "/a", NULL});
    struct store_series *hb = by_labels(&b, "lat", (const char *[]){"route", "/b", NULL});
    CU_ASSERT_PTR_NOT_NULL_FATAL(ha);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hb);
    CU_ASSERT(ha->def->nbounds == 1 && ha->v.h.buckets[0] == 1 && ha->v.h.buckets[1] == 1);
    CU_ASSERT(ha->v.h.count == 2 && ha->v.h.sum == 3.5);
    CU_ASSERT(hb->def->nbounds == 2 && hb->v.h.buckets[1] == 1 && hb->v.h.count == 1);

    struct store_family *g = store_family_find(&b, "g", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->ndefs, 2);
    CU_ASSERT_EQUAL(g->cur->gauge_mode, SHMET_GAUGE_SUM); /* still the newest */
    CU_ASSERT_EQUAL(store_gauge_value(by_labels(&b, "g", (const char *[]){NULL})), 4);
    /* The SUM series is back, made by its definition, without a value:
     * its producers bring their contributions. */
    struct store_series *db = by_labels(&b, "g", (const char *[]){"pool", "db", NULL});
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT(db->def == g->cur && db->v.g.ncontribs == 0 && store_gauge_value(db) == 0);
    store_gauge_leave(gc);
    store_fini(&a);
    store_fini(&b);
}

/* A checkpoint written before families had several definitions. */
static void test_checkpoint_take_version1(void)
{
    struct store st;
    char err[256];
    FILE *fp = fopen(path, "w");

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("{\"format\":\"shmetrics-checkpoint\",\"version\":1,\"families\":["
          "{\"name\":\"u_total\",\"help\":\"U.\",\"type\":\"counter\",\"mode\":0,"
          "\"labels\":[\"user\"],\"bounds\":[],\"series\":["
          "{\"values\":[\"__overflow__\"],\"value\":4},{\"values\":[\"a\"],\"value\":1}]},"
          "{\"name\":\"h\",\"help\":\"\",\"type\":\"histogram\",\"mode\":0,\"labels\":[],"
          "\"bounds\":[1,2],\"series\":[{\"values\":[],\"buckets\":[1,0,2],\"sum\":7.5}]}],"
          "\"producers\":[]}",
          fp);
    fclose(fp);
    CU_ASSERT_EQUAL_FATAL(store_init(&st, 10), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), 3);
    struct store_family *f = store_family_find(&st, "u_total", 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->overflow);
    CU_ASSERT_EQUAL(f->overflow->v.counter, 4);
    CU_ASSERT_EQUAL(store_family_series(f), 1);
    CU_ASSERT_EQUAL(by_labels(&st, "u_total", (const char *[]){"user", "a", NULL})->v.counter, 1);
    CU_ASSERT_STRING_EQUAL(f->cur->help, "U.");
    struct store_series *h = by_labels(&st, "h", (const char *[]){NULL});
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT(h->v.h.count == 3 && h->v.h.buckets[2] == 2 && h->v.h.sum == 7.5);
    store_fini(&st);
}

/* Restored under a lower cap: the label sets beyond it are added into
 * the placeholder, nothing is lost. */
static void test_checkpoint_take_lower_cap_folds(void)
{
    const char *k[] = {"k", NULL};
    struct store a, b;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 1), 0);
    struct store_def *d = t_def(&a, "c_total", SHMET_TYPE_COUNTER, 0, "", k, NULL, 0);
    t_series(&a, d, (const char *[]){"x"})->v.counter = 1;
    t_series(&a, d, (const char *[]){"y"})->v.counter = 2;
    t_series(&a, d, (const char *[]){"z"})->v.counter = 4;
    struct store_series *p;
    CU_ASSERT_EQUAL_FATAL(store_overflow(&a, d, &p), 0); /* after the folded ones */
    p->v.counter = 10;
    p->touched = true;
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 4);
    struct store_family *f = store_family_find(&b, "c_total", 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(store_family_series(f), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->overflow);
    CU_ASSERT_EQUAL(f->overflow->v.counter, 2 + 4 + 10);
    CU_ASSERT_EQUAL(f->folded, 2);
    store_fini(&a);
    store_fini(&b);
}

/* A checkpoint is restored once: the second take finds no file. */
static void test_checkpoint_take_once(void)
{
    struct store a, b, c;
    struct gauge_contrib *g;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    CU_ASSERT_EQUAL_FATAL(store_init(&c, 100), 0);
    fill(&a, &g);
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 3);
    CU_ASSERT_EQUAL(checkpoint_take(&c, NULL, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.nfamilies, 0);
    store_gauge_leave(g);
    store_fini(&a);
    store_fini(&b);
    store_fini(&c);
}

/* A checkpoint of fill() at path; the store it came from is freed. */
static void save_filled(void)
{
    struct store a;
    struct gauge_contrib *g;

    CU_ASSERT_EQUAL_FATAL(store_init(&a, 100), 0);
    fill(&a, &g);
    CU_ASSERT_EQUAL(checkpoint_save(&a, NULL, path), 0);
    store_gauge_leave(g);
    store_fini(&a);
}

static void read_text(const char *file, char *buf, size_t len)
{
    FILE *f = fopen(file, "r");
    size_t n = f != NULL ? fread(buf, 1, len - 1, f) : 0;

    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
}

/* tag-checkpoint-file: a symlink planted at the temporary file's name is
 * not followed (the file it names keeps its bytes and mode), and the
 * checkpoint is written all the same. */
static void test_checkpoint_save_ignores_planted_link(void)
{
    char tmp[300], victim[300], text[64];
    struct stat st;
    struct store b;
    char err[256];

    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    snprintf(victim, sizeof(victim), "%s.victim", path);
    FILE *f = fopen(victim, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("keep me", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(chmod(victim, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(symlink(victim, tmp), 0);
    save_filled();
    read_text(victim, text, sizeof(text));
    CU_ASSERT_STRING_EQUAL(text, "keep me");
    CU_ASSERT_EQUAL(stat(victim, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    CU_ASSERT_EQUAL(lstat(path, &st), 0);
    CU_ASSERT(S_ISREG(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
    CU_ASSERT_EQUAL(lstat(tmp, &st), -1); /* renamed into place */
    CU_ASSERT_EQUAL_FATAL(store_init(&b, 100), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&b, NULL, path, err, sizeof(err)), 3);
    store_fini(&b);
    unlink(victim);
}

/* Take path into an empty store: refused with rc and a reason naming why,
 * the store untouched, the file gone. */
static void expect_refused(int rc, const char *why)
{
    struct store st;
    char err[256] = "";

    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), rc);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
    CU_ASSERT_EQUAL(st.nfamilies, 0);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    store_fini(&st);
}

/* A checkpoint others could have written is not believed: one other
 * users may write, a symlink at its name (the file it names is left
 * alone), and, when the test runs as root, one owned by another user. */
static void test_checkpoint_take_refuses_untrusted(void)
{
    char real[300];

    save_filled();
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0666), 0);
    expect_refused(-EPERM, "mode 0666 lets other users write it");

    save_filled();
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0660), 0); /* our own group may */
    struct store st;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(store_init(&st, 100), 0);
    CU_ASSERT_EQUAL(checkpoint_take(&st, NULL, path, err, sizeof(err)), 3);
    store_fini(&st);

    save_filled();
    snprintf(real, sizeof(real), "%s.real", path);
    CU_ASSERT_EQUAL_FATAL(rename(path, real), 0);
    CU_ASSERT_EQUAL_FATAL(symlink(real, path), 0);
    expect_refused(-ELOOP, "symbolic link");
    CU_ASSERT_EQUAL(access(real, F_OK), 0);
    unlink(real);

    if (geteuid() != 0) {
        printf("(ownership by another user not tried: needs root) ");
        return;
    }
    save_filled();
    CU_ASSERT_EQUAL_FATAL(chown(path, 65534, 65534), 0);
    expect_refused(-EPERM, "owned by uid 65534");
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_checkpoint_roundtrip", test_checkpoint_roundtrip},
        {"test_checkpoint_take_missing", test_checkpoint_take_missing},
        {"test_checkpoint_take_refuses_damage", test_checkpoint_take_refuses_damage},
        {"test_checkpoint_take_once", test_checkpoint_take_once},
        {"test_checkpoint_definitions_roundtrip", test_checkpoint_definitions_roundtrip},
        {"test_checkpoint_take_version1", test_checkpoint_take_version1},
        {"test_checkpoint_take_lower_cap_folds", test_checkpoint_take_lower_cap_folds},
        {"test_checkpoint_save_ignores_planted_link", test_checkpoint_save_ignores_planted_link},
        {"test_checkpoint_take_refuses_untrusted", test_checkpoint_take_refuses_untrusted},
    };
    char dir[] = "/tmp/shmet_ckpt_XXXXXX";
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/state", dir);
    rc = T_RUN("checkpoint", tests);
    unlink(path);
    rmdir(dir);
    return rc;
}
