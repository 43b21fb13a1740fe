"""Nightly (one new day, incremental) vs full rebuild, per demo scale, as a ratio. Aim: 10% or less.

Each scale gets a throwaway copy of the project and a demo warehouse from 2025-01-01 to the base date (generated
first, not timed). Then, with real `kpiflow run` processes (Prefect's temporary API included):
  full     `kpiflow run --date D` on the fresh warehouse: every model built from scratch (the first build);
  full-2   (with --repeat-full) `kpiflow run --date D --full-refresh`: the same, replacing existing tables;
  nightly  `kpiflow run --ensure-demo-data --date D+1`, then D+2: one new day landed, then built incrementally.
Prints wall time and every stage's time, and the ratios nightly / full for the whole run and for the dbt build.
Usage: .venv/bin/python bench/bench_incremental.py [--scales 1 10] [--date 2026-11-10] [--history-start 2025-01-01]
A later --history-start (e.g. 2026-01-01) gives the same days with less history: how the nightly grows with it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench_nightly import STAGES, copy_project, machine


@dataclass(frozen=True)
class Measured:
    label: str
    seconds: float
    stages: dict[str, float]
    build_line: str


def _env(folder: Path, scale: float) -> dict[str, str]:
    return {
        **os.environ,
        "KPIFLOW_PROJECT_DIR": str(folder / "project"),
        "KPIFLOW_WAREHOUSE": str(folder / "warehouse" / "kpiflow.duckdb"),
        "KPIFLOW_MARTS": str(folder / "warehouse" / "marts.duckdb"),
        "KPIFLOW_DEMO_SCALE": str(scale),
    }


def _kpiflow(folder: Path, scale: float, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = subprocess.run(command, env=_env(folder, scale), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kpiflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr}")
    return done


def timed_run(folder: Path, scale: float, label: str, *args: str) -> Measured:
    started = time.perf_counter()
    done = _kpiflow(folder, scale, "run", "--json", "--quiet", *args)
    seconds = time.perf_counter() - started
    result = json.loads(done.stdout)
    stages = {stage["name"]: stage["seconds"] for stage in result["stages"]}
    build = next((stage["headline"] for stage in result["stages"] if stage["name"] == "build"), "")
    return Measured(label, seconds, stages, build)


def bench_scale(scale: float, base: date, repeat_full: bool, history_start: date) -> list[Measured]:
    with tempfile.TemporaryDirectory(prefix="kpiflow-bench-incremental-") as tmp:
        folder = Path(tmp)
        copy_project(folder / "project")
        warehouse = folder / "warehouse" / "kpiflow.duckdb"
        _kpiflow(folder, scale, "demo-data", "--scale", str(scale), "--start", str(history_start), "--end", str(base),
                 "--out", str(warehouse), "--quiet")  # fmt: skip
        runs = [timed_run(folder, scale, "full", "--date", str(base))]
        if repeat_full:
            runs.append(timed_run(folder, scale, "full-2", "--date", str(base), "--full-refresh"))
        for offset in (1, 2):
            day = base + timedelta(days=offset)
            runs.append(timed_run(folder, scale, f"nightly {day}", "--date", str(day), "--ensure-demo-data"))
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--date", default="2026-11-10", help="base date D")
    parser.add_argument("--repeat-full", action="store_true", help="also time a --full-refresh over the first build")
    parser.add_argument("--history-start", default="2025-01-01", help="first day of the demo warehouse")
    args = parser.parse_args()
    print(f"machine: {machine()}; history from {args.history_start}")
    header = ["scale", "run", "wall s", *STAGES, "build"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for scale in args.scales:
        runs = bench_scale(
            scale, date.fromisoformat(args.date), args.repeat_full, date.fromisoformat(args.history_start)
        )
        for run in runs:
            stages = " | ".join(f"{run.stages.get(name, 0):.1f}" for name in STAGES)
            print(f"| {scale:g} | {run.label} | {run.seconds:.1f} | {stages} | {run.build_line} |", flush=True)
        fulls = [run for run in runs if run.label.startswith("full")]
        full = min(fulls, key=lambda r: r.seconds)
        nightly = min(runs[len(fulls) :], key=lambda r: r.seconds)
        print(
            f"scale {scale:g}: nightly / full rebuild = {nightly.seconds / full.seconds:.1%} (whole run, best of each);"
            f" dbt build alone {nightly.stages['build'] / full.stages['build']:.1%}; aim <= 10%",
            flush=True,
        )
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
