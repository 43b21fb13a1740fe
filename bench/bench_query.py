"""Query speed: kpiflow's SQL generation against MetricFlow's, and its generated SQL against hand-written SQL.

(a) SQL generation for one request (net_revenue, average_order_value and revenue_yoy_growth by month and region):
    kpiflow in-process (graph loaded once, and cold: load + plan + render) against MetricFlow's engine `explain`
    in-process (a child process, so dbt's global state stays out of this one), and both command lines
    (`kpiflow query --explain` against `mf query --explain`), best of N each, printed as MetricFlow / kpiflow.
(b) Running the generated SQL against hand-written SQL for the same numbers on a demo warehouse at scale 1
    (two years, built by dbt in a throwaway project copy), best of N each, printed as generated / hand-written
    (aim: 1.1 or less). Each hand-written query is checked to return the generated query's rows first.

(c) With --cli-only: just `kpiflow query --metrics net_revenue --group-by metric_time__month --explain` on this
    repository's project (no warehouse, no MetricFlow), whole process, best of N wall and CPU time, beside two
    floors timed in the same rounds (`python -c pass`, and importing typer, pydantic, PyYAML and sqlglot's DuckDB
    dialect); with --against OTHER_SRC the same command on another checkout's src/ (e.g. the old commit in a
    `git worktree`), alternating in the same run, and the ratio new / old.

Usage: .venv/bin/python bench/bench_query.py [--scale 1] [--repeat 7] [--keep DIR]
       .venv/bin/python bench/bench_query.py --cli-only [--against /tmp/old/src] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
METRICS = ("net_revenue", "average_order_value", "revenue_yoy_growth")
GROUP_BY = ("metric_time__month", "store__region")

# Hand-written SQL for the numbers the generated queries return (same rows, same values), written as an analyst
# would: aggregate each measure once, join on the group-by, shift last year's months for the growth.
HAND_WRITTEN = {
    "net_revenue, average_order_value, revenue_yoy_growth by month and region": (
        METRICS,
        GROUP_BY,
        """
        with revenue as (
            select date_trunc('month', e.event_date)::date as metric_time__month, s.region as store__region,
                   sum(e.net_amount) as net_revenue
            from intermediate.int_revenue_events as e
            left join intermediate.dim_stores as s on s.store_id = e.store_id
            where e.event_date is not null
            group by all
        ),
        orders as (
            select date_trunc('month', o.order_date)::date as metric_time__month, s.region as store__region,
                   count(o.order_id) as order_count
            from intermediate.int_orders as o
            left join intermediate.dim_stores as s on s.store_id = o.store_id
            where o.order_date is not null
            group by all
        )
        select r.metric_time__month, r.store__region, r.net_revenue,
               r.net_revenue::double / nullif(o.order_count, 0) as average_order_value,
               (r.net_revenue - p.net_revenue)::double / nullif(p.net_revenue, 0) as revenue_yoy_growth
        from revenue as r
        left join orders as o
            on o.metric_time__month = r.metric_time__month and o.store__region is not distinct from r.store__region
        left join revenue as p
            on p.metric_time__month = r.metric_time__month - interval 1 year
            and p.store__region is not distinct from r.store__region
        """,
    ),
    "inventory_value (last day of the month) by month and region": (
        ("inventory_value",),
        GROUP_BY,
        """
        with daily as (
            select i.snapshot_date, s.region as store__region, sum(i.inventory_value) as inventory_value
            from intermediate.int_inventory_daily as i
            left join intermediate.dim_stores as s on s.store_id = i.store_id
            where i.snapshot_date is not null
            group by all
        )
        select date_trunc('month', snapshot_date)::date as metric_time__month, store__region, inventory_value
        from daily
        qualify snapshot_date = max(snapshot_date) over (partition by date_trunc('month', snapshot_date))
        """,
    ),
    "revenue_ytd (read at the month's last day) by month and region": (
        ("revenue_ytd",),
        GROUP_BY,
        """
        with daily as (
            select e.event_date as day, s.region as store__region, sum(e.net_amount) as net_revenue
            from intermediate.int_revenue_events as e
            left join intermediate.dim_stores as s on s.store_id = e.store_id
            where e.event_date is not null
            group by all
        ),
        running as (
            select day, store__region,
                   sum(net_revenue) over (partition by store__region, date_trunc('year', day) order by day)
                       as revenue_ytd
            from daily
        ),
        days as (
            select date_day as day from intermediate.metricflow_time_spine
            where date_day between (select min(day) from daily) and (select max(day) from daily)
        ),
        month_ends as (
            select max(day) as day from days group by date_trunc('month', day)
        )
        select date_trunc('month', m.day)::date as metric_time__month, r.store__region, r.revenue_ytd
        from month_ends as m
        join running as r on r.day <= m.day and date_trunc('year', r.day) = date_trunc('year', m.day)
        qualify r.day = max(r.day) over (partition by m.day, r.store__region)
        """,
    ),
}

MF_CHILD = """
import json, sys, time
from pathlib import Path
from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
project, repeat = Path(sys.argv[1]), int(sys.argv[2])
metrics, group_by = sys.argv[3].split(","), sys.argv[4].split(",")
started = time.perf_counter()
config = CLIConfiguration()
config.setup(dbt_profiles_path=project / "profiles", dbt_project_path=project, configure_file_logging=False)
engine = config.mf
setup = time.perf_counter() - started
times = []
for _ in range(repeat):
    started = time.perf_counter()
    sql = engine.explain(MetricFlowQueryRequest.create(metric_names=metrics, group_by_names=group_by)).sql_statement.sql
    times.append(time.perf_counter() - started)
