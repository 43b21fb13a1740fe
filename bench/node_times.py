"""Where a dbt build's time goes, node by node: a full run beside the nightly that follows it.

dbt writes each invocation's `run_results.json` (per node: status and `execution_time`) into its target folder, which
kpiflow keeps at `<state dir>/dbt/target/` and the next run overwrites; `keep` copies it away after a run, with the
materialization of every model taken from the manifest beside it. `report` prints, per group (models by
materialization, tests, seeds) and for the slowest nodes, the full run's seconds, the nightly's and nightly/full.
Node seconds are dbt's per-node times; with 2 threads they add up to about twice the stage's wall time.
`--families` groups models by what they are instead (name before `__`: kpi, metric, measures, rollup; `stg_`,
`int_`, the rest) with each group's smallest and median nightly node: the per-node floor the data does not set.
Usage: .venv/bin/python bench/node_times.py FULL.json NIGHTLY.json [--top 25] [--families]
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import defaultdict
from pathlib import Path


def keep(state_dir: Path, destination: Path) -> Path:
    """Copy the last build's run results to `destination`, each result given its node's materialization."""
    target = state_dir / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    for result in results["results"]:
        node = nodes.get(result["unique_id"], {})
        result["materialized"] = node.get("config", {}).get("materialized", node.get("resource_type", ""))
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(json.dumps(results))
    shutil.copy(target / "run_results.json", destination.with_suffix(".raw.json"))
    return destination


def node_seconds(path: Path) -> dict[str, tuple[str, float]]:
    """unique_id -> (group, seconds) of a file written by `keep`."""
    results = json.loads(path.read_text())["results"]
    return {r["unique_id"]: (_group(r), float(r.get("execution_time") or 0.0)) for r in results}


def _group(result: dict) -> str:
    kind = result["unique_id"].split(".", 1)[0]
    return f"{kind} {result.get('materialized', '')}".strip() if kind == "model" else kind


def node_family(unique_id: str) -> str:
    """What a node is: tests and seeds by resource type, models by name (`kpi__x` -> `kpi__`, `stg_x` -> `stg_`)."""
    kind, _, name = unique_id.split(".", 2)
    if kind != "model":
        return kind
    prefix = next((prefix for prefix in ("stg_", "int_", "mart_") if name.startswith(prefix)), None)
    if prefix is None and "__" in name:
        prefix = name.split("__", 1)[0] + "__"
    return prefix or "other models"


def families(full_path: Path, nightly_path: Path) -> str:
    """Markdown table per family: nodes, full and nightly thread-seconds, the nightly's smallest and median node."""
    full, nightly = node_seconds(full_path), node_seconds(nightly_path)
    grouped: dict[str, list[float]] = defaultdict(list)
    full_totals: dict[str, float] = defaultdict(float)
    for unique_id, (_, seconds) in nightly.items():
        grouped[node_family(unique_id)].append(seconds)
    for unique_id, (_, seconds) in full.items():
        full_totals[node_family(unique_id)] += seconds
    lines = ["| family | nodes | full s | nightly s | nightly/full | nightly min per node s | nightly median s |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for family, seconds in sorted(grouped.items(), key=lambda item: -sum(item[1])):
        ordered = sorted(seconds)
        lines.append(f"| {family} | {len(ordered)} | {full_totals[family]:.1f} | {sum(ordered):.1f} | "
                     f"{_ratio(sum(ordered), full_totals[family])} | {ordered[0]:.2f} | "
                     f"{ordered[len(ordered) // 2]:.2f} |")  # fmt: skip
    total = sum(sum(seconds) for seconds in grouped.values())
    lines.append(f"| all | {len(nightly)} | {sum(full_totals.values()):.1f} | {total:.1f} | "
                 f"{_ratio(total, sum(full_totals.values()))} | | |")  # fmt: skip
    for label, path in (("full", full_path), ("nightly", nightly_path)):
        elapsed = json.loads(path.read_text()).get("elapsed_time")
        if elapsed is not None:
            lines.append(f"\n{label}: dbt's elapsed time for the nodes {elapsed:.1f} s")
    return "\n".join(lines)


def _ratio(nightly: float, full: float) -> str:
    return f"{nightly / full:.2f}" if full >= 0.005 else "-"


def report(label: str, full_path: Path, nightly_path: Path, top: int = 25) -> str:
    """Markdown tables: seconds per group, then the `top` nodes by nightly seconds, full vs nightly with ratios."""
    full, nightly = node_seconds(full_path), node_seconds(nightly_path)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for index, runs in enumerate((full, nightly)):
        for group, seconds in runs.values():
            totals[group][index] += seconds
            totals[group][index + 2] += 1
    lines = [f"### {label}: node seconds by kind", "", "| kind | nodes | full s | nightly s | nightly/full |",
             "|---|---|---|---|---|"]  # fmt: skip
    for group, (f, n, f_count, _) in sorted(totals.items(), key=lambda item: -item[1][1]):
        lines.append(f"| {group} | {f_count} | {f:.1f} | {n:.1f} | {_ratio(n, f)} |")
    f_all, n_all = sum(t[0] for t in totals.values()), sum(t[1] for t in totals.values())
    lines.append(f"| all | {len(full)} | {f_all:.1f} | {n_all:.1f} | {_ratio(n_all, f_all)} |")
    lines += ["", f"### {label}: top {top} nodes by nightly seconds", "",
              "| node | kind | full s | nightly s | nightly/full |", "|---|---|---|---|---|"]  # fmt: skip
    ranked = sorted(nightly.items(), key=lambda item: -item[1][1])[:top]
    for unique_id, (group, seconds) in ranked:
        before = full.get(unique_id, (group, 0.0))[1]
        lines.append(f"| {unique_id.split('.', 2)[-1]} | {group} | {before:.2f} | {seconds:.2f} | "
                     f"{_ratio(seconds, before)} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full", type=Path)
    parser.add_argument("nightly", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--families", action="store_true", help="group models by name family, with per-node floors")
    args = parser.parse_args()
    if args.families:
        print(families(args.full, args.nightly))
        return
    print(report(f"{args.full.name} vs {args.nightly.name}", args.full, args.nightly, args.top))


if __name__ == "__main__":
    main()
