"""Build the same demo warehouse with two kpiflow sources (say main and a branch) and compare what they publish.

Each side gets a copy of its own project (models, metrics, macros ...) and runs `kpiflow run` with its own source
first on PYTHONPATH, over one demo warehouse generated once; then the column types and every row of every published
table both sides have (kpi_values, the wide marts, kpi_achievement, scorecard_results ...) are compared, doubles within
a relative 1e-12. Optional nights (`--nights 2`) add one demo day each and run again, so the incremental path is
compared too.
Prints the dbt build stage of each run, old and new, and exits 1 on any difference. Each run's dbt run results are
kept in `<side>/node_times/<run>-<day>.json` (with `--keep`, for `node_times.py`: 0 is the full build, 1.. the nights),
with the run's wall and dbt stage seconds beside it (`<run>-<day>.stage.json`, for `build_floor.py`).
Usage: .venv/bin/python bench/compare_builds.py --old-repo /work/main [--scale 0.05] [--start 2025-01-01]
       [--end 2025-04-30] [--nights 1] [--repeat 3] [--keep DIR]
`--repeat N` then times N full rebuilds per side, old and new in turn (dbt stage and generated models' thread-s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
from bench_nightly import copy_project, machine
from node_times import keep as keep_node_times

REPO = Path(__file__).resolve().parents[1]
RELATIVE_TOLERANCE = 1e-12
BOOKKEEPING_PREFIX = "_kpiflow"  # the publish log: run ids and times differ by design
BOOKKEEPING_SCHEMA = "kpiflow_state"  # the run record (run ids, times, fingerprints); its checksums are of the tables


@dataclass(frozen=True)
class Side:
    label: str
    repo: Path  # the project (models, metrics, ...) and its src/

    def env(self, folder: Path, scale: float) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(folder / "src"),  # a copy: the source may change while the runs go on
            "KPIFLOW_PROJECT_DIR": str(folder / "project"),
            "KPIFLOW_WAREHOUSE": str(folder / "warehouse" / "kpiflow.duckdb"),
            "KPIFLOW_MARTS": str(folder / "warehouse" / "marts.duckdb"),
            "KPIFLOW_DEMO_SCALE": str(scale),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
        }


def kpiflow(side: Side, folder: Path, scale: float, *args: str) -> dict:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = subprocess.run(command, env=side.env(folder, scale), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"{side.label}: kpiflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout) if "--json" in args else {}


def run(side: Side, folder: Path, scale: float, day: date, *extra: str) -> tuple[float, float]:
    """(wall seconds, dbt build stage seconds) of one `kpiflow run`."""
    started = time.perf_counter()
    result = kpiflow(side, folder, scale, "run", "--json", "--quiet", "--date", str(day), *extra)
    stages = {stage["name"]: stage["seconds"] for stage in result["stages"]}
    return time.perf_counter() - started, stages.get("build", math.nan)


def published_tables(marts: Path) -> dict[str, list[tuple[str, str]]]:
    """Each published table's (column, type) pairs: a type change (DECIMAL money turned DOUBLE) is a difference
    even where the values compare equal."""
    with duckdb.connect(str(marts), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
        ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for schema, name, column, data_type in rows:
        if name.startswith(BOOKKEEPING_PREFIX) or schema == BOOKKEEPING_SCHEMA:
            continue
        tables.setdefault(f'"{schema}"."{name}"', []).append((column, data_type))
    return tables


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= RELATIVE_TOLERANCE * max(abs(a), abs(b))
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    return a == b


def _sort_key(row: tuple) -> tuple:
    """Rows in a stable order; doubles rounded so that last-bit differences do not reorder them."""
    return tuple((x is None, round(x, 6) if isinstance(x, float) else str(x)) for x in row)


def compare_table(old: Path, new: Path, table: str, columns: list[str]) -> list[str]:
    """Differences between the two files' rows of `table` (empty when every row matches)."""
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = {}
    for label, path in (("old", old), ("new", new)):
        with duckdb.connect(str(path), read_only=True) as con:
            catalog = con.execute("select current_database()").fetchone()[0]
            rows[label] = sorted(con.execute(f'select {listed} from "{catalog}".{table}').fetchall(), key=_sort_key)
    problems = []
    if len(rows["old"]) != len(rows["new"]):
        problems.append(f"{table}: {len(rows['old'])} rows before, {len(rows['new'])} after")
    for a, b in zip(rows["old"], rows["new"], strict=False):
        if len(a) != len(b) or not all(_same(x, y) for x, y in zip(a, b, strict=True)):
            problems.append(f"{table}: {dict(zip(columns, a, strict=True))} != {dict(zip(columns, b, strict=True))}")
            if len(problems) > 10:
                break
    return problems


