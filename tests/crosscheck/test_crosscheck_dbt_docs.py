"""dbt docs: `dbt docs generate` succeeds on a copy of the built project, every mart traces back to the raw sources,
and every column a mart really has (per catalog.json, read from the warehouse) is documented in the manifest."""

from __future__ import annotations

import pytest
from crosscheck_support import DocsArtifacts

pytestmark = pytest.mark.slow  # runs `dbt docs generate` (compiles every model) once per session

MARTS_SCHEMA = "marts"
RAW_SOURCE_PREFIX = "source.kpiflow.raw."
# Raw tables each wide mart must be built from (DECISIONS: sales from lines and returns, HR from employees and
# their assignments, ...); kpi_values must reach every raw table any model reads.
REQUIRED_SOURCES = {
    "mart_sales_store_month": {"orders", "order_lines", "returns", "store_traffic", "expenses", "stores"},
    "mart_sales_channel_month": {"orders", "order_lines", "returns"},
    "mart_inventory_store_category_month": {"inventory_snapshots", "inventory_counts", "products", "order_lines"},
    "mart_hr_store_department_month": {"employees", "employee_assignments", "absences", "trainings"},
    "mart_sales_team_employee_month": {"crm_leads", "crm_activities", "orders", "employees"},
}
# The KPI catalog is the YAML's metadata rendered as a VALUES list: it has no data lineage to trace.
METADATA_MARTS = {"kpi_catalog"}


def _mart_nodes(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == MARTS_SCHEMA
    }


def _upstream(manifest: dict, unique_id: str) -> set[str]:
    """Every node the given one is built from, transitively."""
    parents = manifest["parent_map"]
    seen: set[str] = set()
    pending = [unique_id]
    while pending:
        for parent in parents.get(pending.pop(), []):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return seen


def _raw_tables(nodes: set[str]) -> set[str]:
    return {node.removeprefix(RAW_SOURCE_PREFIX) for node in nodes if node.startswith(RAW_SOURCE_PREFIX)}


def test_docs_generate_writes_a_catalog_of_every_mart(docs_artifacts: DocsArtifacts) -> None:
    marts = _mart_nodes(docs_artifacts.manifest)
    assert set(REQUIRED_SOURCES) | METADATA_MARTS | {"kpi_values"} <= set(marts)
    assert not docs_artifacts.catalog.get("errors"), docs_artifacts.catalog["errors"]
    missing = sorted(name for name, node in marts.items() if node["unique_id"] not in docs_artifacts.catalog["nodes"])
    assert not missing, f"marts missing from catalog.json: {missing}"


def test_every_mart_traces_back_to_raw_sources(docs_artifacts: DocsArtifacts) -> None:
    manifest = docs_artifacts.manifest
    read_by_models = _raw_tables({source for source, children in manifest["child_map"].items() if children})
    problems = []
    for name, node in sorted(_mart_nodes(manifest).items()):
        upstream = _upstream(manifest, node["unique_id"])
        reached = _raw_tables(upstream)
        if name in METADATA_MARTS:
            if upstream or "values" not in node["compiled_code"].lower():
                problems.append(f"{name}: expected a constant VALUES table, got upstream {sorted(upstream)}")
            continue
        required = REQUIRED_SOURCES.get(name, read_by_models)
        if not reached:
            problems.append(f"{name}: no raw source upstream")
        elif not required <= reached:
            problems.append(f"{name}: does not reach raw {sorted(required - reached)}")
    assert read_by_models, "the project should read raw sources"
    assert not problems, "\n".join(problems)


def test_every_mart_column_is_documented(docs_artifacts: DocsArtifacts) -> None:
    """Columns found in the warehouse (catalog.json) against the manifest's column docs, both ways."""
    problems = []
    for name, node in sorted(_mart_nodes(docs_artifacts.manifest).items()):
        actual = set(docs_artifacts.catalog["nodes"][node["unique_id"]]["columns"])
        documented = {column: doc.get("description", "").strip() for column, doc in node["columns"].items()}
        undocumented = sorted(column for column in actual if not documented.get(column))
        stale = sorted(set(documented) - actual)
        if undocumented:
            problems.append(f"{name}: columns without a description: {undocumented}")
        if stale:
            problems.append(f"{name}: documented columns the table does not have: {stale}")
    assert not problems, "\n".join(problems)
