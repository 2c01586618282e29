/* SPDX-License-Identifier: MIT */
/*
 * aggregator/net.h - the listening socket: parsing --listen ADDR:PORT
 * ("127.0.0.1:9477", "[::1]:9477", "localhost:0"), binding, and naming
 * the bound address for the "listening on" line.
 */
#ifndef SHMETRICS_AGGREGATOR_NET_H
#define SHMETRICS_AGGREGATOR_NET_H

#include <stddef.h>

#include "shm.h"

/* Split spec into host and port. The host of "[v6]:port" loses its
 * brackets. 0, or -EINVAL when spec is not HOST:PORT with a port in
 * 0..65535 (0: any free port). */
int net_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen);

/*
 * net_listen - resolve spec, bind (SO_REUSEADDR) and listen. On success
 * returns the socket (non-blocking, close-on-exec) and writes the bound
 * address ("127.0.0.1:40123", "[::1]:40123") to name. On failure prints
 * why to stderr and returns a negative errno.
 */
int net_listen(const char *spec, char *name, size_t namelen);

/* The bound address of fd, for the segment header (tag-listen-publish).
 * 0, or a negative errno. */
int net_endpoint(int fd, struct shmet__endpoint *e);

#endif /* SHMETRICS_AGGREGATOR_NET_H */
