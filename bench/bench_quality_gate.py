"""Benchmark the input quality gate on demo warehouses (two years) at scale 1 and, optionally, 10.

For each scale a demo warehouse is generated into a temporary folder (not timed), then a subprocess imports the
gate on the last day: without Data Docs, again without (warm), with Data Docs, and as an incremental night judges it
(row checks of dated tables over the last 4 days, no Data Docs). Prints wall and CPU seconds, checks run, order
lines and peak RSS, and the windowed / whole-table ratio (same process, warm).
Usage: .venv/bin/python bench/bench_quality_gate.py [--scales 1 10] [--warehouse PATH]
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
from datetime import date, timedelta
from pathlib import Path
started = time.perf_counter()
from kpiflow.config import Settings
from kpiflow.quality import run_gate
import great_expectations  # what the gate imports lazily; counted here so the runs below exclude it
imported = time.perf_counter() - started
warehouse = Path(sys.argv[1])
settings = Settings.from_env(Path.cwd())
settings = Settings(settings.project_dir, warehouse, warehouse.parent / "marts.duckdb", settings.target)
run_date = date.fromisoformat(sys.argv[2])
timings = {}
window = run_date - timedelta(days=3)
runs = (("cold_no_docs", False, None), ("warm_no_docs", False, None), ("warm_with_docs", True, None),
        ("warm_window_no_docs", False, window))
for label, docs, start in runs:
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_gate(settings, run_date, data_docs=docs, quarantine=False, window_start=start)
    timings[label] = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
import duckdb
with duckdb.connect(str(warehouse), read_only=True) as con:
    lines = con.execute("select count(*) from raw.order_lines").fetchone()[0]
    rows = sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0] for (t,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall())
print("BENCH_RESULT " + json.dumps({
    "import_seconds": imported, "timings": timings, "passed": report.passed, "checks": len(report.results),
    "order_lines": lines, "raw_rows": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def generate(scale: float, folder: Path) -> tuple[Path, str]:
    from kpiflow.demo import generate_demo_warehouse

    path = folder / "bench.duckdb"
    summary = generate_demo_warehouse(path, scale=scale)
    return path, summary.end.isoformat()


def measure(warehouse: Path, run_date: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(warehouse), run_date], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"gate benchmark failed:\n{result.stderr[-3000:]}")
    marked = [line for line in result.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if not marked:
        raise SystemExit(f"no result from the gate benchmark:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return json.loads(marked[-1].removeprefix("BENCH_RESULT "))


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


def report(scale: str, stats: dict[str, object]) -> None:
    timings: dict[str, dict[str, float]] = stats["timings"]  # type: ignore[assignment]
    parts = ", ".join(f"{name} {t['wall']:.1f}s wall / {t['cpu']:.1f}s CPU" for name, t in timings.items())
    print(
        f"scale {scale}: {stats['order_lines']:,} order lines, {stats['raw_rows']:,} raw rows, "
        f"{stats['checks']} checks, passed={stats['passed']}; import {stats['import_seconds']:.1f}s; {parts}; "
        f"peak RSS {stats['peak_rss_mb']:.0f} MB"
    )
    window, whole = timings["warm_window_no_docs"]["wall"], timings["warm_no_docs"]["wall"]
    print(f"scale {scale}: incremental night's gate / whole-table gate = {window / whole:.0%} (wall, warm, no docs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0])
    parser.add_argument("--warehouse", type=Path, help="benchmark this warehouse instead of generating one")
    parser.add_argument("--date", help="run date for --warehouse (default: its last order date)")
    args = parser.parse_args()
    print(machine())
    if args.warehouse:
        import duckdb

        with duckdb.connect(str(args.warehouse), read_only=True) as con:
            latest = con.execute("select max(order_ts)::date from raw.orders").fetchone()[0]
        report(str(args.warehouse), measure(args.warehouse.resolve(), args.date or latest.isoformat()))
        return
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="kpiflow-bench-gate-") as folder:
            warehouse, run_date = generate(scale, Path(folder))
            report(f"{scale:g}", measure(warehouse, run_date))


if __name__ == "__main__":
    main()
