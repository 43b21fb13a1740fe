"""How fast could a dbt build be if the generated models cost nothing? The floor that the hand-written part sets.

Issue 16 asks for a full build's dbt stage at most 50% of the old one's and a nightly at most 15% of the full build.
Both are bounded from below by work the compiler does not write: dbt's own start (the stage's seconds less dbt's
elapsed time for the nodes), the hand-written models (staging, intermediate, dimensions), the seeds and the tests
attached to them. This reads a `bench/compare_builds.py --keep DIR` folder: each side's dbt run results
(`<side>/node_times/<run>-<day>.json`), its manifest (which file each node comes from) and its dbt stage seconds
(`<run>-<day>.stage.json`, written by compare_builds), and prints per side and run:
- thread-seconds of the generated nodes (models under models/generated and the tests attached to them) and of the
  hand-written rest;
- the floor of the stage: dbt's start plus the hand-written thread-seconds spread over the threads (a lower bound:
  perfect parallelism, generated models free);
- for the nightly, dbt's per-node work for the generated nodes (each family's smallest node in that run times the
  family's node count), a cost no model can go under while it stays its own dbt node.
`--measure` then builds it: per side, on a copy of the kept warehouse, `dbt build` four times in turn (a full
rebuild and an incremental one from the last night's window, each with every node and without the generated models
and their tests) and prints each one's wall time: the floor measured rather than bounded.
`--own-work` splits a build's node time into the SQL the warehouse ran and dbt's own work per node (compiling,
rendering the materialization, adapter calls: Python that no model's SQL can make cheaper): per side, on a copy of
the kept warehouse, `dbt --debug build` of every node, full and incremental as above; each node's SQL seconds are
the `SQL status: ... in X seconds` lines its statements log, the rest of its `execution_time` is dbt's own.
Usage: .venv/bin/python bench/build_floor.py DIR [--threads 2] [--measure] [--own-work]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import duckdb
from node_times import node_family

from kpiflow.config import GENERATED_FOLDER
from kpiflow.quality.restated import RESTATED_TAG  # left out of every kpiflow build, so out of these too

GENERATED_PATH = f"models/{GENERATED_FOLDER}"  # as a dbt selector; the manifest's paths start with it + "/"


def generated_nodes(manifest: dict) -> set[str]:
    """Unique ids of the generated models and of the tests that depend on one of them."""
    nodes = manifest["nodes"]
    models = {uid for uid, node in nodes.items() if node.get("original_file_path", "").startswith(f"{GENERATED_PATH}/")}
    tests = {
        uid
        for uid, node in nodes.items()
        if node.get("resource_type") == "test" and set(node.get("depends_on", {}).get("nodes", ())) & models
    }
    return models | tests


def split(run_results: dict, generated: set[str]) -> tuple[float, float, float]:
    """(generated thread-s, hand-written thread-s, per-node floor of the generated nodes in thread-s)."""
    by_family: dict[str, list[float]] = defaultdict(list)
    totals = [0.0, 0.0]
    for result in run_results["results"]:
        seconds = float(result.get("execution_time") or 0.0)
        is_generated = result["unique_id"] in generated
        totals[0 if is_generated else 1] += seconds
        if is_generated:
            by_family[node_family(result["unique_id"])].append(seconds)
    per_node_floor = sum(min(seconds) * len(seconds) for seconds in by_family.values())
    return totals[0], totals[1], per_node_floor


def report(folder: Path, threads: int) -> str:
    lines = [
        "| side | run | dbt stage s | dbt start s | generated thread-s | hand-written thread-s | floor s "
        "(start + hand-written / threads) | generated per-node floor thread-s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in ("old", "new"):
        manifest = json.loads((folder / side / "warehouse" / "state" / "dbt" / "target" / "manifest.json").read_text())
        generated = generated_nodes(manifest)
        for path in sorted((folder / side / "node_times").glob("*-*.json")):
            if path.name.endswith((".raw.json", ".stage.json")):
                continue
            results = json.loads(path.read_text())
            stage = json.loads(path.with_suffix(".stage.json").read_text())["dbt_stage"]
            start = stage - float(results["elapsed_time"])
            generated_s, hand_written_s, per_node = split(results, generated)
            floor = start + hand_written_s / threads
            lines.append(
                f"| {side} | {path.stem} | {stage:.1f} | {start:.1f} | {generated_s:.1f} | {hand_written_s:.1f} | "
                f"{floor:.1f} | {per_node:.1f} |"
            )
    return "\n".join(lines)


def measure(folder: Path) -> str:
    """Wall seconds of `dbt build` with and without the generated models, full and incremental, per side."""
    lines = ["| side | build | every node s | without generated models s | without / every |", "|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for side, build, extra, project, warehouse, scratch in builds(folder):
        every = dbt_seconds(project, warehouse, scratch, extra, f"tag:{RESTATED_TAG}")
        without = dbt_seconds(project, warehouse, scratch, extra, f"tag:{RESTATED_TAG} path:{GENERATED_PATH}")
        lines.append(f"| {side} | {build} | {every:.1f} | {without:.1f} | {without / every:.0%} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def own_work(folder: Path) -> str:
    """Per side and build: the generated and the hand-written nodes' thread-seconds, SQL seconds and dbt's own."""
    lines = [
        "| side | build | wall s (debug log) | nodes | node thread-s | SQL s | dbt's own s | own s per node | "
        "generated: nodes | thread-s | SQL s | dbt's own s | own s per node |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for side, build, extra, project, warehouse, scratch in builds(folder):
        shutil.rmtree(scratch / "logs", ignore_errors=True)  # dbt appends to its log: one build's lines only
        wall = dbt_seconds(project, warehouse, scratch, extra, f"tag:{RESTATED_TAG}", debug=True)
        results = json.loads((scratch / "target" / "run_results.json").read_text())
        generated = generated_nodes(json.loads((scratch / "target" / "manifest.json").read_text()))
        sql = sql_seconds((scratch / "logs" / "dbt.log").read_text(errors="replace"))
        every = results["results"]
        cells = []
        for nodes in (every, [result for result in every if result["unique_id"] in generated]):
            node_s = sum(float(result.get("execution_time") or 0.0) for result in nodes)
            sql_s = sum(sql.get(result["unique_id"], 0.0) for result in nodes)
            cells += [f"{len(nodes)}", f"{node_s:.1f}", f"{sql_s:.1f}", f"{node_s - sql_s:.1f}",
                      f"{(node_s - sql_s) / max(len(nodes), 1):.3f}"]  # fmt: skip
        lines.append(f"| {side} | {build} | {wall:.1f} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


STATEMENT_OF = re.compile(r"\[(?P<thread>[^\]]+)\]: On (?P<node>[\w.]+): ")
SQL_STATUS = re.compile(r"\[(?P<thread>[^\]]+)\]: SQL status: .* in (?P<seconds>[\d.]+) seconds")


def sql_seconds(debug_log: str) -> dict[str, float]:
    """Seconds of the SQL each node ran, from dbt's debug log: a status line belongs to its thread's last statement."""
    node_of_thread: dict[str, str] = {}
    seconds: dict[str, float] = defaultdict(float)
    for line in debug_log.splitlines():
        if statement := STATEMENT_OF.search(line):
            node_of_thread[statement["thread"]] = statement["node"]
        elif (status := SQL_STATUS.search(line)) and status["thread"] in node_of_thread:
            seconds[node_of_thread[status["thread"]]] += float(status["seconds"])
    return seconds


def builds(folder: Path) -> Iterator[tuple[str, str, list[str], Path, Path, Path]]:
    """Per side: a copy of the kept warehouse, parsed once, then (side, build, dbt args, project, warehouse, scratch)
    for a full rebuild and an incremental one from the last night's window."""
    for side in ("old", "new"):
        kept = folder / side / "warehouse" / "kpiflow.duckdb"
        with duckdb.connect(str(kept), read_only=True) as con:
            window = con.execute("select max(window_start) from kpiflow_state.build_window").fetchone()[0]
        with tempfile.TemporaryDirectory(prefix="kpiflow-floor-") as tmp:
            warehouse = Path(tmp) / "kpiflow.duckdb"
            shutil.copy(kept, warehouse)
            project, scratch = folder / side / "project", Path(tmp)
            dbt_seconds(project, warehouse, scratch, [], "", command="parse")  # every build below reuses this parse
            for build, extra in (("full", ["--full-refresh"]), (f"incremental from {window}", window_vars(window))):
                yield side, build, extra, project, warehouse, scratch


