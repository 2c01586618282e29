/* SPDX-License-Identifier: MIT */
/*
 * aggregator/daemon/loop.c - see loop.h. Each operation in the ring carries its
 * kind and an index in user_data. A connection has at most one receive or
 * send in flight; closing it from outside (a deadline, a stop) cancels
 * that operation and frees the connection only when its completion comes
 * back, so no completion ever refers to freed memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/conn.h"
#include "log.h"
#include "daemon/loop.h"

/* Valgrind's memcheck sees what system calls write into user memory, but
 * not what the kernel writes on its own for an io_uring operation: bytes
 * received into a connection's buffer would look uninitialised, and every
 * branch of the HTTP parser on them a false error. The one buffer whose
 * received contents we read is marked defined, exactly the bytes received
 * (tag-valgrind-io-uring). Without the header (valgrind not installed) the
 * daemon is the same; only a memcheck run of it would report those bytes.
 * The signalfd read is marked likewise (its signal number is looked at).
 * The other operations need nothing: accepts pass no address, timeouts
 * and sends are only read by the kernel. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK_H 1
#endif
#endif

#define MS 1000000u
#define SQ_ENTRIES 1024u
#define CQ_ENTRIES 8192u
#define ACCEPT_RETRY_MS 100

enum ud_kind {
    UD_ACCEPT = 1,
    UD_ACCEPT_RETRY,
    UD_SIGNAL,
    UD_TIMER,
    UD_PIDFD,
    UD_RECV,
    UD_SEND,
    UD_CANCEL, /* completion of a cancel request: nothing to do */
};

struct loop_conn {
    struct conn c;
    uint32_t idx;
    bool closing;   /* being closed: free when the operation comes back */
    bool inflight;  /* a receive or send is in the ring */
    uint64_t op_ud; /* its user_data, for cancelling */
};

static uint64_t ud(enum ud_kind k, uint64_t idx)
{
    return (uint64_t)k << 56 | idx;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_ts(struct __kernel_timespec *ts, uint32_t ms)
{
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (long long)(ms % 1000) * MS;
}

/* A submission entry; submits what is queued when the queue is full. The
 * queue holds SQ_ENTRIES and one completion adds at most a few entries, so
 * after a submit there is room unless the kernel refused the submit. */
static struct io_uring_sqe *get_sqe(struct loop *l, uint64_t data)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

    if (sqe == NULL) {
        io_uring_submit(&l->ring);
        sqe = io_uring_get_sqe(&l->ring);
    }
    if (sqe == NULL) {
        log_error("io_uring submission queue stuck");
        abort();
    }
    io_uring_sqe_set_data64(sqe, data);
    return sqe;
}

/* ---- ring setup ---------------------------------------------------------- */

static int io_uring_disabled_sysctl(void)
{
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
    int v = -1;

    if (f == NULL)
        return -1;
    if (fscanf(f, "%d", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

static void ring_refused(int rc)
{
    int sysctl = io_uring_disabled_sysctl();

    if (rc == -EPERM && sysctl == 2)
        log_error("io_uring is disabled on this host (sysctl kernel.io_uring_disabled = 2)");
    else if (rc == -EPERM && sysctl == 1)
        log_error("io_uring is restricted to the group in kernel.io_uring_group (sysctl "
                  "kernel.io_uring_disabled = 1)");
    else if (rc == -EPERM || rc == -ENOSYS)
        log_error("io_uring_setup refused (%s): a seccomp profile (container runtime, systemd "
                  "SystemCallFilter) blocks io_uring, or the kernel lacks it",
                  strerror(-rc));
    else if (rc == -ENOMEM)
        log_error("cannot create the io_uring: out of memory (RLIMIT_MEMLOCK on kernels "
                  "before 5.12)");
    else
        log_error("cannot create the io_uring: %s", strerror(-rc));
}

static int ring_init(struct loop *l)
{
    static const unsigned tries[] = {
        IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_SINGLE_ISSUER,
        IORING_SETUP_CQSIZE,
        0,
    };
    int rc = -EINVAL;

    /* Newer flags are optimisations; older kernels refuse them (EINVAL). */
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]) && rc == -EINVAL; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        p.flags = tries[i];
        p.cq_entries = CQ_ENTRIES;
        rc = io_uring_queue_init_params(SQ_ENTRIES, &l->ring, &p);
        if (rc == 0)
            log_debug("io_uring: %u submission and %u completion entries, setup flags %#x",
                      p.sq_entries, p.cq_entries, tries[i]);
    }
    if (rc < 0) {
        ring_refused(rc);
        return rc;
    }
    l->ring_ok = true;
    return 0;
}

