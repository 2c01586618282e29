"""``python -m shmetrics.bench --smoke`` runs and prints every figure.

A smoke test of the benchmark itself: it starts its own shmetricsd and its
prometheus_client processes; no figure is compared with any speed here.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

from shmetrics import bench

FIGURES = [f"{impl}_{w}_ns" for impl in bench.IMPLS for w in
           ("loop", "inc", "observe", "labels_inc", "request")]
FIGURES += ["shmetrics_call_floor_ns", "shmetrics_request_labels_ns", "shmetrics_dropped"]
FIGURES += [f"ratio_{w}_vs_{other}" for w in ("inc", "observe", "labels_inc", "request")
            for other in ("multiprocess", "single")]


def test_smoke_prints_every_bench_line() -> None:
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "shmetrics.bench", "--smoke"],
                          capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = {}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            words = line.split()
            assert len(words) == 4, line
            assert words[1] not in lines, f"{words[1]} printed twice"
            lines[words[1]] = (float(words[2]), words[3])
    assert sorted(lines) == sorted(FIGURES)
    for name, (value, unit) in lines.items():
        assert math.isfinite(value), name
        if name.startswith("ratio_"):
            assert unit == "x" and value > 0, name
        elif name == "shmetrics_dropped":
            assert (value, unit) == (0.0, "records")
        else:
            assert unit == "ns" and value > 0, name


def test_bad_arguments_are_refused() -> None:
    proc = subprocess.run([sys.executable, "-m", "shmetrics.bench", "--number", "0"],
                          capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "--number and --repeats must be positive" in proc.stderr
