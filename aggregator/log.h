/* SPDX-License-Identifier: MIT */
/*
 * aggregator/log.h - shmetricsd's messages, with levels. Every message is
 * one line on stderr, "shmetricsd: LEVEL: text\n", written with a single
 * write() from a buffer on the stack: no allocation, no stdio buffering,
 * so lines of the daemon and of whoever shares its stderr never
 * interleave mid-line. Lines above the level chosen with --log-level
 * (log_set_level(); default info) are not formatted at all.
 *
 *   error  the daemon cannot do what it was asked (it exits, or a
 *          checkpoint or the segment is lost)
 *   warn   it goes on, but differently from what was asked, or waits
 *   info   lifecycle: start-up choices, signals, checkpoints, producers
 *          coming and going, segments attached
 *   debug  detail for a developer: set-up parameters, per-event noise
 *
 * Any aggregator file may call these; they are not async-signal-safe (they
 * format with vsnprintf), so never call them from a signal handler.
 * Single-threaded like the daemon: the level is a plain variable.
 */
#ifndef SHMETRICS_AGGREGATOR_LOG_H
#define SHMETRICS_AGGREGATOR_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* In order of verbosity: a level shows itself and every level before it.
 * (Not LOG_INFO and the like: <syslog.h> defines those as macros.) */
enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

#define LOG_LINE_MAX 2048 /* a longer message is cut, ending in "..." */

/* "error", "warn", "info" or "debug" (exactly, lower case) into *out:
 * 0, or -EINVAL (and *out untouched) for anything else. */
int log_level_parse(const char *s, enum log_level *out);

/* The name log_level_parse() takes for lvl ("?" when out of range). */
const char *log_level_name(enum log_level lvl);

/* Show lines up to lvl from now on. Errors are always shown. */
void log_set_level(enum log_level lvl);

/* Would a line at lvl be written? For callers that would do work only to
 * build a message (a stat(), a lookup). */
bool log_enabled(enum log_level lvl);

/*
 * log_msg - write "shmetricsd: LEVEL: " and fmt formatted (printf) as one
 * line, when lvl is enabled. fmt needs no trailing newline (one is added;
 * a trailing one given is not doubled) and a newline inside the text
 * becomes a space, so each call is exactly one line. A failing or short
 * write to stderr is retried when interrupted, else dropped: nothing to
 * report it to. errno is preserved, so a caller may log before using it.
 */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* log_msg() at each level. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * log_producer - a producer event, in one form for every caller (the slot
 * watch, the drain, the segment hold and its guard): "shmetricsd: LEVEL:
 * producer slot SLOT pid PID: text". pid <= 0 (not known, or the slot is
 * free) leaves out " pid PID". The pid is the one the producer wrote in its
 * slot, so it may belong to another PID namespace; it is a report, never
 * an identity. Usual levels: debug for a producer that appears, dies or
 * has its slot freed, and for what happens on every drain (a pre-fork
 * server that recycles workers makes thousands of these, and a stderr pipe
 * nobody reads fills up and blocks the daemon at 64 KiB); info for what is
 * rare and worth an operator's eye (a half-made claim reclaimed); warn
 * for something a producer did wrong (invalid records), once per cause
 * rather than per record.
 */
void log_producer(enum log_level lvl, uint32_t slot, int32_t pid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* SHMETRICS_AGGREGATOR_LOG_H */
