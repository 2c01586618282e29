/* SPDX-License-Identifier: MIT */
/*
 * aggregator/checkpoint.h - what survives a graceful restart: on SIGTERM
 * the aggregator writes its counters, histograms and LAST gauges to a
 * checkpoint file beside the segment; at start it loads them back, so
 * Prometheus sees counters continue instead of a reset. Gauges combined
 * over live producers (SUM/MAX/MIN) are not kept: their producers set
 * them again. The file is untrusted input on load: anything invalid makes
 * the whole file ignored, with a message.
 */
#ifndef SHMETRICS_AGGREGATOR_CHECKPOINT_H
#define SHMETRICS_AGGREGATOR_CHECKPOINT_H

#include <stddef.h>

#include "store.h"

/* <segment dir>/shmetrics-state.<ns>; 0 or -ENAMETOOLONG/-EINVAL. */
int checkpoint_path(const char *ns, char *buf, size_t len);

/* Write the store's non-internal families atomically (temp + rename). */
int checkpoint_save(struct store *st, const char *path);

/* Load a checkpoint into an empty (but for internal families) store.
 * Returns the series restored, 0 when there is no file, or a negative
 * errno with a reason in err. */
int checkpoint_load(struct store *st, const char *path, char *err, size_t errlen);

#endif /* SHMETRICS_AGGREGATOR_CHECKPOINT_H */
