// SPDX-License-Identifier: MIT
/*
 * tests/cxx/test_cxx.cpp - include/shmetrics.h from C++17: it compiles with
 * -Wall -Wextra -Wpedantic -Werror, lays out every shared structure as the
 * C library does, reaches the library's own thread-local producers, and
 * records exact totals from two std::threads, the main thread (inline and
 * through pointers to the recorders) and a forked child. Totals come
 * from the test consumer (tests/common/t_consumer.c, through
 * cxx_consumer.h), which drains the rings as shmetricsd does. Built twice:
 * against libshmetrics.so and against libshmetrics.a.
 */
#include <shmetrics.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>

#include <sys/wait.h>
#include <unistd.h>

#include "cxx_consumer.h"

namespace {

std::atomic<int> failures{0};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

// The handle is a plain value type in C++ too: copyable into lambdas and
// across threads, and the same 8 bytes as in C.
static_assert(std::is_trivially_copyable<shmet_series>::value, "shmet_series");
static_assert(std::is_standard_layout<shmet_abi_header>::value, "abi header");
static_assert(std::is_standard_layout<shmet_abi_slot>::value, "abi slot");
static_assert(std::is_standard_layout<shmet__producer>::value, "producer");
static_assert(sizeof(shmet_series) == 8, "shmet_series");

constexpr int N = 1000;                                  // records of each kind per thread
constexpr double OBS[4] = {0.125, 0.5, 1.0, 4.0};        // exact in binary; buckets 0, 1, 1, 2
constexpr double BOUNDS[2] = {0.25, 1.0};

// Every layout fact of cxx_consumer.h, as the C compiler and C++ see it.
void check_layout()
{
    size_t c_view[CXX_LAYOUT_MAX], n;
    const size_t cxx_view[] = {
#define CXX_PUT(v) (v),
        CXX_LAYOUT(CXX_PUT)
#undef CXX_PUT
    };

    n = cxx_c_layout(c_view);
    CHECK(n == sizeof(cxx_view) / sizeof(cxx_view[0]));
    for (size_t i = 0; i < n; i++) {
        if (c_view[i] != cxx_view[i])
            std::fprintf(stderr, "layout fact %zu: C %zu, C++ %zu\n", i, c_view[i], cxx_view[i]);
        CHECK(c_view[i] == cxx_view[i]);
    }
}

shmet_series series(shmet_family *f, const char *value)
{
    const char *values[] = {value, nullptr};
    shmet_series s{};

    CHECK(shmet_series_get(f, value != nullptr ? values : nullptr, &s) == 0);
    return s;
}

struct gate {
    std::mutex m;
    std::condition_variable cv;
    int recorded = 0;
    bool release = false;
};

// One worker thread: its first record claims a slot through the library's
// slow path, which sets shmet__tls in this thread; the C++ view must see it.
void work(shmet_series all, shmet_series mine, shmet_series gauge, shmet_series hist, gate *g)
{
    CHECK(shmet__tls[all.client] == nullptr);
    for (int i = 0; i < N; i++) {
        shmet_inc(all);
        shmet_add(mine, 0.5);
        shmet_add(gauge, 1.0);
        shmet_observe(hist, OBS[i % 4]);
    }
    for (int i = 0; i < N / 2; i++)
        shmet_dec(gauge);
    CHECK(shmet__tls[all.client] != nullptr);
    std::unique_lock<std::mutex> lock(g->m);
    g->recorded++;
    g->cv.notify_all();
    g->cv.wait(lock, [g] { return g->release; }); // keep the slot live until drained
}

// The forked child: the parent's producers are forgotten (shmet__tls is
// clear again), it records into slots of its own, and retires them.
int child(shmet_client *c, shmet_series all, shmet_series mine, shmet_series gauge,
          shmet_series hist)
{
    bool forgot = shmet__tls[all.client] == nullptr;

    for (int i = 0; i < N; i++) {
        shmet_inc(all);
        shmet_add(mine, 0.25);
        shmet_add(gauge, 100.0); // gone with the child's slot
        shmet_observe(hist, 4.0);
    }
    shmet_close(c);
    return forgot ? 0 : 3;
}

} // namespace

