/* SPDX-License-Identifier: MIT */
/*
 * aggregator/http/http.c - see http.h. Two passes over a request head: scan()
 * runs over each byte once as it arrives, checking byte classes and line
 * endings and finding the end of the head (refusing garbage such as a TLS
 * handshake at once rather than at the size limit); parse_head() then
 * splits the complete head into its request line and fields. Nothing here
 * allocates, and nothing reads past the length it is given.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "render/number.h"

enum {
    S_PRE,        /* before the request line: empty lines are skipped */
    S_PRE_CR,     /* CR of an empty line before the request line */
    S_REQLINE,    /* in the request line */
    S_REQLINE_CR, /* CR ending the request line */
    S_LINE_START, /* first byte of a field line, or the empty line */
    S_FIELD,      /* in a field line */
    S_FIELD_CR,   /* CR ending a field line */
    S_END_CR,     /* CR of the empty line ending the head */
    S_DONE,       /* head complete: pos is its length */
    S_ERROR,      /* refused: error is the status */
};

static bool is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr(extra, c) != NULL;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool http_str_ieq(const char *buf, size_t n, const char *s)
{
    size_t i = 0;

    for (; i < n && s[i] != '\0'; i++)
        if (lower(buf[i]) != lower(s[i]))
            return false;
    return i == n && s[i] == '\0';
}

void http_parser_init(struct http_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = S_PRE;
}

/* ---- the request line -------------------------------------------------- */

/* "HTTP/1.1": 0 and *minor, or the status to refuse it with. */
static int parse_version(const char *s, size_t n, uint8_t *minor)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' ||
        s[7] < '0' || s[7] > '9')
        return 400;
    if (s[5] != '1')
        return 505;
    *minor = s[7] == '0' ? 0 : 1; /* 1.2 and later: answered as 1.1 */
    return 0;
}

/* The path of an origin-form or absolute-form target, or false. */
static bool target_path(struct http_str t, struct http_str *path)
{
    static const char root[] = "/";
    size_t i = 0, start;

    if (t.n > 0 && t.p[0] == '/') {
        start = 0;
    } else {
        if (t.n >= 7 && http_str_ieq(t.p, 7, "http://"))
            i = 7;
        else if (t.n >= 8 && http_str_ieq(t.p, 8, "https://"))
            i = 8;
        else
            return false; /* asterisk-form, authority-form, garbage */
        while (i < t.n && t.p[i] != '/' && t.p[i] != '?')
            i++;
        start = i;
    }
    for (i = start; i < t.n && t.p[i] != '?'; i++)
        ;
    *path = (struct http_str){t.p + start, i - start};
    if (path->n == 0)
        *path = (struct http_str){root, 1};
    return true;
}

/* Split "METHOD SP target SP version" (the line without its ending).
 * Returns 0 or the status to refuse it with. */
static int parse_request_line(const char *s, size_t n, struct http_request *req)
{
    size_t i = 0, t0, t1;
    int rc;

    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == n || s[i] != ' ')
        return 400;
    req->method_name = (struct http_str){s, i};
    t0 = ++i;
    while (i < n && s[i] != ' ')
        i++;
    t1 = i;
    if (t1 == t0 || i == n)
        return 400;
    i++; /* the second SP; the version must follow it directly */
    if ((rc = parse_version(s + i, n - i, &req->minor)) != 0)
        return rc;
    req->target = (struct http_str){s + t0, t1 - t0};
    if (!target_path(req->target, &req->path))
        return 400;
    /* Methods are case-sensitive: "get" is some other method. */
    if (req->method_name.n == 3 && memcmp(s, "GET", 3) == 0)
        req->method = HTTP_GET;
    else if (req->method_name.n == 4 && memcmp(s, "HEAD", 4) == 0)
        req->method = HTTP_HEAD;
    else
        req->method = HTTP_OTHER;
    return 0;
}

/* ---- the scan ---------------------------------------------------------- */

/* The request line ends at buf[end] (its LF): check it now, so that a bad
 * one is refused before the rest of the head arrives. */
static int early_request_line(const struct http_parser *p, const char *buf, uint32_t end)
{
    struct http_request tmp;
    uint32_t n = end - p->req_start;

    if (n > 0 && buf[p->req_start + n - 1] == '\r')
        n--;
    memset(&tmp, 0, sizeof(tmp));
    return parse_request_line(buf + p->req_start, n, &tmp);
}

/* One byte of a field line: HTAB, SP, visible ASCII, obs-text. */
static bool field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The LF at buf[i] ends the request line. */
static uint8_t end_request_line(struct http_parser *p, const char *buf, uint32_t i, uint16_t *err)
{
    int status = early_request_line(p, buf, i);

    if (status != 0) {
        *err = (uint16_t)status;
        return S_ERROR;
    }
    p->line_start = i + 1;
    return S_LINE_START;
}

