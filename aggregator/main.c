/* SPDX-License-Identifier: MIT */
/*
 * aggregator/main.c - shmetricsd: parse the command line, set up in an
 * order that fails before touching shared state where it can (the ring
 * before the segment, the segment lock before anything is drained), print
 * "listening on ADDR:PORT", and run the event loop until a signal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <shmetrics.h>

#include "args.h"
#include "loop.h"
#include "net.h"
#include "server.h"

/* Room for --max-connections sockets and a pidfd per producer: raise the
 * soft limit on open files to the hard one. */
static void raise_nofile(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
}

static int serve(const struct agg_args *a)
{
    struct server_config cfg = {.ns = a->ns,
                                .geo = a->geo,
                                .perm = a->perm,
                                .group = a->group,
                                .mode_set = a->mode_set,
                                .max_series = a->max_series,
                                .consts = a->consts,
                                .nconsts = a->nconsts};
    struct loop_config lcfg = {.drain_interval_ms = a->drain_interval_ms,
                               .max_conns = a->max_conns,
                               .timeouts = {a->head_timeout_ms, a->idle_timeout_ms}};
    struct loop *l = malloc(sizeof(*l));
    struct server *s = malloc(sizeof(*s));
    struct shmet__endpoint ep;
    char name[128];
    int fd, code = 1;

    if (l == NULL || s == NULL)
        goto err_alloc;
    if (loop_init(l, &lcfg) < 0)
        goto err_alloc;
    if (server_open(s, &cfg) < 0)
        goto err_loop;
    if ((fd = net_listen(a->listen, name, sizeof(name))) < 0)
        goto err_server;
    if (net_endpoint(fd, &ep) == 0)
        hold_set_endpoint(&s->hold, &ep); /* how processes on this host find us */
    printf("listening on %s\n", name);
    fflush(stdout);
    code = loop_run(l, s, fd);
err_server:
    /* The checkpoint was taken and the rings drained in server_open():
     * whatever ends us now, a graceful stop or an error, hand what we
     * hold to the next shmetricsd (checkpoint.h). */
    if (server_checkpoint(s) < 0)
        code = 1;
    server_close(s);
err_loop:
    loop_fini(l);
err_alloc:
    free(s);
    free(l);
    return code;
}

int main(int argc, char **argv)
{
    struct agg_args a;
    int code;

    if (args_parse(argc, argv, &a) < 0)
        return 2;
    if (a.help) {
        args_usage(stdout);
        args_free(&a);
        return 0;
    }
    if (a.version) {
        printf("shmetricsd %s (segment ABI %d.%d)\n", SHMET_VERSION, SHMET_ABI_MAJOR,
               SHMET_ABI_MINOR);
        args_free(&a);
        return 0;
    }
    raise_nofile();
    code = serve(&a);
    args_free(&a);
    return code;
}