/* SIGTERM and SIGINT stop; SIGHUP (a closed terminal, a supervisor's
 * reload) is read too, so that it never kills us: there is no log file to
 * reopen, it is logged and ignored. All three are blocked before anything
 * is created, so none can end the process half-way through its start. */
static int signals_init(struct loop *l)
{
    sigset_t mask;

    signal(SIGPIPE, SIG_IGN); /* sends use MSG_NOSIGNAL; this covers stdout, stderr */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -errno;
    l->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (l->sig_fd < 0) {
        int rc = -errno;
        log_error("signalfd: %s", strerror(errno));
        return rc;
    }
    return 0;
}

static const char *signal_name(uint32_t signo)
{
    switch (signo) {
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "a signal";
    }
}

static void note_sighup(void)
{
    log_info("SIGHUP: ignored (messages go to standard error; there is no log file to reopen)");
}

int loop_init(struct loop *l, const struct loop_config *cfg)
{
    int rc;

    memset(l, 0, sizeof(*l));
    l->listen_fd = -1;
    l->sig_fd = -1;
    l->base_ms = l->cur_ms = cfg->drain_interval_ms;
    l->max_conns = cfg->max_conns;
    l->timeouts = cfg->timeouts;
    l->cap = cfg->max_conns + LOOP_REJECT_SPARE;
    l->multishot = true;
    reply_pool_init(&l->pool);
    l->conns = calloc(l->cap, sizeof(*l->conns));
    l->free_idx = calloc(l->cap, sizeof(*l->free_idx));
    if (l->conns == NULL || l->free_idx == NULL) {
        loop_fini(l);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < l->cap; i++)
        l->free_idx[i] = l->cap - 1 - i;
    l->nfree = l->cap;
    if ((rc = ring_init(l)) < 0 || (rc = signals_init(l)) < 0) {
        loop_fini(l);
        return rc;
    }
    return 0;
}

/* ---- arming -------------------------------------------------------------- */

static void arm_timer(struct loop *l)
{
    set_ts(&l->ts, l->cur_ms);
    io_uring_prep_timeout(get_sqe(l, ud(UD_TIMER, 0)), &l->ts, 0, 0);
}