/* Advance the state machine over byte c at position i. Returns the new
 * state; sets *err when refusing with another status than 400. Longer than
 * the usual helper because it is the whole grammar of line endings. */
static uint8_t step(struct http_parser *p, const char *buf, uint32_t i, uint16_t *err)
{
    unsigned char c = (unsigned char)buf[i];

    switch (p->state) {
    case S_PRE:
        if (c == '\r')
            return S_PRE_CR;
        p->req_start = c == '\n' ? i + 1 : i;
        if (c == '\n')
            return S_PRE;
        return is_tchar(c) ? S_REQLINE : (uint8_t)S_ERROR;
    case S_PRE_CR:
        p->req_start = i + 1;
        return c == '\n' ? S_PRE : (uint8_t)S_ERROR;
    case S_REQLINE:
        if (c == '\r')
            return S_REQLINE_CR;
        if (c == '\n')
            return end_request_line(p, buf, i, err); /* a bare LF */
        return (c >= 0x20 && c < 0x7f) ? S_REQLINE : (uint8_t)S_ERROR;
    case S_REQLINE_CR:
        return c == '\n' ? end_request_line(p, buf, i, err) : (uint8_t)S_ERROR;
    case S_LINE_START:
        if (c == '\r')
            return S_END_CR;
        if (c == '\n')
            return S_DONE;
        p->line_start = i;
        /* SP or HTAB here would start an obs-fold continuation line. */
        return (field_byte(c) && !is_ows((char)c)) ? S_FIELD : (uint8_t)S_ERROR;
    case S_FIELD:
        if (c == '\r')
            return S_FIELD_CR;
        if (c == '\n')
            return S_LINE_START;
        return field_byte(c) ? S_FIELD : (uint8_t)S_ERROR;
    case S_FIELD_CR:
        return c == '\n' ? S_LINE_START : (uint8_t)S_ERROR;
    case S_END_CR:
        return c == '\n' ? S_DONE : (uint8_t)S_ERROR;
    default:
        return S_ERROR;
    }
}

/* ---- the fields -------------------------------------------------------- */

struct field_state {
    unsigned nhost;
    bool conn_close, conn_keep;
    bool te;
    bool cl;
    uint64_t cl_value;
};

/* Connection: a comma-separated list of tokens. */
static void parse_connection(struct http_str v, struct field_state *fs)
{
    size_t i = 0;

    while (i < v.n) {
        size_t s, e;
        while (i < v.n && (is_ows(v.p[i]) || v.p[i] == ','))
            i++;
        s = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        e = i;
        while (e > s && is_ows(v.p[e - 1]))
            e--;
        if (http_str_ieq(v.p + s, e - s, "close"))
            fs->conn_close = true;
        else if (http_str_ieq(v.p + s, e - s, "keep-alive"))
            fs->conn_keep = true;
    }
}

/* Content-Length: 1*DIGIT, or a list of identical values. 0 or 400. */
static int parse_content_length(struct http_str v, struct field_state *fs)
{
    size_t i = 0;

    do {
        uint64_t x = 0;
        size_t digits = 0;
        while (i < v.n && is_ows(v.p[i]))
            i++;
        for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++, digits++) {
            if (x > (UINT64_MAX - 9) / 10)
                return 400;
            x = x * 10 + (uint64_t)(v.p[i] - '0');
        }
        while (i < v.n && is_ows(v.p[i]))
            i++;
        if (digits == 0 || (i < v.n && v.p[i] != ',') || (fs->cl && fs->cl_value != x))
            return 400;
        fs->cl = true;
        fs->cl_value = x;
    } while (i++ < v.n);
    return 0;
}

static int add_list(struct http_str *list, uint8_t *n, struct http_str v)
{
    if (*n >= HTTP_LIST_MAX)
        return 400;
    list[(*n)++] = v;
    return 0;
}

/* One field line (without its ending): 0 or the status to refuse with. */
static int parse_field(const char *s, size_t n, struct http_request *req, struct field_state *fs)
{
    size_t colon = 0, b, e;
    struct http_str v;

    while (colon < n && is_tchar((unsigned char)s[colon]))
        colon++;
    if (colon == 0 || colon == n || s[colon] != ':')
        return 400; /* empty name, no colon, or space before the colon */
    for (b = colon + 1; b < n && is_ows(s[b]); b++)
        ;
    for (e = n; e > b && is_ows(s[e - 1]); e--)
        ;
    v = (struct http_str){s + b, e - b};
    if (http_str_ieq(s, colon, "host")) {
        fs->nhost++;
        req->host = v;
    } else if (http_str_ieq(s, colon, "accept")) {
        return add_list(req->accept, &req->naccept, v);
    } else if (http_str_ieq(s, colon, "accept-encoding")) {
        return add_list(req->accept_encoding, &req->naccept_encoding, v);
    } else if (http_str_ieq(s, colon, "connection")) {
        parse_connection(v, fs);
    } else if (http_str_ieq(s, colon, "content-length")) {
        return parse_content_length(v, fs);
    } else if (http_str_ieq(s, colon, "transfer-encoding")) {
        fs->te = true;
    }
    return 0;
}

