/* SPDX-License-Identifier: MIT */
/*
 * aggregator/ingest/checkpoint.h - what survives a graceful restart: on SIGTERM
 * the aggregator writes its counters, histograms and LAST gauges to a
 * checkpoint file beside the segment; at start it loads them back, so
 * Prometheus sees counters continue instead of a reset. Gauges combined
 * over live producers (SUM/MAX/MIN) are not kept: their producers set
 * them again; but the contributions of producers still alive at the stop
 * are kept with their owner, and rejoined if that owner still lives
 * (drain.h). The file is untrusted input on load: anything invalid makes
 * the whole file ignored, with a message.
 *
 * A checkpoint is true only at the ring tails it was written at: it holds
 * everything consumed before them. The next aggregator takes it (loads
 * and removes it) before it consumes anything, so a checkpoint never
 * outlives the aggregator that took it. Otherwise an aggregator killed
 * later (SIGKILL, a crash, which write no checkpoint) would leave the
 * older file behind, and its successor would restore counts Prometheus
 * has already seen and add the rings to them: after the fall from the
 * killed aggregator's values Prometheus sees a reset, and counts the
 * restored part a second time. Without a file the successor starts from
 * zero plus what the rings hold: an honest reset.
 */
#ifndef SHMETRICS_AGGREGATOR_CHECKPOINT_H
#define SHMETRICS_AGGREGATOR_CHECKPOINT_H

#include <stddef.h>

#include "ingest/drain.h"
#include "store/store.h"

/* <segment dir>/shmetrics-state.<ns>; 0 or -ENAMETOOLONG/-EINVAL. */
int checkpoint_path(const char *ns, char *buf, size_t len);

/* Write the store's non-internal families, and the gauge contributions
 * of d's live producers (d may be NULL), atomically (temp + rename).
 * Call it only once nothing more will be drained. */
int checkpoint_save(struct store *st, const struct drain *d, const char *path);

/* Take the checkpoint: check it whole, remove the file (valid or not),
 * then load it into an empty (but for internal families) store and
 * rejoin the gauges of the producers in d that still live (d may be
 * NULL). Call it before the first drain. Returns the series and gauge
 * contributions restored, 0 when there is no file, or a negative errno
 * with a reason in err (the store is then untouched). */
int checkpoint_take(struct store *st, struct drain *d, const char *path, char *err, size_t errlen);

#endif /* SHMETRICS_AGGREGATOR_CHECKPOINT_H */
