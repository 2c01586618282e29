/* SPDX-License-Identifier: MIT */
/*
 * aggregator/log.c - see log.h. A line is built whole in a stack buffer and
 * handed to write(2) at once: stderr is often a pipe read by a supervisor
 * or a test, and one write of at most LOG_LINE_MAX bytes (under PIPE_BUF
 * on Linux, 4096) reaches a pipe in one piece.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define PREFIX "shmetricsd: "

_Static_assert(LOG_LINE_MAX <= 4096, "a line must fit in one atomic pipe write (PIPE_BUF)");

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Lines above it are not written. Single-threaded (log.h). */
static enum log_level threshold = LOG_LEVEL_INFO;

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *log_level_name(enum log_level lvl)
{
    if ((unsigned)lvl >= sizeof(level_names) / sizeof(level_names[0]))
        return "?";
    return level_names[lvl];
}

void log_set_level(enum log_level lvl)
{
    threshold = lvl > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : lvl;
}

bool log_enabled(enum log_level lvl)
{
    return lvl <= threshold;
}

/* All of line to stderr; retried when interrupted, else given up. */
static void emit(const char *line, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, line, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        line += w;
        n -= (size_t)w;
    }
}

/* The text at buf[from..len) made one line: trailing newlines dropped,
 * inner ones (and carriage returns) turned into spaces, one newline
 * appended. buf has room for len + 1 bytes. Returns the new length. */
static size_t one_line(char *buf, size_t from, size_t len)
{
    while (len > from && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    for (size_t i = from; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    buf[len++] = '\n';
    return len;
}

/* Write head (already formatted, may be "") then fmt with ap, as one line
 * at lvl. */
static void write_line(enum log_level lvl, const char *head, const char *fmt, va_list ap)
{
    char buf[LOG_LINE_MAX + 1]; /* + the newline */
    const size_t cap = LOG_LINE_MAX;
    size_t len, from;
    int n;

    n = snprintf(buf, cap, PREFIX "%s: %s", log_level_name(lvl), head);
    len = n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
    from = strlen(PREFIX);
    n = vsnprintf(buf + len, cap - len, fmt, ap);
    if (n < 0) {
        n = 0;
        buf[len] = '\0';
    }
    if ((size_t)n >= cap - len) { /* cut: say so */
        len = cap - 1;
        memcpy(buf + len - 3, "...", 3);
    } else {
        len += (size_t)n;
    }
    emit(buf, one_line(buf, from, len));
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    int saved = errno;

    if (log_enabled(lvl))
        write_line(lvl, "", fmt, ap);
    errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

/* log_error() and its siblings: one body, four names. */
#define LOG_AT(fn, lvl)                                                                            \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
                                                                                                   \
        va_start(ap, fmt);                                                                         \
        log_vmsg(lvl, fmt, ap);                                                                    \
        va_end(ap);                                                                                \
    }

LOG_AT(log_error, LOG_LEVEL_ERROR)
LOG_AT(log_warn, LOG_LEVEL_WARN)
LOG_AT(log_info, LOG_LEVEL_INFO)
LOG_AT(log_debug, LOG_LEVEL_DEBUG)

void log_producer(enum log_level lvl, uint32_t slot, int32_t pid, const char *fmt, ...)
{
    char head[64];
    int saved = errno;
    va_list ap;

    if (!log_enabled(lvl))
        return;
    if (pid > 0)
        snprintf(head, sizeof(head), "producer slot %u pid %d: ", (unsigned)slot, (int)pid);
    else
        snprintf(head, sizeof(head), "producer slot %u: ", (unsigned)slot);
    va_start(ap, fmt);
    write_line(lvl, head, fmt, ap);
    va_end(ap);
    errno = saved;
}
