"""Benchmark the changed-history fingerprint pass against the input quality gate of the same night.

For each scale a two-year demo warehouse is generated into a temporary folder (not timed; or --warehouse, whose
kpiflow_state gets the fingerprint tables). Then, in one process: the fingerprint pass (one GROUP BY query per
dated raw table, order lines joined to their orders' days, one per-row query per validity table:
orchestration/restatements.py) is taken once and kept as a build would, taken again and compared with it (what a
nightly run does once, before the gate; its build keeps that pass unless the gate quarantined rows; `--repeat N`
times, each in a new connection, reporting the median: one pass of a few seconds on a shared machine is noisy),
and the gate runs as a nightly run's does (row checks over the last 4 days, Data Docs, no quarantine). Prints the
seconds and the ratio pass / gate; the aim is under 10%.
Usage: .venv/bin/python bench/bench_fingerprints.py [--scales 1 10] [--warehouse PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
from bench_quality_gate import generate, machine

from kpiflow.config import Settings
from kpiflow.orchestration.restatements import keep_fingerprints, restated_before, take_fingerprints
from kpiflow.quality import run_gate
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec
from kpiflow.warehouse.duckdb import DuckDBSession


def measure(warehouse: Path, run_date: date, repeat: int) -> dict[str, float]:
    settings = Settings.from_env(Path(__file__).resolve().parent.parent)
    settings = Settings(settings.project_dir, warehouse, warehouse.parent / "marts.duckdb", settings.target)
    gate = load_gate_spec(settings.project_dir / CHECKS_FILE)
    window = run_date - timedelta(days=3)
    timings: dict[str, float] = {}
    with duckdb.connect(str(warehouse)) as raw:
        con = DuckDBSession(raw)
        con.execute("create schema if not exists kpiflow_state")
        started = time.perf_counter()
        take_fingerprints(con, gate)
        timings["first pass (cold)"] = time.perf_counter() - started
        keep_fingerprints(con)
    passes: list[float] = []
    compares: list[float] = []
    for _ in range(repeat):
        with duckdb.connect(str(warehouse)) as raw:  # a new connection, as each stage of a run opens its own
            con = DuckDBSession(raw)
            started = time.perf_counter()
            take_fingerprints(con, gate)
            passes.append(time.perf_counter() - started)
            started = time.perf_counter()
            restated = restated_before(con, window)
            compares.append(time.perf_counter() - started)
        assert not restated.found, restated.headline()
    timings["pass"] = statistics.median(passes)
    timings["compare"] = statistics.median(compares)
    timings["pass (fastest)"] = min(passes)
    started = time.perf_counter()
    run_gate(settings, run_date, data_docs=True, quarantine=False, window_start=window)
    timings["gate"] = time.perf_counter() - started
    return timings


def report(label: str, warehouse: Path, timings: dict[str, float]) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select count(*) from raw.order_lines").fetchone()[0]
        days = con.execute("select count(*) from kpiflow_state.raw_day_fingerprints").fetchone()[0]
        ranged = con.execute("select count(*) from kpiflow_state.raw_row_fingerprints").fetchone()[0]
    one = timings["pass"] + timings["compare"]
    print(
        f"{label}: {rows:,} order lines; {days:,} table-days and {ranged:,} validity rows fingerprinted; "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
    )
    print(f"{label}: pass + compare / gate = {one / timings['gate']:.1%} (aim: under 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0])
    parser.add_argument("--warehouse", type=Path, help="benchmark this warehouse instead of generating one")
    parser.add_argument("--repeat", type=int, default=3, help="passes to take; the median is reported")
    args = parser.parse_args()
    print(machine())
    if args.warehouse:
        with duckdb.connect(str(args.warehouse), read_only=True) as con:
            latest = con.execute("select max(order_ts)::date from raw.orders").fetchone()[0]
        report(str(args.warehouse), args.warehouse, measure(args.warehouse.resolve(), latest, args.repeat))
        return
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="kpiflow-bench-fingerprints-") as folder:
            warehouse, run_date = generate(scale, Path(folder))
            report(f"scale {scale:g}", warehouse, measure(warehouse, date.fromisoformat(run_date), args.repeat))


if __name__ == "__main__":
    main()
