/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/main.c - shmetricsd: parse the command line, set up in an
 * order that fails before touching shared state where it can, print
 * "listening on ADDR:PORT", and run the event loop until a signal.
 *
 * The daemon stage ties the others together and is the only one that may
 * call every stage (docs/ARCHITECTURE.md, "The shape"):
 *   main.c         start and stop (this file)
 *   args.c         the command line
 *   loop.c         the io_uring event loop: accept, connections, the drain
 *                  timer, producers' pidfds, signals
 *   server.c       the aggregator's state and its routes (/metrics, /debug,
 *                  /healthz, /)
 *   selfmetrics.c  the shmetrics_* families
 *
 * The start order (tag-start-order): the ring and the signals first (an
 * io_uring refused by seccomp fails before anything exists, and from then
 * on no signal ends the process half-way); then the listening socket,
 * waiting a bounded time while its address is in use (net.h); only then
 * the segment: created if need be, locked, the checkpoint taken, the rings
 * drained. So a start that cannot listen leaves nothing behind, neither a
 * segment nor a state file, and a checkpoint left by the last graceful
 * stop stays where it is for the next start. Once the segment is held,
 * every way out writes the checkpoint back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <shmetrics.h>

#include "daemon/args.h"
#include "log.h"
#include "daemon/loop.h"
#include "http/net.h"
#include "daemon/server.h"

/* Room for --max-connections sockets and a pidfd per producer: raise the
 * soft limit on open files to the hard one. */
static void raise_nofile(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &r) == 0)
            log_debug("RLIMIT_NOFILE raised to %llu", (unsigned long long)r.rlim_max);
    }
}

/* What the wait for the listening address needs (net_wait.arg). */
struct start {
    const struct agg_args *a;
    struct loop *l;
};

/* The address is in use: by another shmetricsd serving our namespace?
 * Then waiting cannot help: it says so, and the start gives up. */
static int addr_in_use(void *arg)
{
    const struct start *st = arg;

    return server_busy(st->a->ns);
}

/* Between tries: a SIGTERM or SIGINT ends the wait (-ECANCELED). */
static int addr_pause(void *arg, uint32_t ms)
{
    const struct start *st = arg;

    return loop_pause(st->l, ms);
}

/* The listening socket (tag-start-order), or a negative errno (logged);
 * -ECANCELED when a stop signal came while its address was in use. */
static int start_listening(const struct agg_args *a, struct loop *l, char *name, size_t len)
{
    struct start st = {.a = a, .l = l};
    struct net_wait w = {.max_ms = NET_ADDR_WAIT_MS,
                         .in_use = addr_in_use,
                         .pause = addr_pause,
                         .arg = &st};

    return net_listen(a->listen, &w, name, len);
}

/* Hold the segment, publish where we listen, say so, and serve until a
 * signal; then write the checkpoint. The exit code. fd is the loop's from
 * here on, whatever happens. */
static int serve_on(const struct agg_args *a, struct loop *l, struct server *s, int fd,
                    const char *name)
{
    struct server_config cfg = {.ns = a->ns,
                                .geo = a->geo,
                                .perm = a->perm,
                                .group = a->group,
                                .mode_set = a->mode_set,
                                .max_series = a->max_series,
                                .consts = a->consts,
                                .nconsts = a->nconsts};
    struct shmet__endpoint ep;
    int code;

    if (server_open(s, &cfg) < 0) {
        close(fd);
        return 1;
    }
    if (net_endpoint(fd, &ep) == 0)
        hold_set_endpoint(&s->in.hold, &ep); /* how processes on this host find us */
    log_info("serving namespace %s (segment %s) on %s", s->in.hold.ns, s->in.hold.path, name);
    printf("listening on %s\n", name);
    fflush(stdout);
    code = loop_run(l, s, fd);
    /* The checkpoint was taken and the rings drained in server_open():
     * whatever ends us now, a graceful stop or an error, hand what we
     * hold to the next shmetricsd (checkpoint.h). */
    if (server_checkpoint(s) < 0)
        code = 1;
    server_close(s);
    return code;
}

static int serve(const struct agg_args *a)
{
    struct loop_config lcfg = {.drain_interval_ms = a->drain_interval_ms,
                               .max_conns = a->max_conns,
                               .timeouts = {a->head_timeout_ms, a->idle_timeout_ms}};
    struct loop *l = malloc(sizeof(*l));
    struct server *s = malloc(sizeof(*s));
    char name[128];
    int fd, code = 1;

    if (l == NULL || s == NULL) {
        log_error("out of memory");
        goto err_alloc;
    }
    if (loop_init(l, &lcfg) < 0)
        goto err_alloc;
    fd = start_listening(a, l, name, sizeof(name));
    if (fd >= 0)
        code = serve_on(a, l, s, fd, name);
    else if (fd == -ECANCELED)
        code = 0; /* stopped before serving: nothing was created */
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
    log_set_level(a.log_level);
    raise_nofile();
    code = serve(&a);
    args_free(&a);
    return code;
}
