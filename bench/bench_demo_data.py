"""Benchmark the demo data generator: two years at scale 1 and scale 10 into temporary files.

Each scale runs in its own subprocess so that its peak RSS is its own. Prints wall time, rows per
second (all raw tables), order lines per second, peak RSS and the scale-10 / scale-1 time ratio
(10 means perfectly linear). Usage: .venv/bin/python bench/bench_demo_data.py [--scales 1 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from kpiflow.demo import generate_demo_warehouse
folder = Path(sys.argv[2])
started = time.perf_counter()
summary = generate_demo_warehouse(folder / "bench.duckdb", scale=float(sys.argv[1]))
elapsed = time.perf_counter() - started
print(json.dumps({
    "scale": float(sys.argv[1]),
    "seconds": elapsed,
    "rows": sum(summary.row_counts.values()),
    "order_lines": summary.row_counts["order_lines"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "file_mb": (folder / "bench.duckdb").stat().st_size / 2**20,
}))
"""


def run_scale(scale: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kpiflow-bench-demo-") as folder:
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(scale), folder], capture_output=True, text=True, check=True
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("| scale | wall s | raw rows | order lines | rows/s | order lines/s | peak RSS MB | file MB |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for scale in args.scales:
        r = run_scale(scale)
        results.append(r)
        print(
            f"| {r['scale']:g} | {r['seconds']:.1f} | {r['rows']:,} | {r['order_lines']:,} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['order_lines'] / r['seconds']:,.0f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['file_mb']:,.0f} |",
            flush=True,
        )
    if len(results) >= 2:
        first, last = results[0], results[-1]
        print(
            f"time ratio scale {last['scale']:g} / scale {first['scale']:g}: "
            f"{last['seconds'] / first['seconds']:.2f} (linear = {last['scale'] / first['scale']:g})"
        )


if __name__ == "__main__":
    main()
