"""Benchmark the nightly run on PostgreSQL beside DuckDB: a full `kpiflow run` and the following nightly (one new day
landed), per demo scale, the same demo data on both engines.

Each engine gets the demo (`kpiflow demo-data`, same seed and range), a full run for the last day, then
`demo-data --append-through` lands the next day and the nightly runs for it. Prints wall time and every stage's time
(`kpiflow run --json`) per engine and run, then the PostgreSQL/DuckDB ratio of each. The PostgreSQL server is the one
of KPIFLOW_PG_* when KPIFLOW_PG_USER is set (its database's raw, marts and payroll are replaced), else a throwaway
server started with tests/pg_server.py and removed afterwards.
With --per-model DIR, each run's dbt run results are kept in DIR (bench/node_times.py) and, per engine, the node
seconds of the full run and the nightly are printed side by side (by kind, then the slowest nodes).
Usage: .venv/bin/python bench/bench_postgres.py [--scales 1] [--start 2025-01-01] [--date 2025-03-30]
       [--engines postgres duckdb] [--per-model DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import node_times
from bench_nightly import REPO, STAGES, copy_project, machine

ENGINES = ("postgres", "duckdb")  # PostgreSQL first: a stopped benchmark has measured it
RUNS = ("full", "nightly")
BENCH_ROLE, BENCH_DATABASE = "kpiflow_bench", "kpiflow_bench"


@contextlib.contextmanager
def postgres_env() -> Iterator[dict[str, str]]:
    """KPIFLOW_PG_* of the given server, or of a throwaway one with a build role owning a fresh database."""
    if os.environ.get("KPIFLOW_PG_USER"):
        yield {name: value for name, value in os.environ.items() if name.startswith("KPIFLOW_PG_")}
        return
    sys.path.insert(0, str(REPO / "tests"))
    import psycopg
    from pg_server import running_server
    from psycopg import sql

    with running_server() as server:
        dbname = server.create_database(BENCH_DATABASE)
        password = server.password  # a random one of this server's life
        with psycopg.connect(server.conninfo(dbname), autocommit=True) as admin:
            role = sql.Identifier(BENCH_ROLE)
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(role, sql.Literal(password)))
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), role))
        yield {**server.env(dbname), "KPIFLOW_PG_USER": BENCH_ROLE, "KPIFLOW_PG_PASSWORD": password}


def kpiflow(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run the CLI; its wall seconds and stdout. A failure stops the benchmark with the command's output."""
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kpiflow {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")  # fmt: skip
    return time.perf_counter() - started, done.stdout


def bench_engine(env: dict[str, str], scale: float, args: argparse.Namespace, engine: str) -> dict[str, dict]:
    """Demo, full run, next day landed, nightly: seconds of each, and the stages of both runs (each row printed as
    soon as it is measured, so a long benchmark that is stopped keeps what it measured)."""
    start, run_date, seed = args.start, args.date, args.seed
    demo_seconds, _ = kpiflow(env, "demo-data", "--scale", str(scale), "--start", str(start), "--end", str(run_date),
                              "--seed", str(seed), "--quiet")  # fmt: skip
    print(f"demo-data at scale {scale:g} on {engine}: {demo_seconds:.1f} s", flush=True)
    results = {}
    for label, day in zip(RUNS, (run_date, run_date + timedelta(days=1)), strict=True):
        if label == "nightly":
            kpiflow(env, "demo-data", "--append-through", str(day), "--quiet")
        seconds, stdout = kpiflow(env, "run", "--date", str(day), "--json", "--quiet")
        stages = {stage["name"]: stage["seconds"] for stage in json.loads(stdout)["stages"]}
        results[label] = {"wall": seconds, **stages}
        print(_row(scale, label, engine, results[label]), flush=True)
        if args.per_model:
            state_dir = Path(env["KPIFLOW_WAREHOUSE"]).parent / "state"
            node_times.keep(state_dir, _node_file(args.per_model, scale, engine, label))
    return results


def _node_file(folder: Path, scale: float, engine: str, label: str) -> Path:
    return folder / f"scale{scale:g}-{engine}-{label}.json"


def print_node_times(args: argparse.Namespace, scale: float) -> None:
    for engine in args.engines:
        full, nightly = (_node_file(args.per_model, scale, engine, label) for label in RUNS)
        print("\n" + node_times.report(f"scale {scale:g}, {engine}", full, nightly, args.top) + "\n", flush=True)


def bench_scale(folder: Path, pg: dict[str, str], args: argparse.Namespace, scale: float) -> dict:
    base = {**os.environ, "KPIFLOW_DEMO_SCALE": str(scale)}
    results = {}
    for engine in args.engines:
        side = folder / engine
        env = {
            **base,
            "KPIFLOW_PROJECT_DIR": str(copy_project(side / "project")),
            "KPIFLOW_WAREHOUSE": str(side / "warehouse" / "kpiflow.duckdb"),  # on postgres: its folder holds run state
            "KPIFLOW_MARTS": str(side / "warehouse" / "marts.duckdb"),
            "KPIFLOW_TARGET": "dev",
        }
        if engine == "postgres":
            env |= {**pg, "KPIFLOW_TARGET": "pg"}
        results[engine] = bench_engine(env, scale, args, engine)
    return results


COLUMNS = ("wall", *STAGES)


def _row(scale: float, label: str, engine: str, seconds: dict[str, float]) -> str:
    return f"| {scale:g} | {label} | {engine} | " + " | ".join(f"{seconds.get(name, 0):.1f}" for name in COLUMNS) + " |"


def print_ratios(scale: float, results: dict) -> None:
    if set(ENGINES) - set(results):
        return
    for label in RUNS:
        pg, duck = results["postgres"][label], results["duckdb"][label]
        ratios = " | ".join(_ratio(pg.get(name, 0), duck.get(name, 0)) for name in COLUMNS)
        print(f"| {scale:g} | {label} | pg/DuckDB | {ratios} |", flush=True)


def _ratio(pg_seconds: float, duckdb_seconds: float) -> str:
    return f"{pg_seconds / duckdb_seconds:.2f}" if duckdb_seconds >= 0.05 else "-"


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the throwaway server
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1), help="first day of the demo")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2025, 3, 30), help="the full run's day")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--per-model", type=Path, help="keep dbt's run results here and print node times")
    parser.add_argument("--top", type=int, default=25, help="slowest nodes listed with --per-model")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"demo {args.start}..{args.date}, full run --date {args.date}, nightly --date {args.date + timedelta(1)}")
    print("| scale | run | engine | wall s | " + " | ".join(STAGES) + " |\n|---|---|---|---|" + "---|" * len(STAGES))
    with postgres_env() as pg:
        for scale in args.scales:
            with tempfile.TemporaryDirectory(prefix="kpiflow-bench-postgres-") as tmp:
                print_ratios(scale, bench_scale(Path(tmp), pg, args, scale))
                if args.per_model:
                    print_node_times(args, scale)
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
