"""Generated SQL per metric type per dialect, held as snapshots; every snapshot parses back in its dialect.

Update after an intended change with: KPIFLOW_UPDATE_SNAPSHOTS=1 pytest tests/compiler
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.sqltext import build_query, to_sql

SNAPSHOTS = Path(__file__).parent / "snapshots"
MONTH_BY_REGION = ("metric_time__month", "store__region")

CASES = {
    "simple": QueryRequest(("revenue",), MONTH_BY_REGION),
    "simple_filtered": QueryRequest(("north_revenue",), ("metric_time__month",)),
    "ratio": QueryRequest(("upt",), MONTH_BY_REGION),
    "derived_offset": QueryRequest(("revenue_yoy",), ("metric_time__month",)),
    "cumulative_grain_to_date": QueryRequest(("revenue_ytd",), ("metric_time__month",)),
    "cumulative_window": QueryRequest(("revenue_7d",), ("metric_time__day",)),
    "semi_additive_last": QueryRequest(("inventory_value",), ("metric_time__month", "store")),
    "semi_additive_average": QueryRequest(("avg_inventory",), ("metric_time__quarter",)),
    "retention": QueryRequest(("retention",), ("metric_time__month",)),
    "multi_metric": QueryRequest(("revenue", "order_count"), ("metric_time__year",)),
}


def _snapshot_path(case: str, dialect: str) -> Path:
    return SNAPSHOTS / f"{case}.{dialect}.sql"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_snapshot(graph, relation, case, dialect):
    sql = to_sql(build_query(graph, CASES[case], relation), dialect)
    text = f"-- test_snapshot[{case}-{dialect}]: {CASES[case].metrics} by {CASES[case].group_by}\n{sql}\n"
    path = _snapshot_path(case, dialect)
    if os.environ.get("KPIFLOW_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"SQL changed; if intended, update {path.name}"
    parsed = sqlglot.parse(sql, read=dialect)
    assert len(parsed) == 1 and parsed[0] is not None


def test_every_metric_type_has_a_snapshot(graph):
    covered = {graph.metrics[m].type for case in CASES.values() for m in case.metrics}
    assert covered >= {"simple", "ratio", "derived", "cumulative", "retention"}
