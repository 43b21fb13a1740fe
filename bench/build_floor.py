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
Usage: .venv/bin/python bench/build_floor.py DIR [--threads 2]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from node_times import node_family

GENERATED_FOLDER = "models/generated/"


def generated_nodes(manifest: dict) -> set[str]:
    """Unique ids of the generated models and of the tests that depend on one of them."""
    nodes = manifest["nodes"]
    models = {uid for uid, node in nodes.items() if node.get("original_file_path", "").startswith(GENERATED_FOLDER)}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a compare_builds.py --keep folder")
    parser.add_argument("--threads", type=int, default=2, help="dbt threads of the runs (the profile's)")
    args = parser.parse_args()
    print(report(args.folder, args.threads))


if __name__ == "__main__":
    main()
