"""What a Prefect flow costs before it does any work: the floor under every `kpiflow run`.

Runs a flow of 8 empty tasks (kpiflow's flow has 8 stages) on Prefect's local temporary API, the way `kpiflow
run` does, each time in a fresh Python process: once with a new PREFECT_HOME (the database is created), then
`--repeat` times with that database in place (every night after the first). Prints each time and its ratio to
`--budget` seconds, for example 10% of a full rebuild from bench_incremental.py.
Usage: .venv/bin/python bench/bench_prefect_floor.py [--repeat 3] [--budget 6.6]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from bench_nightly import machine

EMPTY_FLOW = """
from prefect import flow, task

@task
def stage() -> int:
    return 1

@flow
def empty() -> int:
    return sum(stage() for _ in range(8))

empty()
"""


def timed_empty_flow(prefect_home: str) -> float:
    env = {
        **os.environ,
        "PREFECT_HOME": prefect_home,
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", EMPTY_FLOW], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=6.6, help="seconds to compare with (10%% of a full run)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="kpiflow-bench-prefect-") as home:
        runs = [("first (database created)", timed_empty_flow(home))]
        runs += [(f"again #{n}", timed_empty_flow(home)) for n in range(1, args.repeat + 1)]
    print(f"| run | seconds | / budget {args.budget:g} s |\n|---|---|---|")
    for label, seconds in runs:
        print(f"| {label} | {seconds:.1f} | {seconds / args.budget:.2f} |")


if __name__ == "__main__":
    main()
