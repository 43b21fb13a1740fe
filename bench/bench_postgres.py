"""Benchmark the nightly run on PostgreSQL or Spark beside DuckDB: a full `kpiflow run` and the following nightly (one
new day landed), per demo scale, the same demo data on every engine.

Each engine gets the demo (`kpiflow demo-data`, same seed and range), a full run for the last day, then
`demo-data --append-through` lands the next day and the nightly runs for it. Prints wall time, CPU seconds (the run's
processes and all they start, the JVM included; `process_cpu.py`) and every stage's time (`kpiflow run --json`) and
CPU per engine and run, then the other engine/DuckDB ratio of each, and the rows of the largest raw tables. The
PostgreSQL server is the one of KPIFLOW_PG_* when KPIFLOW_PG_USER is set (its database's raw, marts and payroll are
replaced), else a throwaway server started with tests/pg_server.py and removed afterwards. Spark runs local
(`KPIFLOW_TARGET=spark`, a fresh KPIFLOW_SPARK_DIR per scale).
With --per-model DIR, each run's dbt run results are kept in DIR (bench/node_times.py) and, per engine, the node
seconds of the full run and the nightly are printed side by side (by kind, then the slowest nodes).
Usage: .venv/bin/python bench/bench_postgres.py [--scales 1] [--start 2025-01-01] [--date 2025-03-30]
       [--engines postgres duckdb | spark duckdb] [--per-model DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import node_times
import process_cpu
from bench_nightly import REPO, STAGES, copy_project, machine

ENGINES = ("postgres", "spark", "duckdb")  # the other engine first: a stopped benchmark has measured it
RUNS = ("full", "nightly")
BENCH_ROLE, BENCH_DATABASE = "kpiflow_bench", "kpiflow_bench"


@contextlib.contextmanager
def postgres_env(engines: list[str]) -> Iterator[dict[str, str]]:
    """KPIFLOW_PG_* of the given server, or of a throwaway one with a build role owning a fresh database."""
    if "postgres" not in engines:
        yield {}
        return
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


def kpiflow(env: dict[str, str], *args: str) -> process_cpu.Measured:
    """Run the CLI: wall and CPU seconds, stdout, and the CPU of each stage of a run (its progress lines "> stage").
    A failure stops the benchmark with the command's output."""
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = process_cpu.run(command, env, mark_prefix="> ")
    if done.returncode != 0:
        raise SystemExit(f"kpiflow {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")  # fmt: skip
    return done


def bench_engine(env: dict[str, str], scale: float, args: argparse.Namespace, engine: str) -> dict[str, dict]:
    """Demo, full run, next day landed, nightly: seconds of each, and the stages of both runs (each row printed as
    soon as it is measured, so a long benchmark that is stopped keeps what it measured)."""
    demo = kpiflow(env, "demo-data", *_demo_args(args, scale))
    print(f"demo-data at scale {scale:g} on {engine}: {demo.wall:.1f} s, {demo.cpu:.1f} CPU s", flush=True)
    results = {}
    for label, day in zip(RUNS, (args.date, args.date + timedelta(days=1)), strict=True):
        if label == "nightly":
            kpiflow(env, "demo-data", "--append-through", str(day), "--quiet")  # the next day lands in raw
        run = kpiflow(env, "run", "--date", str(day), "--json")
        stages = {stage["name"]: stage["seconds"] for stage in json.loads(run.stdout)["stages"]}
        results[label] = {"wall": run.wall, **stages}
        results[f"{label} CPU"] = {"wall": run.cpu, **run.marks}
        for row in (label, f"{label} CPU"):
            print(_row(scale, row, engine, results[row]), flush=True)
        if args.per_model:
            state_dir = Path(env["KPIFLOW_WAREHOUSE"]).parent / "state"
            node_times.keep(state_dir, _node_file(args.per_model, scale, engine, label))
    return results


def _demo_args(args: argparse.Namespace, scale: float) -> tuple[str, ...]:
    return ("--scale", str(scale), "--start", str(args.start), "--end", str(args.date), "--seed", str(args.seed),
            "--quiet")  # fmt: skip


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
        if engine == "spark":
            env |= {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(side / "warehouse" / "spark")}
        results[engine] = bench_engine(env, scale, args, engine)
        if engine == "duckdb":
            print_raw_rows(Path(env["KPIFLOW_WAREHOUSE"]))
    return results


def print_raw_rows(warehouse: Path, top: int = 6) -> None:
    """The largest raw tables (rows) and the DuckDB file's size: what the data size of a scale is."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'raw' order by 2 desc"
        ).fetchall()
    largest = ", ".join(f"{name} {count:,}" for name, count in rows[:top])
    print(f"raw rows: {sum(count for _, count in rows):,} in all; {largest}; "
          f"DuckDB file {warehouse.stat().st_size / 2**20:,.0f} MiB", flush=True)  # fmt: skip


COLUMNS = ("wall", *STAGES)


def _row(scale: float, label: str, engine: str, seconds: dict[str, float]) -> str:
    return f"| {scale:g} | {label} | {engine} | " + " | ".join(f"{seconds.get(name, 0):.1f}" for name in COLUMNS) + " |"


def print_ratios(scale: float, results: dict) -> None:
    if "duckdb" not in results:
        return
    for engine in set(results) - {"duckdb"}:
        for label in results["duckdb"]:
            other, duck = results[engine][label], results["duckdb"][label]
            ratios = " | ".join(_ratio(other.get(name, 0), duck.get(name, 0)) for name in COLUMNS)
            print(f"| {scale:g} | {label} | {engine}/DuckDB | {ratios} |", flush=True)


def _ratio(other_seconds: float, duckdb_seconds: float) -> str:
    return f"{other_seconds / duckdb_seconds:.2f}" if duckdb_seconds >= 0.05 else "-"


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
    process_cpu.adopt_orphans()
    print("| scale | run | engine | wall s | " + " | ".join(STAGES) + " |\n|---|---|---|---|" + "---|" * len(STAGES))
    with postgres_env(args.engines) as pg:
        for scale in args.scales:
            with tempfile.TemporaryDirectory(prefix="kpiflow-bench-engines-") as tmp:
                print_ratios(scale, bench_scale(Path(tmp), pg, args, scale))
                if args.per_model:
                    print_node_times(args, scale)
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
