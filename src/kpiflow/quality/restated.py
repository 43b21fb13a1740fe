"""dbt tests on staging views that restate a check of the input gate, so `kpiflow run` does not judge twice.

`kpiflow run` runs the gate (models/staging/_source_checks.yml) before every build and stops on an error. A staging
view only renames and casts its raw table, so a dbt test on a staging column that the gate checks the same way
(same column, same kind, no looser, at error severity) judges the same rows a second time. Such tests carry the dbt
tag `restates_input_gate`: the build of `kpiflow run` excludes the tag, a plain `dbt build` still runs them.
`restating_check` says which gate check a test restates; tests/quality/test_restated_tests.py holds every tagged
test of the project to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kpiflow.quality import specs as s

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


def staging_tests(manifest: Mapping[str, Any]) -> list[StagingTest]:
    """The generic tests of models that read one raw table (the staging views), from a dbt manifest."""
    nodes = manifest["nodes"]
    found = []
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("test_metadata") or not node.get("attached_node"):
            continue
        model = nodes.get(node["attached_node"], {})
        sources = [n for n in model.get("depends_on", {}).get("nodes", []) if n.startswith(RAW_SOURCE_PREFIX)]
        if len(sources) != 1:
            continue
        metadata = node["test_metadata"]
        kwargs = metadata.get("kwargs", {})
        arguments = {k: v for k, v in kwargs.items() if k not in ("model", "column_name")}
        found.append(
            StagingTest(
                name=node["name"],
                raw_table=sources[0].removeprefix(RAW_SOURCE_PREFIX),
                kind=metadata["name"],
                column=node.get("column_name") or kwargs.get("column_name"),  # a model-level test names it here
                arguments=arguments,
                tags=tuple(node.get("config", {}).get("tags", ())),
            )
        )
    return sorted(found, key=lambda t: t.name)


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
    column = test.column or ""
    if test.kind == "not_null":
        return isinstance(check, s.NotNull) and check.target == column
    if test.kind == "unique":
        return isinstance(check, s.Unique) and set(check.columns) == set(_CONCATENATED_KEY.split(column.strip()))
    if test.kind == "accepted_values":
        allowed = {str(v) for v in test.arguments.get("values", ())}
        return (
            isinstance(check, s.AcceptedValues) and check.target == column and {str(v) for v in check.values} <= allowed
        )
    if test.kind == "relationships":
        parent = _STAGING_REF.match(str(test.arguments.get("to", "")).strip())
        return (
            isinstance(check, s.References)
            and parent is not None
            and check.parent == parent.group(1)
            and check.columns == (column,)
            and check.parent_columns == (test.arguments.get("field"),)
        )
    return False
