/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/net.h - the listening socket: parsing --listen ADDR:PORT
 * ("127.0.0.1:9477", "[::1]:9477", "localhost:0"), binding, and naming
 * the bound address for the "listening on" line.
 */
#ifndef SHMETRICS_AGGREGATOR_NET_H
#define SHMETRICS_AGGREGATOR_NET_H

#include <stddef.h>
#include <stdint.h>

#include "shm.h"

/* Split spec into host and port. The host of "[v6]:port" loses its
 * brackets. 0, or -EINVAL when spec is not HOST:PORT with a port in
 * 0..65535 (0: any free port). */
int net_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen);

/*
 * Waiting for an address in use (tag-listen-wait). When a shmetricsd is
 * SIGKILLed or crashes, its io_uring is torn down by the kernel after the
 * process is gone, asynchronously: for a moment (milliseconds, more on a
 * busy host) the accept it had in flight keeps its listening socket open,
 * in LISTEN. SO_REUSEADDR does not help there (it only lets a bind pass
 * sockets in TIME_WAIT), so a supervisor's immediate restart would fail
 * with EADDRINUSE. So a bind refused with EADDRINUSE is tried again, with
 * a back-off from NET_WAIT_FIRST_MS to NET_WAIT_STEP_MAX_MS, for up to
 * max_ms; one warning says it waits and why, one line says when it is
 * free. Past max_ms a program really listens there: an error names it.
 */
#define NET_ADDR_WAIT_MS 5000u   /* the bound, in the --help text and README */
#define NET_WAIT_FIRST_MS 10u    /* first pause between tries */
#define NET_WAIT_STEP_MAX_MS 500u

struct net_wait {
    uint32_t max_ms; /* how long to try again; 0: fail at the first EADDRINUSE */
    /* Called each time the address is found in use, before pausing: 0 to
     * go on, or a negative errno to give up with (having said why). May be
     * NULL. */
    int (*in_use)(void *arg);
    /* Sleep up to ms: 0, or a negative errno to give up with (having said
     * why), e.g. -ECANCELED for a stop signal. NULL: nanosleep. */
    int (*pause)(void *arg, uint32_t ms);
    void *arg;
};

/*
 * net_listen - resolve spec, bind (SO_REUSEADDR) and listen, waiting as w
 * says (NULL: no wait) while the address is in use. On success returns the
 * socket (non-blocking, close-on-exec) and writes the bound address
 * ("127.0.0.1:40123", "[::1]:40123") to name. On failure returns a
 * negative errno, having logged why: -EADDRINUSE still in use after
 * w->max_ms, or the code a callback of w gave up with.
 */
int net_listen(const char *spec, const struct net_wait *w, char *name, size_t namelen);

/* The bound address of fd, for the segment header (tag-listen-publish).
 * 0, or a negative errno. */
int net_endpoint(int fd, struct shmet__endpoint *e);

#endif /* SHMETRICS_AGGREGATOR_NET_H */
