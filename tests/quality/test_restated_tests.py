"""Staging tests tagged `restates_input_gate` are skipped by `kpiflow run` (its gate has just run): each must judge
exactly what an error check of the gate judges, or a bad row could reach the build unjudged."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kpiflow.quality.declarations import load_gate_spec
from kpiflow.quality.restated import RESTATED_TAG, StagingTest, restating_check, staging_tests
from kpiflow.quality.specs import GateSpec, Severity

from .conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def gate() -> GateSpec:
    return load_gate_spec(PROJECT_DIR / "models" / "staging" / "_source_checks.yml")


KEY = "order_id || '-' || line_no"  # how _staging.yml writes a two-column key for dbt's unique test


@pytest.mark.parametrize(
    ("test", "restated_by"),
    [
        (StagingTest("t", "orders", "not_null", "order_id"), "orders.order_id.not_null"),
        (StagingTest("t", "orders", "unique", "order_id"), "orders.order_id.unique"),
        (StagingTest("t", "order_lines", "unique", KEY), "order_lines.order_id+line_no.unique"),
        (StagingTest("t", "stores", "accepted_values", "store_type", {"values": ["physical", "online", "popup"]}),
         "stores.store_type.accepted_values"),
        # the gate allows 'online' too: the dbt test is stricter, so skipping it would let a row through
        (StagingTest("t", "stores", "accepted_values", "store_type", {"values": ["physical"]}), None),
        (StagingTest("t", "orders", "not_null", "order_date"), None),  # a column staging derives: the gate never saw it
        (StagingTest("t", "orders", "unique", "customer_id"), None),
        (StagingTest("t", "order_lines", "unique", "order_id"), None),  # part of the key is not the key
        (StagingTest("t", "stores", "not_null", "opened_on"), None),
        (StagingTest("t", "no_such_table", "not_null", "id"), None),
        (StagingTest("t", "orders", "expression_is_true", "order_id"), None),
    ],
    ids=lambda v: f"{v.raw_table}.{v.kind}:{v.column}" if isinstance(v, StagingTest) else str(v),
)  # fmt: skip
def test_restating_check(gate: GateSpec, test: StagingTest, restated_by: str | None) -> None:
    assert restating_check(test, gate) == restated_by


def test_a_gate_check_that_only_warns_restates_nothing(gate: GateSpec) -> None:
    """dbt fails the build on the test; a warning of the gate would let the row through."""
    warned = replace(
        gate,
        tables=tuple(
            replace(t, checks=tuple(replace(c, severity=Severity.WARN) for c in t.checks)) for t in gate.tables
        ),
    )
    assert restating_check(StagingTest("t", "orders", "not_null", "order_id"), warned) is None


@pytest.mark.slow  # the shared demo build: a minute or two
def test_every_tagged_staging_test_restates_a_gate_check(gate: GateSpec, demo_build) -> None:
    manifest = json.loads((demo_build.project / "target" / "manifest.json").read_text(encoding="utf-8"))
    tests = staging_tests(manifest)
    tagged = [t for t in tests if RESTATED_TAG in t.tags]
    unfounded = [t.name for t in tagged if restating_check(t, gate) is None]
    assert unfounded == [], f"tagged {RESTATED_TAG} but no error check of the gate judges the same: {unfounded}"
    # the heavy key checks are among them (what the tag is for), and tests the gate does not restate still run
    names = {t.name for t in tagged}
    assert {"unique_stg_order_lines_order_id_line_no", "unique_stg_orders_order_id"} <= names
    assert any(t.kind == "relationships" for t in tests if t.name not in names)
    assert len(tagged) >= 100
