#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/bench.sh - build a Release shmetrics and run every benchmark:
# `shmetrics-bench client` (recording cost against atomics, a locked table
# and StatsD), `drain` (aggregator merge throughput), `scrape` (render,
# GET /metrics, memory per series), `e2e` (producers through a live
# shmetricsd: throughput, drops, latency, idle CPU) and, when present,
# bench/python.sh (Python prometheus_client in multiprocess mode).
# Writes a markdown report: the machine, each figure against its target,
# every figure, and the exact commands; prints it at the end.
#
# Usage: tools/bench.sh [--quick] [--out FILE] [--jobs N] [--no-build]
#   --quick     fewer repetitions and shorter runs (about a minute)
#   --out FILE  the report (default build/bench/results.md)
#   --jobs N    parallel build jobs (default: number of CPUs)
#   --no-build  use the binaries of an earlier run
# Environment: BUILD_ROOT (default ./build); the Release build goes to
# $BUILD_ROOT/bench. Figures are medians over repetitions; ratios are taken
# from the figures of this one run. Nothing here passes or fails on speed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
BUILD=$BUILD_ROOT/bench
OUT=$BUILD_ROOT/bench/results.md
QUICK=0
BUILD_IT=1
JOBS=$(nproc 2>/dev/null || echo 2)

usage() { sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=${2:?}; shift ;;
    --jobs) JOBS=${2:?}; shift ;;
    --no-build) BUILD_IT=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$BUILD_IT" = 1 ]; then
    # shellcheck source=tools/deps.sh
    . "$ROOT/tools/deps.sh"
    shmet_install_deps
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSHMETRICS_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j "$JOBS" --target shmetrics-bench shmetricsd
fi
BENCH=$BUILD/bin/shmetrics-bench
[ -x "$BENCH" ] || { echo "bench.sh: $BENCH is missing (run without --no-build)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
LOG=$(dirname "$OUT")/bench-output.txt
: >"$LOG"

# ---- the runs ------------------------------------------------------------------

if [ "$QUICK" = 1 ]; then
    RUNS=(
        "$BENCH client --runs 3 --samples 1M --lock-samples 200k --statsd-samples 20k"
        "$BENCH drain --runs 3 --samples 1M"
        "$BENCH scrape --runs 3 --mem-series 20k"
        "$BENCH e2e --runs 1 --seconds 2 --probes 40 --idle-seconds 3"
    )
    PY_ARGS="--repeats 3"
else
    RUNS=(
        "$BENCH client"
        "$BENCH drain --runs 7"
        "$BENCH scrape --runs 5"
        "$BENCH e2e"
    )
    PY_ARGS=""
fi
if [ -x "$ROOT/bench/python.sh" ]; then
    RUNS+=("$ROOT/bench/python.sh $PY_ARGS")
fi

meminfo() { awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
LOAD_START=$(loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
T0=$(date +%s)

for cmd in "${RUNS[@]}"; do
    printf '\n==== %s\n' "$cmd" | tee -a "$LOG"
    # Word splitting of $cmd is intended: each is a plain command line.
    # shellcheck disable=SC2086
    if ! $cmd 2>&1 | tee -a "$LOG"; then
        echo "bench.sh: '$cmd' failed; its figures are missing from the report" | tee -a "$LOG"
    fi
done
LOAD_END=$(loadavg)
ELAPSED=$(($(date +%s) - T0))

# ---- the report ---------------------------------------------------------------

# Every figure once (a later line wins): name value unit.
FIGS=$(awk '$1 == "BENCH" && NF == 4 {v[$2] = $3; u[$2] = $4}
            END {for (k in v) print k, v[k], u[k]}' "$LOG" | sort)

val() { awk -v k="$1" '$1 == k {print $2}' <<<"$FIGS"; }
unit() { awk -v k="$1" '$1 == k {print $3}' <<<"$FIGS"; }

# row LABEL NAME OP TARGET [EXTRA]: one line of the targets table; OP is
# le, lt, ge, or "-" for a figure that is stated rather than compared.
row() {
    local label=$1 name=$2 op=$3 target=$4 extra=${5:-} v u met sym
    v=$(val "$name")
    u=$(unit "$name")
    case "$op" in
    le) sym="≤ $target" ;;
    lt) sym="< $target" ;;
    ge) sym="≥ $target" ;;
    *) sym=$target ;;
    esac
    if [ -z "$v" ]; then
        v="—"
        met="not measured"
    elif [ "$op" = "-" ]; then
        met="—"
    else
        met=$(awk -v v="$v" -v t="$target" -v op="$op" 'BEGIN {
            ok = (op == "le") ? v <= t : (op == "lt") ? v < t : v >= t
            print ok ? "yes" : "**no**" }')
    fi
    # shellcheck disable=SC2016 # the backquotes are markdown
    printf '| %s | `%s` | %s | %s | %s%s | %s |\n' "$label" "$name" "$v" "$u" "$sym" \
        "${extra:+ ($extra)}" "$met"
}