static void arm_accept(struct loop *l)
{
    struct io_uring_sqe *sqe = get_sqe(l, ud(UD_ACCEPT, 0));

    if (l->multishot)
        io_uring_prep_multishot_accept(sqe, l->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, l->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    l->accept_armed = true;
}

static void arm_accept_later(struct loop *l)
{
    set_ts(&l->accept_retry_ts, ACCEPT_RETRY_MS);
    io_uring_prep_timeout(get_sqe(l, ud(UD_ACCEPT_RETRY, 0)), &l->accept_retry_ts, 0, 0);
}

static void arm_signal(struct loop *l)
{
    io_uring_prep_read(get_sqe(l, ud(UD_SIGNAL, 0)), l->sig_fd, &l->siginfo, sizeof(l->siginfo), 0);
}

/* Poll the pidfds the last scan opened; each reports to on_pidfd(). */
static void arm_pidfds(struct loop *l)
{
    uint32_t index;
    int fd;

    while (watch_next_unarmed(&l->watches, &index, &fd))
        io_uring_prep_poll_add(get_sqe(l, ud(UD_PIDFD, index)), fd, POLLIN);
}

/* ---- connections --------------------------------------------------------- */

static void conn_destroy(struct loop *l, struct loop_conn *lc)
{
    close(lc->c.fd);
    if (lc->c.reject)
        l->nreject--;
    else
        l->nnormal--;
    l->conns[lc->idx] = NULL;
    l->free_idx[l->nfree++] = lc->idx;
    conn_fini(&lc->c);
    free(lc);
}

/* Close lc now, or as soon as its operation in flight comes back. */
static void conn_kill(struct loop *l, struct loop_conn *lc)
{
    if (lc->closing)
        return;
    lc->closing = true;
    if (!lc->inflight) {
        conn_destroy(l, lc);
        return;
    }
    io_uring_prep_cancel64(get_sqe(l, ud(UD_CANCEL, 0)), lc->op_ud, 0);
}

static void conn_next(struct loop *l, struct loop_conn *lc, enum conn_next next)
{
    struct io_uring_sqe *sqe;
    void *p;
    size_t n;

    if (next == CONN_CLOSE || (l->stopping && lc->c.state != CONN_WRITE)) {
        conn_destroy(l, lc);
        return;
    }
    lc->op_ud = ud(next == CONN_RECV ? UD_RECV : UD_SEND, lc->idx);
    sqe = get_sqe(l, lc->op_ud);
    if (next == CONN_RECV) {
        conn_recv_buf(&lc->c, &p, &n);
        io_uring_prep_recv(sqe, lc->c.fd, p, n, 0);
    } else {
        io_uring_prep_sendmsg(sqe, lc->c.fd, conn_send_msg(&lc->c), MSG_NOSIGNAL);
    }
    lc->inflight = true;
}

static void new_conn(struct loop *l, int fd, uint64_t now)
{
    bool reject = l->nnormal >= l->max_conns;
    struct loop_conn *lc;
    int one = 1;

    if (l->stopping || (reject && l->nreject >= LOOP_REJECT_SPARE) || l->nfree == 0 ||
        (lc = malloc(sizeof(*lc))) == NULL) {
        close(fd); /* beyond even the spare slots: no reply at all */
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* not TCP: no matter */
    conn_init(&lc->c, fd, reject, &l->timeouts, &l->pool, now);
    lc->idx = l->free_idx[--l->nfree];
    lc->closing = false;
    lc->inflight = false;
    l->conns[lc->idx] = lc;
    if (reject)
        l->nreject++;
    else
        l->nnormal++;
    conn_next(l, lc, CONN_RECV);
}

/* ---- producers' processes (ingest/watch.h) ------------------------------ */

static void scan_watches(struct loop *l)
{
    ingest_watch_scan(l->in, &l->watches);
    arm_pidfds(l);
}

static void on_pidfd(struct loop *l, uint32_t index)
{
    ingest_watch_fired(l->in, &l->watches, index);
}

/* The drain timer's interval after a drain that applied n records
 * (tag-drain-backoff in loop.h). */
static void note_drain(struct loop *l, uint64_t n)
{
    uint32_t cap = l->empty_streak >= LOOP_DEEP_IDLE_AFTER ? LOOP_DEEP_IDLE_MS : LOOP_IDLE_MAX_MS;
    uint32_t idle_max = l->base_ms > cap ? l->base_ms : cap;

    if (n > 0) {
        l->empty_streak = 0;
        l->cur_ms = l->base_ms;
        return;
    }
    if (l->empty_streak < UINT32_MAX)
        l->empty_streak++;
    if (l->empty_streak >= LOOP_IDLE_AFTER && l->cur_ms < idle_max)
        l->cur_ms = l->cur_ms * 2 < idle_max ? l->cur_ms * 2 : idle_max;
}

/* A receive of res bytes into lc's buffer completed (tag-valgrind-io-uring). */
static void received_by_kernel(struct loop_conn *lc, int res)
{
#ifdef HAVE_MEMCHECK_H
    void *p;
    size_t n;

    if (res <= 0 || lc->c.state == CONN_LINGER)
        return; /* nothing, or discarded unread */
    conn_recv_buf(&lc->c, &p, &n);
    (void)VALGRIND_MAKE_MEM_DEFINED(p, (size_t)res < n ? (size_t)res : n);
#else
    (void)lc;
    (void)res;
#endif
}

static void on_conn(struct loop *l, enum ud_kind kind, uint32_t idx, int res, uint64_t now)
{
    struct loop_conn *lc = idx < l->cap ? l->conns[idx] : NULL;
    uint64_t before;
    enum conn_next next;

    if (lc == NULL)
        return;
    lc->inflight = false;
    if (lc->closing) {
        conn_destroy(l, lc);
        return;
    }
    before = ingest_samples(l->in);
    if (kind == UD_RECV) {
        received_by_kernel(lc, res);
        next = conn_received(&lc->c, res, now);
    } else {
        next = conn_sent(&lc->c, res, now);
    }
    if (next == CONN_HANDLE) {
        (void)server_handle(l->srv, &lc->c.req, &lc->c.reply); /* a failure is a 500 reply */
        next = conn_answered(&lc->c, now);
    }
    if (ingest_samples(l->in) != before) {
        /* A scrape's drain found records: producers are busy, perhaps new. */
        note_drain(l, 1);
        scan_watches(l);
    }
    conn_next(l, lc, next);
}

/* ---- accept -------------------------------------------------------------- */

static void on_accept(struct loop *l, int res, unsigned flags, uint64_t now)
{
    bool more = l->multishot && (flags & IORING_CQE_F_MORE);

    if (res >= 0)
        new_conn(l, res, now);
    if (more)
        return;
    l->accept_armed = false;
    if (l->stopping || res == -ECANCELED)
        return;
    if (res == -EINVAL && l->multishot) {
        l->multishot = false; /* a kernel before 5.19 */
        log_debug("no multishot accept on this kernel: one accept at a time");
        arm_accept(l);
    } else if (res >= 0 || res == -ECONNABORTED || res == -EINTR || res == -EAGAIN) {
        arm_accept(l);
    } else {
        arm_accept_later(l); /* EMFILE, ENFILE, ENOBUFS, ...: do not spin */
    }
}

/* ---- timer, housekeeping, signals ---------------------------------------- */

static void housekeep(struct loop *l, uint64_t now)
{
    l->next_housekeep_ns = now + (uint64_t)LOOP_HOUSEKEEP_MS * MS;
    l->housekeep_ticks++;
    for (uint32_t i = 0; i < l->cap; i++) {
        struct loop_conn *lc = l->conns[i];
        if (lc != NULL && !lc->closing && conn_expired(&lc->c, now))
            conn_kill(l, lc);
    }
    /* Truncated, replaced, back (hold.h): a new segment has other slots. */
    (void)server_check_segment(l->srv, &l->watches);
    scan_watches(l);
    /* With a pidfd for every active slot the liveness check is only a
     * safety net; without, it is how deaths are noticed. */
    if (watch_uncovered(&l->watches) || l->housekeep_ticks % LOOP_LIVENESS_SLOW == 0)
        ingest_liveness(l->in);
    ingest_reclaim(l->in); /* claims left half-made by a claimer that died */
}

static void on_timer(struct loop *l, uint64_t now)
{
    uint64_t n = server_drain(l->srv);

    server_heartbeat(l->srv);
    note_drain(l, n);
    if (n > 0)
        scan_watches(l); /* a new producer defines first */
    if (now >= l->next_housekeep_ns)
        housekeep(l, now);
    arm_timer(l);
}

static void begin_stop(struct loop *l, uint64_t now)
{
    l->stopping = true;
    l->stop_deadline_ns = now + (uint64_t)LOOP_STOP_GRACE_MS * MS;
    if (l->accept_armed)
        io_uring_prep_cancel64(get_sqe(l, ud(UD_CANCEL, 0)), ud(UD_ACCEPT, 0), 0);
    /* The accept in flight holds its own reference to the socket until
     * the cancel completes; new connections are refused from now on. */
    close(l->listen_fd);
    l->listen_fd = -1;
    for (uint32_t i = 0; i < l->cap; i++) {
        struct loop_conn *lc = l->conns[i];
        if (lc != NULL && conn_stop(&lc->c))
            conn_kill(l, lc);
    }
}

/* The signalfd read of res bytes into l->siginfo completed
 * (tag-valgrind-io-uring). */
static void siginfo_by_kernel(struct loop *l, int res)
{
#ifdef HAVE_MEMCHECK_H
    if (res > 0)
        (void)VALGRIND_MAKE_MEM_DEFINED(&l->siginfo, (size_t)res);
#else
    (void)l;
    (void)res;
#endif
}

static void on_signal(struct loop *l, int res, uint64_t now)
{
    siginfo_by_kernel(l, res);
    if (res == (int)sizeof(l->siginfo)) {
        uint32_t signo = l->siginfo.ssi_signo;
        if (signo == SIGHUP) {
            note_sighup();
        } else if (l->stopping) {
            log_info("%s again: stopping now", signal_name(signo));
            l->done = true; /* a second signal: no more grace */
        } else {
            log_info("%s: stopping (replies in flight get up to %u ms)", signal_name(signo),
                     LOOP_STOP_GRACE_MS);
            begin_stop(l, now);
        }
    }
    if (res != -ECANCELED)
        arm_signal(l);
}

int loop_pause(struct loop *l, uint32_t ms)
{
    uint64_t end = mono_ns() + (uint64_t)ms * MS;
    struct pollfd p = {.fd = l->sig_fd, .events = POLLIN};

    for (uint64_t now = mono_ns(); now < end; now = mono_ns()) {
        int r = poll(&p, 1, (int)((end - now + MS - 1) / MS));
        if (r < 0 && errno != EINTR) {
            int rc = -errno;
            log_error("poll on the signalfd: %s", strerror(errno));
            return rc;
        }
        if (r <= 0)
            continue;
        if (read(l->sig_fd, &l->siginfo, sizeof(l->siginfo)) != (ssize_t)sizeof(l->siginfo))
            continue; /* taken already (EAGAIN): nothing pending */
        if (l->siginfo.ssi_signo == SIGHUP) {
            note_sighup();
            continue;
        }
        log_info("%s: stopping before serving", signal_name(l->siginfo.ssi_signo));
        return -ECANCELED;
    }
    return 0;
}

static void dispatch(struct loop *l, const struct io_uring_cqe *cqe, uint64_t now)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    enum ud_kind kind = (enum ud_kind)(data >> 56);
    uint64_t idx = data & ((UINT64_C(1) << 56) - 1);

    switch (kind) {
    case UD_ACCEPT:
        on_accept(l, cqe->res, cqe->flags, now);
        break;
    case UD_ACCEPT_RETRY:
        if (!l->stopping && !l->accept_armed)
            arm_accept(l);
        break;
    case UD_SIGNAL:
        on_signal(l, cqe->res, now);
        break;
    case UD_TIMER:
        on_timer(l, now);
        break;
    case UD_PIDFD:
        on_pidfd(l, (uint32_t)idx);
        break;
    case UD_RECV:
    case UD_SEND:
        on_conn(l, kind, (uint32_t)idx, cqe->res, now);
        break;
    case UD_CANCEL:
        break;
    }
}

/* ---- run ----------------------------------------------------------------- */

/* Files open now; a generous guess when /proc cannot be read. */
static uint64_t fds_in_use(void)
{
    DIR *d = opendir("/proc/self/fd");
    uint64_t n = 0;

    if (d == NULL)
        return 64;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own */
}

/* A connection accepted for want of a file descriptor is no connection:
 * it waits unanswered in the listen backlog, and the 503 promised past
 * --max-connections never comes. So every connection and its spares must
 * find one within RLIMIT_NOFILE (already raised to the hard limit), after
 * the files open now, a pidfd per watched producer and a reserve for files
 * open for a moment; the limit is lowered to fit, and said so. */
static void fit_nofile(struct loop *l)
{
    uint64_t need = (uint64_t)l->max_conns + LOOP_REJECT_SPARE;
    uint64_t used = fds_in_use() + l->watches.max + LOOP_FD_RESERVE, room;
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY)
        return;
    room = r.rlim_cur > used ? r.rlim_cur - used : 0;
    if (room >= need)
        return;
    l->max_conns = room > LOOP_REJECT_SPARE + 1 ? (uint32_t)(room - LOOP_REJECT_SPARE) : 1;
    log_warn("--max-connections %u needs more open files than RLIMIT_NOFILE (%llu) leaves; "
             "serving at most %u connections (raise the limit: ulimit -n, or LimitNOFILE= in a "
             "systemd unit)",
             l->cap - LOOP_REJECT_SPARE, (unsigned long long)r.rlim_cur, l->max_conns);
}

