"""The gate alone decides what valid input is. Every dbt test on a staging view or raw source restates an error
check of the gate (and is tagged `restates_input_gate`, so `kpiflow run` skips it after its gate): a test that
judged more could fail the build on data the gate passed, a tagged test that judged less would let a bad row
through unjudged."""

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
        (StagingTest("t", "stores", "not_null", "city"), None),  # the online store has no city
        (StagingTest("t", "no_such_table", "not_null", "id"), None),
        (StagingTest("t", "orders", "expression_is_true", "order_id"), None),
        # a staging view renames or casts a raw column: the test judges the raw column
        (StagingTest("t", "orders", "not_null", "order_date", renamed={"order_date": "order_ts"}),
         "orders.order_ts.not_null"),
        (StagingTest("t", "returns", "relationships", KEY, {"to": "ref('stg_order_lines')", "field": KEY}),
         "returns.line_exists"),
        (StagingTest("t", "returns", "relationships", "order_id", {"to": "ref('stg_orders')", "field": "order_id"}),
         None),  # the gate checks the line, not the order: this test would judge what the gate does not
        (StagingTest("t", "customers", "not_null", "home_store_id"), None),  # may be empty: nothing to restate
        (StagingTest("t", "products", "singular", None), None),
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
def test_no_staging_test_can_fail_on_data_the_gate_passed(gate: GateSpec, demo_build) -> None:
    """Both lists derived: the tests from dbt's manifest, the checks from _source_checks.yml."""
    manifest = json.loads((demo_build.project / "target" / "manifest.json").read_text(encoding="utf-8"))
    tests = staging_tests(manifest)
    unmatched = [f"{t.name} ({t.kind} on {t.raw_table}.{t.column})" for t in tests if restating_check(t, gate) is None]
    assert unmatched == [], (
        "staging tests that no error check of the gate restates (move them to models/staging/_source_checks.yml "
        f"or remove them): {unmatched}"
    )
    untagged = [t.name for t in tests if RESTATED_TAG not in t.tags]
    assert untagged == [], f"restate a gate check but lack the tag {RESTATED_TAG}: {untagged}"
    # the heavy key checks are among them (what the tag is for); renamed and derived columns are matched too
    names = {t.name for t in tests}
    heavy_and_renamed = {"unique_stg_order_lines_order_id_line_no", "unique_stg_orders_order_id"}
    assert heavy_and_renamed | {"not_null_stg_orders_order_date", "not_null_stg_trainings_is_passed"} <= names
    assert len(tests) >= 120