# ratio NAME NUM DEN: a figure computed from two of this run's figures.
ratio() {
    local n d
    n=$(val "$2")
    d=$(val "$3")
    if [ -n "$n" ] && [ -n "$d" ]; then
        FIGS+=$'\n'"$1 $(awk -v n="$n" -v d="$d" 'BEGIN {printf "%.3f", (d > 0 ? n / d : 0)}') x"
    fi
}
ratio ratio_python_inc_over_inc python_counter_inc_ns client_inc_ns_median
ratio ratio_python_observe_over_observe python_histogram_observe_ns client_observe_ns_median

{
    echo "# shmetrics benchmark results"
    echo
    echo "Run $STARTED, ${ELAPSED} s$([ "$QUICK" = 1 ] && echo ", --quick")."
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPUs (nproc) | $(nproc) |"
    echo "| CPU model | ${CPU_MODEL:-unknown} |"
    echo "| kernel | $(uname -r) |"
    echo "| memory | $(meminfo) |"
    echo "| load average at start | $LOAD_START |"
    echo "| load average at end | $LOAD_END |"
    echo
    echo "## Figures against targets"
    echo
    echo "Medians over repetitions; ratios are baseline cost / shmetrics cost from"
    echo "this run's figures. Mix = half counters, half 13-bucket histograms, three"
    echo "labels each; a histogram series counts as one series (16 lines)."
    echo
    echo "| figure | name | value | unit | target | met? |"
    echo "|---|---|---|---|---|---|"
    row "client: shmet_inc, median" client_inc_ns_median le 5 "stretch 2-3"
    row "client: shmet_observe, median" client_observe_ns_median le 5
    row "client: shmet_inc, p99.9" client_inc_p999_ns lt 100
    row "client: shmet_observe, p99.9" client_observe_p999_ns lt 100
    row "cheaper than (a) shared atomics, 2 producers" ratio_atomic_2p_over_inc ge 10
    row "cheaper than (a) atomic histogram, 2 producers" ratio_hist_2p_over_observe ge 10
    row "cheaper than (c) StatsD, counter" ratio_statsd_inc_1p_over_inc ge 300
    row "cheaper than (c) StatsD, histogram" ratio_statsd_observe_2p_over_observe ge 300
    row "cheaper than Python multiprocess, counter" ratio_python_inc_over_inc ge 100
    row "cheaper than Python multiprocess, histogram" ratio_python_observe_over_observe ge 100
    row "drain: counters, 1k series" drain_counter_1k_msps_median ge 100
    row "drain: counters, 100k series" drain_counter_100k_msps_median ge 100
    row "drain: histograms, 1k series" drain_histogram_1k_msps_median ge 50
    row "drain: histograms, 100k series" drain_histogram_100k_msps_median ge 50
    row "drain: gauges (SUM), 100k series" drain_gauge_100k_msps_median - "stated"
    row "render text: 10k mix" scrape_render_text_10k_ms_median le 1
    row "render text: 100k mix" scrape_render_text_100k_ms_median le 15
    row "render text: 10k counters" scrape_render_counters_10k_ms_median le 1
    row "render text: 100k counters" scrape_render_counters_100k_ms_median le 15
    row "GET /metrics over loopback: 100k mix, text" scrape_get_text_100k_ms_median le 30
    row "GET /metrics over loopback: 100k mix, gzip" scrape_get_gzip_100k_ms_median le 30
    row "scrape size: 100k mix, text" scrape_text_100k_bytes - "stated"
    row "sample-to-visible (timer drain) under load, p99" e2e_latency_load_drain_p99_ms le 5
    row "sample-to-visible (timer drain) sparse, p99" e2e_latency_idle_drain_p99_ms le 5
    row "applied under saturating producers" e2e_applied_msps_median - "stated"
    row "dropped under saturating producers" e2e_dropped_pct_median - "stated"
    row "idle shmetricsd, no producers" e2e_idle_cpu_no_producers_pct lt 1
    row "idle shmetricsd, idle producers attached" e2e_idle_cpu_idle_producers_pct lt 1
    row "memory per histogram series (shmetricsd)" mem_daemon_histogram_16obs_bytes_per_series - "stated"
    row "memory per counter series (shmetricsd)" mem_daemon_counter_bytes_per_series - "stated"
    row "memory per gauge series (shmetricsd)" mem_daemon_gauge_bytes_per_series - "stated"
    echo
    echo "## Every figure"
    echo
    echo "| name | value | unit |"
    echo "|---|---|---|"
    awk 'NF == 3 {printf "| `%s` | %s | %s |\n", $1, $2, $3}' <<<"$FIGS" | sort
    echo
    echo "## Commands"
    echo
    echo '```sh'
    for cmd in "${RUNS[@]}"; do
        echo "${cmd#"$ROOT"/}"
    done
    echo '```'
    echo
    echo "The full output is in \`$(basename "$LOG")\` beside this file."
} >"$OUT"

printf '\n'
cat "$OUT"
printf '\nbench.sh: report written to %s\n' "$OUT"