/* The next line of buf[*i, end): its bytes without CR LF or LF. */
static struct http_str next_line(const char *buf, uint32_t *i, uint32_t end)
{
    uint32_t s = *i, e = s;

    while (e < end && buf[e] != '\n')
        e++;
    *i = e + 1;
    if (e > s && buf[e - 1] == '\r')
        e--;
    return (struct http_str){buf + s, e - s};
}

/* After the fields: framing and Host rules, then keep-alive. */
static int check_fields(struct http_request *req, const struct field_state *fs)
{
    if (fs->te)
        return (fs->cl || req->minor == 0) ? 400 : 411;
    if (fs->cl && fs->cl_value != 0)
        return 413;
    if (fs->nhost > 1 || (req->minor == 1 && fs->nhost == 0))
        return 400;
    req->keep_alive = req->minor == 1 ? !fs->conn_close : (fs->conn_keep && !fs->conn_close);
    return 0;
}

/* The whole head, already scanned, is buf[0, end). 0 or a status. */
static int parse_head(const struct http_parser *p, const char *buf, uint32_t end,
                      struct http_request *req)
{
    struct field_state fs;
    uint32_t i = p->req_start;
    struct http_str line = next_line(buf, &i, end);
    int rc;

    memset(&fs, 0, sizeof(fs));
    if ((rc = parse_request_line(line.p, line.n, req)) != 0)
        return rc;
    for (;;) {
        line = next_line(buf, &i, end);
        if (line.n == 0)
            break; /* the empty line: scan() saw it end the head */
        if ((rc = parse_field(line.p, line.n, req, &fs)) != 0)
            return rc;
    }
    return check_fields(req, &fs);
}

static int refuse(struct http_parser *p, struct http_request *req, uint16_t status)
{
    p->state = S_ERROR;
    p->error = status;
    req->status = status;
    return -EBADMSG;
}

int http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req)
{
    uint16_t err = 400;
    int rc;

    memset(req, 0, sizeof(*req));
    if (p->state == S_ERROR)
        return refuse(p, req, p->error);
    while (p->state != S_DONE && p->pos < len) {
        if (p->pos >= HTTP_HEAD_MAX)
            return refuse(p, req, 431);
        p->state = step(p, buf, p->pos, &err);
        if (p->state == S_ERROR)
            return refuse(p, req, err);
        p->pos++;
    }
    if (p->state != S_DONE)
        return (p->pos >= HTTP_HEAD_MAX) ? refuse(p, req, 431) : 0;
    if ((rc = parse_head(p, buf, p->pos, req)) != 0) {
        memset(req, 0, sizeof(*req));
        return refuse(p, req, (uint16_t)rc);
    }
    req->status = 200;
    return (int)p->pos;
}

/* ---- responses --------------------------------------------------------- */

const char *http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {411, "Length Required"},
        {413, "Content Too Large"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };

    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

/* IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
static void put_date(struct buf *out, time_t t)
{
    char tmp[40];
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL)
        return;
    buf_put(out, tmp, strftime(tmp, sizeof(tmp), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm));
}

int http_response_head(const struct http_response *r, struct buf *out)
{
    buf_printf(out, "HTTP/1.%u %d %s\r\n", r->minor ? 1u : 0u, r->status, http_reason(r->status));
    buf_str(out, "Server: shmetricsd\r\n");
    if (r->date != 0)
        put_date(out, r->date);
    if (r->content_type != NULL)
        buf_printf(out, "Content-Type: %s\r\n", r->content_type);
    if (r->content_encoding != NULL)
        buf_printf(out, "Content-Encoding: %s\r\n", r->content_encoding);
    buf_str(out, "Content-Length: ");
    buf_u64(out, r->content_length);
    buf_str(out, "\r\n");
    if (r->vary)
        buf_str(out, "Vary: Accept, Accept-Encoding\r\n");
    if (r->allow != NULL)
        buf_printf(out, "Allow: %s\r\n", r->allow);
    buf_str(out, r->close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
    return buf_failed(out) ? -ENOMEM : 0;
}
