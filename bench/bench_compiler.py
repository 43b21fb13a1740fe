"""Compiler speed: validate and compile 1,000 generated metric definitions, against a baseline in the same run.

Baseline: parsing the same YAML with PyYAML alone (the floor any YAML-based tool pays). Reported:
- validate: load + validate 1,000 metrics (typed models, every rule);
- compile: validate + plan + render one month-grain SQL query per metric (DuckDB dialect);
- ratios against the baseline. Target: compile under 2 s;
- where compile's time goes (a separate pass, best of 3): loading, planning and tree building, SQL text.
Run: .venv/bin/python bench/bench_compiler.py
"""

from __future__ import annotations

import platform
import shutil
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


def main(count: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_definitions(root, count)
        files = sorted((root / "metrics").rglob("*.yml"))
        baseline = min(timed(lambda: [yaml.safe_load(f.read_text()) for f in files]) for _ in range(3))
        validate = min(timed(lambda: load_graph(root)) for _ in range(3))

        def compile_all() -> None:
            graph = load_graph(root)
            relation = warehouse_relation(load_dbt_models(root))
            for name in graph.metrics:
                if name.startswith("gen_"):
                    to_sql(build_query(graph, QueryRequest((name,), ("metric_time__month",)), relation))

        compiled = min(timed(compile_all) for _ in range(3))

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
        f"  target < 2 s: {'met' if compiled < 2 else 'NOT met'}"
    )
    print(
        f"  phases: load+validate {load_s:.3f} s, plan+trees {tree_s:.3f} s ({tree_s / count * 1000:.2f} ms/query),"
        f" SQL text {sql_s:.3f} s ({sql_s / count * 1000:.2f} ms/query)"
    )


if __name__ == "__main__":
    main()
