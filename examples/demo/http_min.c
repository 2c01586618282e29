/* SPDX-License-Identifier: MIT */
/*
 * examples/demo/http_min.c - see http_min.h. Strict by design: anything
 * outside the small subset of HTTP/1.x the tools speak is -EBADMSG, so
 * garbage is answered with 400 rather than guessed at. Lines may end in
 * CRLF or a bare LF; obsolete line folding and control bytes are refused.
 */
#include <errno.h>
#include <string.h>

#include "http_min.h"

/* One line of the head, without its line ending. */
struct line {
    const char *p;
    size_t n;
};

/* Offset just past the empty line ending the head, 0 if not in buf yet. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The line starting at *pos (which ends before end); advances *pos. */
static struct line next_line(const char *buf, size_t end, size_t *pos)
{
    const char *p = buf + *pos;
    const char *nl = memchr(p, '\n', end - *pos);
    size_t n = nl ? (size_t)(nl - p) : end - *pos;

    *pos += n + 1;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return (struct line){p, n};
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool demo_http_str_ieq(struct demo_http_str s, const char *lit)
{
    size_t n = strlen(lit);

    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s.ptr[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static struct demo_http_str trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct demo_http_str){p, n};
}

/* "HTTP/1.0" or "HTTP/1.1": the minor version, or -1. */
static int parse_version(const char *p, size_t n)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return -1;
    return p[7] - '0';
}

static int parse_length(struct demo_http_str v, struct demo_http_head *h)
{
    uint64_t x = 0;

    if (v.len == 0 || v.len > 18)
        return -EBADMSG;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return -EBADMSG;
        x = x * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    if (h->has_length && h->content_length != x)
        return -EBADMSG;
    h->has_length = true;
    h->content_length = x;
    return 0;
}

/* Connection: a comma-separated list of tokens. */
static void parse_connection(struct demo_http_str v, struct demo_http_head *h)
{
    size_t i = 0;

    while (i < v.len) {
        size_t j = i;
        while (j < v.len && v.ptr[j] != ',')
            j++;
        struct demo_http_str tok = trim(v.ptr + i, j - i);
        if (demo_http_str_ieq(tok, "close"))
            h->conn_close = true;
        else if (demo_http_str_ieq(tok, "keep-alive"))
            h->conn_keep_alive = true;
        i = j + 1;
    }
}

static int header_apply(struct demo_http_str name, struct demo_http_str v, struct demo_http_head *h)
{
    if (demo_http_str_ieq(name, "content-length"))
        return parse_length(v, h);
    if (demo_http_str_ieq(name, "transfer-encoding"))
        h->chunked = true;
    else if (demo_http_str_ieq(name, "connection"))
        parse_connection(v, h);
    else if (demo_http_str_ieq(name, "x-worker"))
        h->worker = v;
    return 0;
}

