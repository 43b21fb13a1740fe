"""Compiler speed: validate and compile 1,000 generated metric definitions, against a baseline in the same run.

Baseline: parsing the same YAML with PyYAML alone (the floor any YAML-based tool pays). Reported:
- validate: load + validate 1,000 metrics (typed models, every rule);
- compile: validate + plan + render one month-grain SQL query per metric (DuckDB dialect);
- ratios against the baseline. Target (issue 16): compile under 2.5 s;
- where compile's time goes (a separate pass, best of 3): loading, planning and tree building, SQL text.
With --against OTHER_SRC (e.g. `git archive` of the old commit's src/), the compile (best of 3 in one process) runs
in child processes on this checkout's src/ and on OTHER_SRC, alternating for --rounds rounds on the same
definitions; printed: the median of each and the ratio new / old (a loaded machine slows both alike).
Run: .venv/bin/python bench/bench_compiler.py [--against /tmp/old/src --rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
from kpiflow.compiler.validate import load_graph

REPO = Path(__file__).resolve().parents[1]
KINDS = ("simple", "ratio", "derived", "cumulative")
KINDS_OF_TIME = ("wall", "cpu")


def write_definitions(root: Path, count: int) -> None:
    """`count` metrics over the demo catalog's semantic models, cycling through metric types."""
    shutil.copy(REPO / "dbt_project.yml", root / "dbt_project.yml")
    shutil.copytree(REPO / "models", root / "models")
    metrics_dir = root / "metrics"
    shutil.copytree(REPO / "metrics", metrics_dir)
    metrics = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        base = {"name": f"gen_{i:04d}", "type": kind, "label": f"Generated {i}", "description": "Benchmark metric."}
        if kind == "simple":
            base |= {"measure": "net_revenue", "filter": f"store__region <> 'R{i}'"}
        elif kind == "ratio":
            base |= {"numerator": "net_revenue", "denominator": "order_count"}
        elif kind == "derived":
            base |= {
                "expr": "a - b",
                "metrics": [{"name": "net_revenue", "alias": "a"}, {"name": "cogs", "alias": "b"}],
            }
        else:
            base |= {"measure": "net_revenue", "grain_to_date": "year"}
        metrics.append(base)
    (metrics_dir / "generated_bench.yml").write_text(yaml.safe_dump({"metrics": metrics}), encoding="utf-8")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compile_all(root: Path) -> None:
    graph = load_graph(root)
    relation = warehouse_relation(load_dbt_models(root))
    for name in graph.metrics:
        if name.startswith("gen_"):
            to_sql(build_query(graph, QueryRequest((name,), ("metric_time__month",)), relation))


def against(other_src: Path, rounds: int, count: int) -> None:
    """Compile in child processes on this src/ and on `other_src`, alternating; medians and ratios new / old."""
    runs: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_definitions(root, count)
        for _ in range(rounds):
            for label, src in (("old", other_src), ("new", REPO / "src")):
                command = [sys.executable, __file__, "--child", str(root)]
                env = dict(os.environ, PYTHONPATH=str(src))
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                runs[label].append(json.loads(done.stdout))
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"{count} metric definitions, {rounds} rounds, load average {os.getloadavg()[0]:.1f} at the end")
    median = {
        (label, kind): statistics.median(run[kind] for run in done)
        for label, done in runs.items()
        for kind in KINDS_OF_TIME
    }
    for kind in KINDS_OF_TIME:
        for label in ("new", "old"):
            listed = ", ".join(f"{r[kind]:.2f}" for r in runs[label])
            print(f"compile {kind} {label}: median {median[label, kind]:.3f} s  (runs {listed})")
        print(f"ratio {kind} new / old: {median['new', kind] / median['old', kind]:.2f}")


def compiled_in_child(root: Path) -> dict[str, float]:
    """Best of 3 compiles in this process: wall and CPU seconds (CPU time is the steadier one on a loaded machine)."""
    best: dict[str, float] = {}
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        compile_all(root)
        run = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        best = {kind: min(best.get(kind, value), value) for kind, value in run.items()}
    return best


def main(count: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_definitions(root, count)
        files = sorted((root / "metrics").rglob("*.yml"))
        baseline = min(timed(lambda: [yaml.safe_load(f.read_text()) for f in files]) for _ in range(3))
        validate = min(timed(lambda: load_graph(root)) for _ in range(3))
        compiled = min(timed(lambda: compile_all(root)) for _ in range(3))

        def phases() -> tuple[float, float, float]:
            start = time.perf_counter()
            graph = load_graph(root)
            relation = warehouse_relation(load_dbt_models(root))
            loaded, trees, texts = time.perf_counter() - start, 0.0, 0.0
            for name in graph.metrics:
                if name.startswith("gen_"):
                    begin = time.perf_counter()
                    tree = build_query(graph, QueryRequest((name,), ("metric_time__month",)), relation)
                    built = time.perf_counter()
                    to_sql(tree)
                    del tree  # dropped at once, as in compile_all (kept, the cycle collector would move it on)
                    trees, texts = trees + built - begin, texts + time.perf_counter() - built
            return loaded, trees, texts

        load_s, tree_s, sql_s = min((phases() for _ in range(3)), key=sum)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"{count} metric definitions")
    print(f"baseline (PyYAML parse only): {baseline:.3f} s")
    print(f"validate:                     {validate:.3f} s  ratio {validate / baseline:.1f}x baseline")
    print(
        f"compile (validate+plan+SQL):  {compiled:.3f} s  ratio {compiled / baseline:.1f}x baseline"
        f"  target < 2.5 s: {'met' if compiled < 2.5 else 'NOT met'}"
    )
    print(
        f"  phases: load+validate {load_s:.3f} s, plan+trees {tree_s:.3f} s ({tree_s / count * 1000:.2f} ms/query),"
        f" SQL text {sql_s:.3f} s ({sql_s / count * 1000:.2f} ms/query)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, help="another checkout's src/ to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # definitions written by --against
    args = parser.parse_args()
    if args.child:
        print(json.dumps(compiled_in_child(args.child)))
    elif args.against:
        against(args.against.resolve(), args.rounds, args.count)
    else:
        main(args.count)
