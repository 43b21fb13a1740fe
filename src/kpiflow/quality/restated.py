"""The gate alone decides what valid input is: every dbt test on a staging view restates a check of the gate.

`kpiflow run` runs the gate (models/staging/_source_checks.yml) before every build and stops on an error. A staging
view only renames and casts its raw table, so a dbt test on a staging column that the gate checks the same way
(same raw column, same kind, no looser, at error severity) judges the same rows a second time. Such tests carry the
dbt tag `restates_input_gate`: the build of `kpiflow run` excludes the tag, a plain `dbt build` still runs them.
`restating_check` says which gate check a test restates; tests/quality/test_restated_tests.py holds every test on a
staging view or raw source of the project to it, so no staging test can fail on data the gate has passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kpiflow.quality import specs as s
from kpiflow.quality.sql import renamed_columns

RESTATED_TAG = "restates_input_gate"
RAW_SOURCE_PREFIX = "source.kpiflow.raw."
_CONCATENATED_KEY = re.compile(r"\s*\|\|\s*'-'\s*\|\|\s*")  # unique: column_name: "order_id || '-' || line_no"
_STAGING_REF = re.compile(r"^ref\('stg_(\w+)'\)$")


@dataclass(frozen=True)
class StagingTest:
    """One generic dbt test on a staging view, as the manifest describes it."""

    name: str
    raw_table: str  # the raw table the tested staging view reads
    kind: str  # not_null, unique, accepted_values, relationships, ...
    column: str | None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)  # staging column -> raw column, where they differ

    def raw_columns(self, expression: str | None) -> tuple[str, ...]:
        """The raw columns behind a tested column or a concatenated key (`order_id || '-' || line_no`)."""
        parts = _CONCATENATED_KEY.split((expression or "").strip())
        return tuple(self.renamed.get(part, part) for part in parts if part)


def staging_tests(manifest: Mapping[str, Any]) -> list[StagingTest]:
    """Every dbt test on a staging view (a model reading one raw table) or on a raw source, from a dbt manifest.

    A test of a kind `restating_check` does not know (a singular test, another generic test) is listed too, with
    its kind, so that it shows up as restating nothing."""
    nodes = manifest["nodes"]
    found = []
    for node in nodes.values():
        if node["resource_type"] != "test":
            continue
        raw_table, renamed = _tested_raw_table(node, nodes)
        if raw_table is None:
            continue
        metadata = node.get("test_metadata") or {}
        kwargs = metadata.get("kwargs", {})
        arguments = {k: v for k, v in kwargs.items() if k not in ("model", "column_name")}
        found.append(
            StagingTest(
                name=node["name"],
                raw_table=raw_table,
                kind=metadata.get("name", "singular"),
                column=node.get("column_name") or kwargs.get("column_name"),  # a model-level test names it here
                arguments=arguments,
                tags=tuple(node.get("config", {}).get("tags", ())),
                renamed=renamed,
            )
        )
    return sorted(found, key=lambda t: t.name)


def _tested_raw_table(test: Mapping[str, Any], nodes: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The raw table a test judges (directly, or through the staging view reading it) and the view's renames."""
    attached = test.get("attached_node")
    targets = [attached] if attached else test.get("depends_on", {}).get("nodes", [])
    for target in targets:
        if target.startswith(RAW_SOURCE_PREFIX):
            return target.removeprefix(RAW_SOURCE_PREFIX), {}
        model = nodes.get(target, {})
        sources = [n for n in model.get("depends_on", {}).get("nodes", []) if n.startswith(RAW_SOURCE_PREFIX)]
        if len(sources) == 1:
            return sources[0].removeprefix(RAW_SOURCE_PREFIX), renamed_columns(model.get("raw_code", ""))
    return None, {}


def restating_check(test: StagingTest, spec: s.GateSpec) -> str | None:
    """Name of the error-severity gate check that judges what `test` judges, on the same raw table, else None."""
    table = next((t for t in spec.tables if t.name == test.raw_table), None)
    if table is None or test.column is None:
        return None
    for check in table.checks:
        if check.severity is s.Severity.ERROR and _same_judgement(test, check):
            return check.name
    return None


def _same_judgement(test: StagingTest, check: s.CheckSpec) -> bool:
    columns = test.raw_columns(test.column)
    if test.kind == "not_null":
        return isinstance(check, s.NotNull) and (check.target,) == columns
    if test.kind == "unique":
        return isinstance(check, s.Unique) and set(check.columns) == set(columns)
    if test.kind == "accepted_values":
        allowed = {str(v) for v in test.arguments.get("values", ())}
        return (
            isinstance(check, s.AcceptedValues)
            and (check.target,) == columns
            and {str(v) for v in check.values} <= allowed
        )
    if test.kind == "relationships":
        parent = _STAGING_REF.match(str(test.arguments.get("to", "")).strip())
        return (
            isinstance(check, s.References)
            and parent is not None
            and check.parent == parent.group(1)
            and check.columns == columns
            and check.parent_columns == tuple(_CONCATENATED_KEY.split(str(test.arguments.get("field", "")).strip()))
        )
    return False