static bool stop_done(const struct loop *l, uint64_t now)
{
    return l->done || (l->stopping && (l->nnormal + l->nreject == 0 || now >= l->stop_deadline_ns));
}

int loop_run(struct loop *l, struct server *srv, int listen_fd)
{
    int rc;

    l->srv = srv;
    l->in = server_ingest(srv);
    l->listen_fd = listen_fd;
    if ((rc = watch_init(&l->watches, l->in->hold.seg.slots)) < 0)
        return 1;
    fit_nofile(l);
    l->next_housekeep_ns = mono_ns();
    arm_accept(l);
    arm_signal(l);
    arm_timer(l);
    while (!l->done) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        uint64_t now;

        rc = io_uring_submit_and_wait(&l->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
            log_error("io_uring_enter: %s", strerror(-rc));
            return 1;
        }
        now = mono_ns();
        io_uring_for_each_cqe(&l->ring, head, cqe)
        {
            dispatch(l, cqe, now);
            n++;
        }
        io_uring_cq_advance(&l->ring, n);
        if (stop_done(l, now))
            l->done = true;
    }
    return 0;
}

void loop_fini(struct loop *l)
{
    if (l == NULL)
        return;
    if (l->ring_ok)
        io_uring_queue_exit(&l->ring); /* cancels what is still in flight */
    l->ring_ok = false;
    for (uint32_t i = 0; l->conns != NULL && i < l->cap; i++) {
        if (l->conns[i] != NULL) {
            close(l->conns[i]->c.fd);
            conn_fini(&l->conns[i]->c);
            free(l->conns[i]);
        }
    }
    watch_fini(&l->watches);
    reply_pool_fini(&l->pool);
    if (l->listen_fd >= 0)
        close(l->listen_fd);
    if (l->sig_fd >= 0)
        close(l->sig_fd);
    free(l->conns);
    free(l->free_idx);
    l->conns = NULL;
    l->free_idx = NULL;
    l->sig_fd = -1;
    l->listen_fd = -1;
}