print(json.dumps({"setup": setup, "first": times[0], "best": min(times), "sql_chars": len(sql)}))
"""


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
        f"nproc {os.cpu_count()}, {memory_gb:.0f} GiB RAM, CPU {cpu}, Python {platform.python_version()}, "
        f"load average {load:.1f}"
    )


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def environment(project: Path, warehouse: Path) -> dict[str, str]:
    return dict(
        os.environ,
        KPIFLOW_PROJECT_DIR=str(project),
        KPIFLOW_WAREHOUSE=str(warehouse),
        DBT_PROFILES_DIR=str(project / "profiles"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DBT_VERSION_CHECK="False",
    )


def dbt(project: Path, warehouse: Path, *args: str) -> None:
    command = [str(BIN / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project / "profiles")]
    done = subprocess.run(
        command, env=environment(project, warehouse), cwd=project, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")


def build_warehouse(root: Path, scale: float) -> tuple[Path, Path]:
    """A project copy with the semantic layer exported, and a demo warehouse at `scale` built by dbt."""
    from kpiflow.compiler import compile_project
    from kpiflow.compiler.export_dbt_sl import export_semantic_layer
    from kpiflow.compiler.validate import load_graph
    from kpiflow.config import Settings
    from kpiflow.demo import generate_demo_warehouse

    project = root / "project"
    project.mkdir(parents=True)
    for name in ("dbt_project.yml", "vocabularies.yml", "models", "macros", "metrics", "profiles", "seeds"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("target", "*.duckdb"))
        elif source.exists():
            shutil.copy(source, project / name)
    warehouse = root / "warehouse.duckdb"
    started = time.perf_counter()
    generate_demo_warehouse(warehouse, scale=scale)
    generated = time.perf_counter() - started
    settings = Settings(project_dir=project, warehouse_path=warehouse, marts_path=root / "marts.duckdb", target="dev")
    compile_project(settings)
    export_semantic_layer(load_graph(project), project / "models" / "semantic")
    started = time.perf_counter()
    dbt(project, warehouse, "seed")
    dbt(project, warehouse, "run")  # also writes target/semantic_manifest.json for MetricFlow
    built = time.perf_counter() - started
    print(f"warehouse: scale {scale}, generated in {generated:.1f} s, dbt seed + run {built:.1f} s")
    return project, warehouse


def bench_generation(project: Path, warehouse: Path, repeat: int) -> None:
    from kpiflow.compiler.dbt_models import load_dbt_models
    from kpiflow.compiler.plan import QueryRequest
    from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
    from kpiflow.compiler.validate import load_graph

    request = QueryRequest(METRICS, GROUP_BY)
    graph = load_graph(project)
    relation = warehouse_relation(load_dbt_models(project))
    warm = best_of(repeat, lambda: to_sql(build_query(graph, request, relation)))
    cold = best_of(
        repeat,
        lambda: to_sql(build_query(load_graph(project), request, warehouse_relation(load_dbt_models(project)))),
    )
    child = subprocess.run(
        [sys.executable, "-c", MF_CHILD, str(project), str(repeat), ",".join(METRICS), ",".join(GROUP_BY)],
        env=environment(project, warehouse),
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    mf = json.loads(child.stdout.strip().splitlines()[-1])
    cli_args = ["--metrics", ",".join(METRICS), "--group-by", ",".join(GROUP_BY), "--explain"]
    env = environment(project, warehouse)
    kpiflow_cli = best_of(
        3,
        lambda: subprocess.run(
            [str(BIN / "kpiflow"), "query", *cli_args], env=env, cwd=project, check=True, capture_output=True
        ),
    )
    mf_cli = best_of(
        3,
        lambda: subprocess.run(
            [str(BIN / "mf"), "query", *cli_args], env=env, cwd=project, check=True, capture_output=True
        ),
    )
    print(f"\n(a) SQL generation: {', '.join(METRICS)} by {', '.join(GROUP_BY)} (best of {repeat}; CLI best of 3)")
    print(f"  kpiflow in-process, graph loaded:           {warm * 1000:8.1f} ms")
    print(f"  kpiflow in-process, load+validate+plan+SQL: {cold * 1000:8.1f} ms")
    first = mf["first"] * 1000
    print(f"  MetricFlow engine.explain, warm:            {mf['best'] * 1000:8.1f} ms  (first call {first:.1f} ms)")
    print(f"  MetricFlow engine set-up (dbt debug, manifest, engine): {mf['setup']:.2f} s")
    print(f"  ratio MetricFlow / kpiflow, warm in-process: {mf['best'] / warm:6.1f}x")
    print(f"  ratio MetricFlow / kpiflow, cold:            {(mf['setup'] + mf['first']) / cold:6.1f}x")
    print(
        f"  `kpiflow query --explain`: {kpiflow_cli:.2f} s   `mf query --explain`: {mf_cli:.2f} s   "
        f"ratio {mf_cli / kpiflow_cli:.1f}x"
    )


def _rows(con, sql: str) -> list[tuple]:
    def norm(value: object) -> object:
        return float(value) if isinstance(value, Decimal | int) and not isinstance(value, bool) else value

    return sorted((tuple(norm(v) for v in row) for row in con.execute(sql).fetchall()), key=repr)


def _same(left: list[tuple], right: list[tuple]) -> bool:
    def equal(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(equal(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


def bench_execution(project: Path, warehouse: Path, repeat: int) -> None:
    import duckdb

    from kpiflow.compiler.dbt_models import load_dbt_models
    from kpiflow.compiler.plan import QueryRequest
    from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
    from kpiflow.compiler.validate import load_graph

    graph = load_graph(project)
    relation = warehouse_relation(load_dbt_models(project))
    print(f"\n(b) generated SQL vs hand-written SQL on the scale warehouse (best of {repeat}, alternating)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for label, (metrics, group_by, hand) in HAND_WRITTEN.items():
            generated = to_sql(build_query(graph, QueryRequest(metrics, group_by), relation))
            ours, theirs = _rows(con, generated), _rows(con, hand)
            if not _same(ours, theirs):
                raise SystemExit(
                    f"{label}: hand-written SQL disagrees with the generated SQL ({len(ours)} vs "
                    f"{len(theirs)} rows; first: {ours[:2]} vs {theirs[:2]})"
                )
            times: dict[str, list[float]] = {"generated": [], "hand": []}
            for _ in range(repeat):
                for name, sql in (("generated", generated), ("hand", hand)):
                    started = time.perf_counter()
                    con.execute(sql).fetchall()
                    times[name].append(time.perf_counter() - started)
            best_generated, best_hand = min(times["generated"]), min(times["hand"])
            print(
                f"  {label} ({len(ours)} rows): generated {best_generated * 1000:.1f} ms, "
                f"hand-written {best_hand * 1000:.1f} ms, ratio {best_generated / best_hand:.2f}"
            )


QUERY_EXPLAIN = ("query", "--metrics", "net_revenue", "--group-by", "metric_time__month", "--explain")
# What any `kpiflow query --explain` must load before kpiflow's own code runs: the interpreter; typer, which (0.29)
# builds a pydantic TypeAdapter per option (pydantic's schema machinery and its plugin discovery); pydantic's
# fields (the metric specs); PyYAML with libyaml; sqlglot with its DuckDB dialect.
FLOORS = {
    "floor: python": "pass",
    "floor: typer+pydantic+yaml+sqlglot": (
        "import typer, pydantic, yaml, sqlglot; pydantic.TypeAdapter(int); pydantic.Field; yaml.CSafeLoader; "
        "sqlglot.transpile('select 1', write='duckdb')"
    ),
}


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process (CPU: user + system, steadier than wall on a shared machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_cli(repeat: int, against: Path | None) -> None:
    """Each command once untimed (so every checkout's bytecode cache is written, as an installed or already-run
    kpiflow has it), then `repeat` rounds, alternating, so all see the same machine load."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["DO_NOT_TRACK"] = "1"
    sources = {"this checkout": REPO / "src", **({"against": against} if against else {})}
    commands = {
        name: ([str(BIN / "kpiflow"), *QUERY_EXPLAIN], dict(env, PYTHONPATH=str(source)))
        for name, source in sources.items()
    }
    commands.update({name: ([sys.executable, "-c", code], env) for name, code in FLOORS.items()})
    for command, command_env in commands.values():
        _timed(command, command_env)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (command, command_env) in commands.items():
            runs[name].append(_timed(command, command_env))
    print(f"\n(c) `kpiflow {' '.join(QUERY_EXPLAIN)}`, whole process, {repeat} runs each: best and median")
    best = {name: (min(w for w, _ in done), min(c for _, c in done)) for name, done in runs.items()}
    median = {
        name: (statistics.median(w for w, _ in done), statistics.median(c for _, c in done))
        for name, done in runs.items()
    }
    for name in commands:
        where = f" ({sources[name]})" if name in sources else ""
        print(
            f"  {name}{where}: wall {best[name][0]:.3f} s (median {median[name][0]:.3f}),"
            f" CPU {best[name][1]:.3f} s (median {median[name][1]:.3f})"
        )
    floor = "floor: typer+pydantic+yaml+sqlglot"
    for label, figures in (("best", best), ("median", median)):
        new_wall, new_cpu = figures["this checkout"]
        above = f"CPU above the floor {new_cpu - figures[floor][1]:.3f} s"
        if against:
            old_wall, old_cpu = figures["against"]
            print(
                f"  {label}: ratio this / against: wall {new_wall / old_wall:.2f}, CPU {new_cpu / old_cpu:.2f}; {above}"
            )
        else:
            print(f"  {label}: {above}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Build into (or reuse) this folder instead of a temporary one.")
    parser.add_argument("--cli-only", action="store_true", help="Only time `kpiflow query --explain` (part c).")
    parser.add_argument("--against", type=Path, help="With --cli-only: another checkout's src/ to compare with.")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.cli_only:
        bench_cli(args.repeat, args.against)
        print(f"\nmachine after: {machine()}")
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="kpiflow-bench-query-"))
    try:
        if args.keep and (root / "warehouse.duckdb").exists():
            project, warehouse = root / "project", root / "warehouse.duckdb"
        else:
            project, warehouse = build_warehouse(root, args.scale)
        bench_generation(project, warehouse, args.repeat)
        bench_execution(project, warehouse, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nmachine after: {machine()}")


if __name__ == "__main__":
    main()
