"""Benchmark the nightly run end to end: `kpiflow run --ensure-demo-data`, fresh and then again, per demo scale.

Each scale gets a throwaway copy of the project and a new warehouse folder; the run is a real `kpiflow`
process (Prefect's temporary API included), exactly what `make run` does after `make setup`. Prints wall
time of the first run (demo data + Prefect database created) and the second (nothing to create), the
time of every stage from `--json`, peak RSS and the published file's size.
Usage: .venv/bin/python bench/bench_nightly.py [--scales 0.25 1] [--date 2025-12-31]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from process_cpu import children_cpu

from kpiflow.orchestration.build_project import copy_project as copy_project_from

REPO = Path(__file__).resolve().parents[1]
STAGES = (
    "land_or_verify_inputs", "check_inputs", "compile_metrics", "build", "build_scorecards", "audit", "publish",
    "dashboard", "report",
)  # fmt: skip


def copy_project(target: Path, repo: Path = REPO) -> Path:
    """Compile and seeds write into the project: give each run its own copy of it (of `repo`, by default this one)."""
    target.mkdir(parents=True)
    return copy_project_from(repo, target)


@dataclass(frozen=True)
class RunMeasure:
    seconds: float
    cpu_seconds: float
    stage_seconds: dict[str, float]
    published_rows: int
    published_mb: float


def run_once(folder: Path, scale: float, run_date: str | None) -> RunMeasure:
    env = {
        **os.environ,
        "KPIFLOW_PROJECT_DIR": str(folder / "project"),
        "KPIFLOW_WAREHOUSE": str(folder / "warehouse" / "kpiflow.duckdb"),
        "KPIFLOW_MARTS": str(folder / "warehouse" / "marts.duckdb"),
        "KPIFLOW_DEMO_SCALE": str(scale),
    }
    command = [str(Path(sys.executable).parent / "kpiflow"), "run", "--ensure-demo-data", "--json", "--quiet"]
    if run_date:
        command += ["--date", run_date]
    started, cpu_before = time.perf_counter(), children_cpu()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds, cpu_seconds = time.perf_counter() - started, children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"kpiflow run failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    published = result["published"]
    return RunMeasure(
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        stage_seconds={stage["name"]: stage["seconds"] for stage in result["stages"]},
        published_rows=sum(table["rows"] for table in published["tables"].values()),
        published_mb=Path(published["marts_path"]).stat().st_size / 2**20,
    )


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
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB RAM, Python {platform.python_version()}, load {load:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--date", default=None, help="run date (default: yesterday, as `make run`)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        "| scale | run | wall s | CPU s | " + " | ".join(STAGES) + " | published MB | published rows |\n"
        "|---|---|---|---|" + "---|" * len(STAGES) + "---|---|"
    )
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="kpiflow-bench-nightly-") as tmp:
            folder = Path(tmp)
            copy_project(folder / "project")
            for label in ("first", "second"):
                run = run_once(folder, scale, args.date)
                stages = " | ".join(f"{run.stage_seconds.get(name, 0):.1f}" for name in STAGES)
                print(
                    f"| {scale:g} | {label} | {run.seconds:.1f} | {run.cpu_seconds:.1f} | {stages} | "
                    f"{run.published_mb:.1f} | {run.published_rows:,} |",
                    flush=True,
                )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the largest process: {peak_mb:,.0f} MB; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