/* name ":" OWS value OWS, with a token name and no control bytes. */
static int parse_header(struct line l, struct demo_http_head *h)
{
    size_t i = 0;

    while (i < l.n && is_tchar((unsigned char)l.p[i]))
        i++;
    if (i == 0 || i == l.n || l.p[i] != ':')
        return -EBADMSG;
    for (size_t k = i + 1; k < l.n; k++) {
        unsigned char c = (unsigned char)l.p[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -EBADMSG;
    }
    return header_apply((struct demo_http_str){l.p, i}, trim(l.p + i + 1, l.n - i - 1), h);
}

/* Every header line between *pos and the head's end. */
static int parse_headers(const char *buf, size_t end, size_t pos, struct demo_http_head *h)
{
    unsigned count = 0;

    for (;;) {
        struct line l = next_line(buf, end, &pos);
        if (l.n == 0)
            return 0;
        if (++count > DEMO_HTTP_HEADERS_MAX)
            return -EBADMSG;
        int rc = parse_header(l, h);
        if (rc < 0)
            return rc;
    }
}

/* Locate the head; returns its length, 0 if incomplete, or an error. */
static long head_find(const char *buf, size_t len)
{
    size_t end = head_end(buf, len < DEMO_HTTP_HEAD_MAX ? len : DEMO_HTTP_HEAD_MAX);

    if (end == 0)
        return len >= DEMO_HTTP_HEAD_MAX ? -EMSGSIZE : 0;
    return (long)end;
}

/* The request target: origin-form ("/path?query") or "*", printable ASCII. */
static bool target_ok(struct demo_http_str t)
{
    if (t.len == 0 || (t.ptr[0] != '/' && !(t.len == 1 && t.ptr[0] == '*')))
        return false;
    for (size_t i = 0; i < t.len; i++)
        if ((unsigned char)t.ptr[i] <= 0x20 || (unsigned char)t.ptr[i] >= 0x7f)
            return false;
    return true;
}

/* METHOD SP target SP HTTP/1.x */
static int parse_request_line(struct line l, struct demo_http_request *r)
{
    const char *sp1 = memchr(l.p, ' ', l.n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', l.n - (size_t)(sp1 + 1 - l.p)) : NULL;

    if (sp1 == NULL || sp2 == NULL || sp1 == l.p || sp1 - l.p > 16)
        return -EBADMSG;
    r->method = (struct demo_http_str){l.p, (size_t)(sp1 - l.p)};
    for (size_t i = 0; i < r->method.len; i++)
        if (r->method.ptr[i] < 'A' || r->method.ptr[i] > 'Z')
            return -EBADMSG;
    r->target = (struct demo_http_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    if (!target_ok(r->target))
        return -EBADMSG;
    r->h.minor = parse_version(sp2 + 1, l.n - (size_t)(sp2 + 1 - l.p));
    return r->h.minor < 0 ? -EBADMSG : 0;
}

/* An incomplete request head that is garbage already: a method that is
 * not 1 to 16 capitals and a space, or a complete but bad request line.
 * Lets binary noise get its 400 at once instead of after a timeout. */
static int request_prefix_check(const char *buf, size_t len)
{
    struct demo_http_request r;
    size_t i = 0, pos = 0;

    while (i < len && i <= 16 && buf[i] >= 'A' && buf[i] <= 'Z')
        i++;
    if (i < len && (buf[i] != ' ' || i == 0 || i > 16))
        return -EBADMSG;
    if (memchr(buf, '\n', len) == NULL)
        return 0;
    return parse_request_line(next_line(buf, len, &pos), &r);
}

int demo_http_parse_request(const char *buf, size_t len, struct demo_http_request *r)
{
    size_t pos = 0;
    long end;
    int rc;

    memset(r, 0, sizeof(*r));
    /* Tolerate empty lines before a request (RFC 9112, 2.2). */
    while (pos < len && pos < DEMO_HTTP_HEAD_MAX && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    end = head_find(buf + pos, len - pos);
    if (end <= 0) {
        rc = request_prefix_check(buf + pos, len - pos);
        return rc < 0 ? rc : (int)end;
    }
    end += (long)pos;
    rc = parse_request_line(next_line(buf, (size_t)end, &pos), r);
    if (rc == 0)
        rc = parse_headers(buf, (size_t)end, pos, &r->h);
    if (rc < 0)
        return rc;
    r->h.head_len = (size_t)end;
    return 1;
}

/* HTTP/1.x SP DDD [SP reason] */
static int parse_status_line(struct line l, struct demo_http_response *r)
{
    if (l.n < 12 || (l.n > 12 && l.p[12] != ' ') || l.p[8] != ' ')
        return -EBADMSG;
    r->h.minor = parse_version(l.p, 8);
    if (r->h.minor < 0)
        return -EBADMSG;
    r->status = 0;
    for (int i = 9; i < 12; i++) {
        if (l.p[i] < '0' || l.p[i] > '9')
            return -EBADMSG;
        r->status = r->status * 10 + (l.p[i] - '0');
    }
    return r->status >= 100 ? 0 : -EBADMSG;
}

int demo_http_parse_response(const char *buf, size_t len, struct demo_http_response *r)
{
    size_t pos = 0;
    long end;
    int rc;

    memset(r, 0, sizeof(*r));
    end = head_find(buf, len);
    if (end <= 0)
        return (int)end;
    rc = parse_status_line(next_line(buf, (size_t)end, &pos), r);
    if (rc == 0)
        rc = parse_headers(buf, (size_t)end, pos, &r->h);
    if (rc < 0)
        return rc;
    r->h.head_len = (size_t)end;
    return 1;
}

bool demo_http_keep_alive(const struct demo_http_head *h)
{
    if (h->conn_close)
        return false;
    return h->minor >= 1 || h->conn_keep_alive;
}

const char *demo_http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {204, "No Content"},
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {413, "Content Too Large"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
    };

    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

int demo_http_split_hostport(const char *s, char *buf, size_t len, const char **host,
                             const char **port)
{
    char *colon;

    if (strlen(s) >= len)
        return -EINVAL;
    memcpy(buf, s, strlen(s) + 1);
    colon = strrchr(buf, ':');
    if (colon == NULL || colon == buf || colon[1] == '\0')
        return -EINVAL;
    *colon = '\0';
    *port = colon + 1;
    *host = buf;
    if (buf[0] == '[') {
        if (colon[-1] != ']' || colon - buf < 3)
            return -EINVAL;
        colon[-1] = '\0';
        *host = buf + 1;
    }
    return 0;
}
