/* SPDX-License-Identifier: MIT */
/*
 * tests/common/t_consumer.h - a small, obviously-correct consumer standing
 * in for the aggregator in tests: drains every ring of a segment, resolves
 * series through the arenas and keeps exact totals per series, keyed by
 * family name and label values joined with '|' ("GET|200"; "" for none).
 * It frees DEAD slots once drained, as the aggregator does.
 */
#ifndef SHMETRICS_TESTS_T_CONSUMER_H
#define SHMETRICS_TESTS_T_CONSUMER_H

#include <stdint.h>

#include "shm.h"

struct t_consumer;

struct t_consumer *t_consumer_new(struct shmet__seg *seg);
void t_consumer_free(struct t_consumer *tc);

/* Drain every slot once; returns the sample records applied. */
uint64_t t_consumer_drain(struct t_consumer *tc);

/* Totals; 0 for an unknown series. */
double t_counter(struct t_consumer *tc, const char *family, const char *labels);
double t_gauge_sum(struct t_consumer *tc, const char *family, const char *labels);
uint64_t t_hist_count(struct t_consumer *tc, const char *family, const char *labels);
double t_hist_sum(struct t_consumer *tc, const char *family, const char *labels);
/* Non-cumulative count of bucket i (i == nbounds is the +Inf bucket). */
uint64_t t_hist_bucket(struct t_consumer *tc, const char *family, const char *labels, uint32_t i);
uint64_t t_invalid(struct t_consumer *tc); /* records or definitions refused */
uint64_t t_defines(struct t_consumer *tc); /* DEFINE records seen */

#endif /* SHMETRICS_TESTS_T_CONSUMER_H */
