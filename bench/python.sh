#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/python.sh - the figures of Python prometheus_client in
# multiprocess mode (Debian's python3-prometheus-client, /usr/bin/python3),
# the way pre-fork Python servers aggregate metrics today: ns per
# Counter.inc and Histogram.observe, and the time of one scrape over the
# files of 64 and 1024 worker pids. Installs what is missing first. Prints
# one line per figure, BENCH <name> <value> <unit>:
#   python_counter_inc_ns, python_counter_labels_inc_ns,
#   python_histogram_observe_ns, python_timeit_loop_ns,
#   python_scrape_64_ms, python_scrape_1024_ms
# The ratio against shmet_inc is taken from these lines and those of
# `shmetrics-bench client` by whoever runs both.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<'EOF'
usage: bench/python.sh [--smoke] [--repeats N] [--number N] [--no-install]
                       [--help]

  --smoke       tiny sizes, for checking that it runs (seconds)
  --repeats N   timeit repeats; the figure is their median (default 11)
  --number N    calls per timeit repeat (default 200000)
  --no-install  do not install missing packages (the test suite's mode)
  --help        this text
EOF
}

args=()
install=1
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) args+=(--smoke) ;;
    --no-install) install=0 ;;
    --repeats | --number)
        [ $# -ge 2 ] || { usage >&2; exit 2; }
        args+=("$1" "$2")
        shift
        ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-python.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$install" -eq 1 ]; then
    # shellcheck source=tools/deps.sh
    . "$here/../tools/deps.sh"
    shmet_install_deps
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmetrics-prom-XXXXXX")
trap 'rm -rf "$dir"' EXIT
# Set before the import: prometheus_client picks its value class then.
PROMETHEUS_MULTIPROC_DIR="$dir" /usr/bin/python3 "$here/prom_multiproc.py" "${args[@]}"
