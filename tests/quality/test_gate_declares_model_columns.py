"""Every raw column a dbt model reads is declared in the input gate, so a missing or renamed one fails the gate's
`<table>.schema` check by name instead of failing dbt (or the gate's own SQL) later.

The columns are derived, not listed: dbt compiles the models that read `source('raw', ...)`, and sqlglot qualifies
each compiled query against the source columns of models/staging/_sources.yml (expanding `select *`) and prunes
the projections no later select uses; what is left read from a raw table is what the model needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec

from .conftest import PROJECT_DIR

RAW_SOURCE_PREFIX = "source.kpiflow.raw."
Schema = dict[str, dict[str, dict[str, dict[str, str]]]]


def source_schema(manifest: Mapping[str, Any]) -> Schema:
    """catalog -> schema -> table -> column -> type, from the sources' declared columns."""
    schema: Schema = {}
    for source in manifest["sources"].values():
        columns = {name: column.get("data_type") or "varchar" for name, column in source["columns"].items()}
        schema.setdefault(source["database"], {}).setdefault(source["schema"], {})[source["identifier"]] = columns
    return schema


def columns_read(sql: str, schema: Schema) -> dict[str, set[str]]:
    """raw table -> the columns `sql` reads from it (after `select *` expansion and projection pruning)."""
    tree = qualify(sqlglot.parse_one(sql, read="duckdb"), schema=schema, dialect="duckdb")
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(pushdown_projections(tree)):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                read.setdefault(source.name, set()).add(column.name)
    return read


def raw_columns_read_by_models(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    """Every raw column any model of the manifest reads, by raw table."""
    schema = source_schema(manifest)
    read: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        reads_raw = any(d.startswith(RAW_SOURCE_PREFIX) for d in node.get("depends_on", {}).get("nodes", []))
        if node["resource_type"] != "model" or not reads_raw:
            continue
        for table, columns in columns_read(node["compiled_code"], schema).items():
            read.setdefault(table, set()).update(columns)
    return read


def test_columns_read_expands_stars_and_ignores_columns_no_select_uses() -> None:
    schema = {"wh": {"raw": {"t": {"a": "int", "b": "int", "unused": "int"}, "u": {"k": "int", "x": "int"}}}}
    sql = (
        'with source as (select * from "wh"."raw"."t"), renamed as (select a, b + 1 as b1, unused from source) '
        'select renamed.a, renamed.b1, u.x from renamed join "wh"."raw"."u" as u on u.k = renamed.a'
    )
    assert columns_read(sql, schema) == {"t": {"a", "b"}, "u": {"k", "x"}}


@pytest.fixture(scope="module")
def compiled_manifest(
    tmp_path_factory: pytest.TempPathFactory, project_copier: Callable[[Path], Path], dbt_runner: Callable[..., str]
) -> dict[str, Any]:
    """`dbt compile` of the models that read raw sources, on a throwaway project and a tiny demo warehouse."""
    from kpiflow.demo import generate_demo_warehouse

    root = tmp_path_factory.mktemp("model_columns")
    project = project_copier(root / "project")
    warehouse = root / "kpiflow.duckdb"
    day = date(2024, 1, 1)
    generate_demo_warehouse(warehouse, scale=0.01, start=day, end=day, seed=7)
    dbt_runner(project, warehouse, "compile", "--select", "source:raw+1")
    return json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow  # a dbt parse and compile: ~20 s
def test_every_raw_column_a_model_reads_is_declared_in_the_gate(compiled_manifest: dict[str, Any]) -> None:
    read = raw_columns_read_by_models(compiled_manifest)
    gate = load_gate_spec(PROJECT_DIR / CHECKS_FILE)
    declared = {table.name: set(table.column_names) for table in gate.tables}
    undeclared = sorted(
        f"{table}.{column}" for table, columns in read.items() for column in columns - declared.get(table, set())
    )
    assert undeclared == [], f"read by models but not declared in {CHECKS_FILE}: {undeclared}"
    assert len(read) >= 18 and sum(map(len, read.values())) > 100  # the derivation saw every staging model
    assert {"discount_amount", "unit_price"} <= read["order_lines"]