int main()
{
    char ns[64];
    std::snprintf(ns, sizeof(ns), "t_cxx_%d", static_cast<int>(getpid()));
    cxx_ns_cleanup(ns);
    check_layout();

    shmet_options o{};
    o.ns = ns;
    o.slots = 8;
    o.ring_records = 16384; // holds every record: nothing drains until the threads are done
    o.arena_bytes = 65536;
    shmet_client *c = nullptr;
    if (shmet_open(&o, &c) != 0) {
        std::fprintf(stderr, "shmet_open: %s\n", shmet_last_error());
        return 1;
    }
    const char *who[] = {"who", nullptr};
    shmet_family *req = nullptr, *inflight = nullptr, *lat = nullptr, *bad = nullptr;
    CHECK(shmet_counter(c, "cxx_requests_total", "Requests.", who, &req) == 0);
    CHECK(shmet_gauge(c, "cxx_inflight", "In flight.", nullptr, SHMET_GAUGE_SUM, &inflight) == 0);
    CHECK(shmet_histogram(c, "cxx_latency_seconds", "Latency.", nullptr, BOUNDS, 2, &lat) == 0);
    CHECK(shmet_counter(c, "9x", "", nullptr, &bad) == -EINVAL && bad == nullptr);
    const char *detail = shmet_last_error();
    CHECK(std::strcmp(detail, "metric name '9x' must match [a-zA-Z_:][a-zA-Z0-9_:]*") == 0);
    if (req == nullptr || inflight == nullptr || lat == nullptr)
        return 1;
    const shmet_series all = series(req, "all"), t0 = series(req, "t0"), t1 = series(req, "t1"),
                       in_main = series(req, "main"), in_child = series(req, "child"),
                       gauge = series(inflight, nullptr), hist = series(lat, nullptr);

    // The main thread: inline, and out of line through volatile pointers
    // (which no compiler sees through): the copies C++ emits for inline
    // functions, one per program with the library's definitions.
    void (*volatile inc)(shmet_series) = shmet_inc;
    void (*volatile add)(shmet_series, double) = shmet_add;
    void (*volatile dec)(shmet_series) = shmet_dec;
    void (*volatile set)(shmet_series, double) = shmet_set;
    void (*volatile observe)(shmet_series, double) = shmet_observe;
    CHECK(shmet__tls[all.client] == nullptr);
    inc(all);
    CHECK(shmet__tls[all.client] != nullptr); // the library's thread-local, seen from C++
    shmet_inc(all);
    add(in_main, 2.0);
    shmet_add(in_main, 1.5);
    set(gauge, 7.0);
    shmet_add(gauge, 3.0);
    dec(gauge);
    observe(hist, 2.0);
    shmet_observe(hist, 0.25);

    gate g;
    std::thread w0(work, all, t0, gauge, hist, &g), w1(work, all, t1, gauge, hist, &g);
    cxx_consumer *cc = cxx_consumer_open(ns);
    CHECK(cc != nullptr);
    if (cc == nullptr)
        return 1;
    {
        std::unique_lock<std::mutex> lock(g.m);
        g.cv.wait(lock, [&g] { return g.recorded == 2; });
    }
    // Both workers are live: their gauge contributions count.
    CHECK(cxx_drain(cc) == 9 + 2 * (4 * N + N / 2));
    CHECK(cxx_gauge_sum(cc, "cxx_inflight", "") == 9.0 + 2 * (N - N / 2));
    CHECK(cxx_dropped(cc) == 0);
    {
        std::lock_guard<std::mutex> lock(g.m);
        g.release = true;
    }
    g.cv.notify_all();
    w0.join();
    w1.join();
    CHECK(cxx_drain(cc) == 0); // retired: drained and freed, contributions gone
    CHECK(cxx_gauge_sum(cc, "cxx_inflight", "") == 9.0);

    pid_t pid = fork();
    if (pid == 0)
        _exit(child(c, all, in_child, gauge, hist));
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK(cxx_drain(cc) == 4 * N);
    CHECK(cxx_counter(cc, "cxx_requests_total", "all") == 2 + 2 * N + N);
    CHECK(cxx_counter(cc, "cxx_requests_total", "t0") == 0.5 * N);
    CHECK(cxx_counter(cc, "cxx_requests_total", "t1") == 0.5 * N);
    CHECK(cxx_counter(cc, "cxx_requests_total", "main") == 3.5);
    CHECK(cxx_counter(cc, "cxx_requests_total", "child") == 0.25 * N);
    CHECK(cxx_gauge_sum(cc, "cxx_inflight", "") == 9.0);
    CHECK(cxx_hist_count(cc, "cxx_latency_seconds", "") == 2 + 2 * N + N);
    CHECK(cxx_hist_bucket(cc, "cxx_latency_seconds", "", 0) == 1 + 2 * N / 4);
    CHECK(cxx_hist_bucket(cc, "cxx_latency_seconds", "", 1) == 2 * (N / 2));
    CHECK(cxx_hist_bucket(cc, "cxx_latency_seconds", "", 2) == 1 + 2 * N / 4 + N);
    CHECK(cxx_hist_sum(cc, "cxx_latency_seconds", "") ==
          2.25 + 2 * (N / 4) * (OBS[0] + OBS[1] + OBS[2] + OBS[3]) + 4.0 * N);
    CHECK(cxx_invalid(cc) == 0);
    CHECK(cxx_dropped(cc) == 0);

    cxx_consumer_close(cc);
    shmet_close(c);
    cxx_ns_cleanup(ns);
    if (failures != 0) {
        std::fprintf(stderr, "%d checks failed\n", failures.load());
        return 1;
    }
    std::printf("test_cxx: all checks passed\n");
    return 0;
}