def window_vars(window: object) -> list[str]:
    return ["--vars", json.dumps({"kpiflow_window_start": str(window)})]


def dbt_seconds(
    project: Path,
    warehouse: Path,
    scratch: Path,
    extra: list[str],
    exclude: str,
    command: str = "build",
    debug: bool = False,
) -> float:
    """Wall seconds of one `dbt build` of `project` into `warehouse`, in dbt's own process."""
    command_line = [
        str(Path(sys.executable).parent / "dbt"), *(["--debug"] if debug else []), command,
        "--project-dir", str(project),
        "--profiles-dir", str(project / "profiles"), "--target-path", str(scratch / "target"),
        "--log-path", str(scratch / "logs"), *(["--exclude", exclude] if exclude else []), *extra,
    ]  # fmt: skip
    env = os.environ | {
        "KPIFLOW_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(command_line, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"dbt {command} failed ({' '.join(command_line)}):\n{done.stdout[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a compare_builds.py --keep folder")
    parser.add_argument("--threads", type=int, default=2, help="dbt threads of the runs (the profile's)")
    parser.add_argument("--measure", action="store_true", help="then build with and without the generated models")
    parser.add_argument("--own-work", action="store_true", help="then split node time into SQL and dbt's own work")
    args = parser.parse_args()
    print(report(args.folder, args.threads))
    if args.measure:
        print()
        measure(args.folder)  # prints each row as it is measured
    if args.own_work:
        print()
        own_work(args.folder)


if __name__ == "__main__":
    main()