def compare(old_marts: Path, new_marts: Path) -> tuple[list[str], list[str]]:
    """(tables compared, differences) over the tables both files publish with the same columns."""
    old_tables, new_tables = published_tables(old_marts), published_tables(new_marts)
    problems = [f"{name}: published by one side only" for name in sorted(set(old_tables) ^ set(new_tables))]
    compared = []
    for name in sorted(set(old_tables) & set(new_tables)):
        if old_tables[name] != new_tables[name]:
            problems.append(f"{name}: columns {old_tables[name]} before, {new_tables[name]} after")
            continue
        problems += compare_table(old_marts, new_marts, name, [column for column, _ in old_tables[name]])
        compared.append(name)
    return compared, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-repo", type=Path, required=True, help="checkout of the old commit (e.g. /work/main)")
    parser.add_argument("--new-repo", type=Path, default=REPO)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", default="2025-01-01")
    parser.add_argument("--end", default="2025-04-30")
    parser.add_argument("--nights", type=int, default=0, help="incremental runs after the full build, one day each")
    parser.add_argument(
        "--repeat", type=int, default=0, help="then time this many full rebuilds per side, old and new in turn"
    )
    parser.add_argument("--keep", type=Path, default=None, help="build here and keep the warehouses")
    parser.add_argument(
        "--reuse-old", action="store_true", help="with --keep: reuse the old side's full build found there"
    )
    args = parser.parse_args()
    sides = (Side("old", args.old_repo.resolve()), Side("new", args.new_repo.resolve()))
    end = date.fromisoformat(args.end)
    print(f"machine: {machine()}; scale {args.scale:g}, seed {args.seed}, {args.start} .. {end}")
    with tempfile.TemporaryDirectory(prefix="kpiflow-compare-") as tmp:
        root = args.keep or Path(tmp)
        demo = root / "demo.duckdb"
        (root / "old").mkdir(parents=True, exist_ok=True)
        if not (root / "old" / "src").exists():
            shutil.copytree(sides[0].repo / "src", root / "old" / "src", ignore=shutil.ignore_patterns("__pycache__"))
        if not demo.exists():
            demo_args = ("--scale", str(args.scale), "--seed", str(args.seed), "--start", args.start, "--end", str(end))
            kpiflow(sides[0], root / "old", args.scale, "demo-data", *demo_args, "--out", str(demo), "--quiet")
        folders = {}
        reused = args.reuse_old and args.nights == 0 and (root / "old" / "warehouse" / "marts.duckdb").exists()
        for side in sides:
            folder = folders[side.label] = root / side.label
            if reused and side.label == "old":
                continue
            if folder.exists():
                shutil.rmtree(folder)
            copy_project(folder / "project", side.repo)
            shutil.copytree(side.repo / "src", folder / "src", ignore=shutil.ignore_patterns("__pycache__"))
            (folder / "warehouse").mkdir(parents=True)
            (folder / "warehouse" / "kpiflow.duckdb").write_bytes(demo.read_bytes())
        failed = False
        days = [end + timedelta(days=n) for n in range(args.nights + 1)]
        for index, day in enumerate(days):
            timings = {}
            for side in sides:
                if reused and side.label == "old":
                    timings["old"] = json.loads((root / "old" / "timings.json").read_text())
                    continue
                extra = ("--ensure-demo-data",) if index else ()
                timings[side.label] = run(side, folders[side.label], args.scale, day, *extra)
                (folders[side.label] / "timings.json").write_text(json.dumps(timings[side.label]))
                folder = folders[side.label]
                kept = keep_node_times(folder / "warehouse" / "state", folder / "node_times" / f"{index}-{day}.json")
                wall, dbt_stage = timings[side.label]
                kept.with_suffix(".stage.json").write_text(json.dumps({"wall": wall, "dbt_stage": dbt_stage}))
            (old_wall, old_dbt), (new_wall, new_dbt) = timings["old"], timings["new"]
            kind = "full build" if index == 0 else "nightly"
            compared, problems = compare(
                folders["old"] / "warehouse" / "marts.duckdb", folders["new"] / "warehouse" / "marts.duckdb"
            )
            tables = ", ".join(compared)
            print(
                f"{day} {kind}: dbt stage old {old_dbt:.1f} s, new {new_dbt:.1f} s (new/old {new_dbt / old_dbt:.0%}); "
                f"run wall old {old_wall:.1f} s, new {new_wall:.1f} s; {len(compared)} tables compared ({tables}), "
                f"{len(problems)} differences",
                flush=True,
            )
            for problem in problems[:20]:
                print("  " + problem)
            failed = failed or bool(problems)
        if args.repeat:
            time_rebuilds(sides, folders, args.scale, days[-1], args.repeat)
    raise SystemExit(1 if failed else 0)


def generated_model_seconds(folder: Path) -> tuple[int, float]:
    """(models, summed execution seconds) of the generated models in the side's last dbt build: thread-seconds,
    less sensitive than wall time to how many threads other work leaves free."""
    generated = {path.stem for path in (folder / "project" / "models" / "generated").glob("*.sql")}
    results = json.loads((folder / "warehouse" / "state" / "dbt" / "target" / "run_results.json").read_text())
    seconds = [r["execution_time"] for r in results["results"] if r["unique_id"].split(".")[-1] in generated]
    return len(seconds), sum(seconds)


def time_rebuilds(sides: tuple[Side, Side], folders: dict[str, Path], scale: float, day: date, repeat: int) -> None:
    """Full rebuilds (`--full-refresh`), old and new in turn, so both see the same machine; medians printed."""
    measured: dict[str, list[tuple[float, float]]] = {side.label: [] for side in sides}
    for attempt in range(repeat):
        for side in sides:
            _, dbt_stage = run(side, folders[side.label], scale, day, "--full-refresh")
            models, seconds = generated_model_seconds(folders[side.label])
            measured[side.label].append((dbt_stage, seconds))
            print(
                f"rebuild {attempt + 1} {side.label}: dbt stage {dbt_stage:.1f} s, {models} generated models "
                f"{seconds:.1f} thread-s, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    old, new = (sorted(measured[label]) for label in ("old", "new"))
    middle = repeat // 2
    print(
        f"median dbt stage: old {old[middle][0]:.1f} s, new {new[middle][0]:.1f} s "
        f"(new/old {new[middle][0] / old[middle][0]:.0%}); generated models: old "
        f"{sorted(s for _, s in measured['old'])[middle]:.1f}, new {sorted(s for _, s in measured['new'])[middle]:.1f} "
        "thread-s"
    )


if __name__ == "__main__":
    main()
