"""Ask kpiflow and MetricFlow the same questions on one warehouse, and bring both answers to one shape.

kpiflow runs through the code path of `kpiflow query --start --end`; MetricFlow runs in-process through its
Python API (`MetricFlowEngine` with the dbt adapter-backed SQL client, configured as the `mf` CLI configures it),
so ~170 queries take seconds, not one `mf` start-up each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kpiflow.compiler.graph import SemanticGraph

MONTH = "metric_time__month"
CellValue = str | float | date | None
Row = tuple[CellValue, ...]


@dataclass(frozen=True)
class ParityProject:
    """A throwaway copy of the built demo project with the semantic layer exported and parsed."""

    project: Path
    warehouse: Path
    start: date
    end: date
    exported: tuple[str, ...]
    skipped: dict[str, str]


@dataclass(frozen=True)
class Case:
    """One request for both engines: a metric by month, optionally also by one categorical dimension."""

    metric: str
    group_by: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.metric} by {', '.join(self.group_by)}"


@dataclass(frozen=True)
class Answer:
    """Rows keyed by the group-by values in request order, or the error text when the engine refused."""

    rows: dict[Row, CellValue]
    duplicates: tuple[Row, ...] = ()
    error: str | None = None


def normalize(value: object) -> CellValue:
    """One type per kind of value: MetricFlow returns timestamps and floats, kpiflow dates, ints and Decimals."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value  # type: ignore[return-value]


def keyed(columns: list[str], rows: list[tuple], case: Case) -> Answer:
    """Rows as {group-by values: metric value}; a repeated key is kept aside, as it is a failure on its own."""
    missing = [name for name in (*case.group_by, case.metric) if name not in columns]
    if missing:
        return Answer({}, error=f"result has no column {', '.join(missing)} (columns: {', '.join(columns)})")
    value_at = columns.index(case.metric)
    key_at = [columns.index(name) for name in case.group_by]
    out: dict[Row, CellValue] = {}
    duplicates: list[Row] = []
    for row in rows:
        key = tuple(normalize(row[i]) for i in key_at)
        if key in out:
            duplicates.append(key)
        out[key] = normalize(row[value_at])
    return Answer(out, tuple(duplicates))


def categorical_candidates(graph: SemanticGraph, metric: str) -> list[str]:
    """Categorical group-bys to try: the KPI's natural dimensions, store__region, then every other one.

    kpiflow's group-by names are MetricFlow's (`entity__dimension`), so the same string goes to both engines.
    """
    spec = graph.metrics[metric]
    natural = [name for name in (spec.kpi.natural_dimensions if spec.kpi else []) if "__" in name]
    everything = sorted(
        f"{entity.name}__{dimension.name}"
        for model in graph.models.values()
        for entity in model.spec.entities
        if entity.type in ("primary", "unique", "natural")
        for dimension in model.spec.dimensions
        if dimension.type == "categorical"
    )
    return list(dict.fromkeys([*natural, "store__region", *everything]))


def choose_category(graph: SemanticGraph, metric: str) -> str | None:
    """The first candidate kpiflow's planner accepts with the month (None when the metric supports none)."""
    from kpiflow.compiler.plan import Planner, QueryError, QueryRequest

    planner = Planner(graph)
    for name in categorical_candidates(graph, metric):
        try:
            planner.plan(QueryRequest((metric,), (MONTH, name)))
        except QueryError:
            continue
        return name
    return None


# Requests beyond the two per metric, chosen for what the demo data would not otherwise show: a ratio whose
# denominator is 0 in whole groups (return lines carry no gross revenue), to check NULL-on-zero in both engines.
EXTRA_CASES = (
    Case("gross_revenue", (MONTH, "revenue_event__event_type")),
    Case("return_rate", (MONTH, "revenue_event__event_type")),
)


def cases_for(graph: SemanticGraph, metrics: tuple[str, ...]) -> tuple[Case, ...]:
    """Each metric by month and by month and a category, plus the EXTRA_CASES of exported metrics."""
    cases: list[Case] = []
    for metric in metrics:
        cases.append(Case(metric, (MONTH,)))
        category = choose_category(graph, metric)
        if category:
            cases.append(Case(metric, (MONTH, category)))
    cases += [case for case in EXTRA_CASES if case.metric in metrics and case not in cases]
    return tuple(cases)


def kpiflow_answers(parity: ParityProject, cases: tuple[Case, ...]) -> dict[Case, Answer]:
    from kpiflow.compiler.commands import run_on_warehouse
    from kpiflow.compiler.dbt_models import load_dbt_models
    from kpiflow.compiler.plan import QueryRequest
    from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
    from kpiflow.compiler.validate import load_graph
    from kpiflow.warehouse.duckdb import DuckDBWarehouse

    graph = load_graph(parity.project)
    relation = warehouse_relation(load_dbt_models(parity.project))
    answers: dict[Case, Answer] = {}
    for case in cases:
        request = QueryRequest((case.metric,), case.group_by, start=parity.start, end=parity.end)
        try:
            sql = to_sql(build_query(graph, request, relation), "duckdb")
            columns, rows = run_on_warehouse(DuckDBWarehouse.for_file(parity.warehouse), sql)
        except Exception as exc:  # recorded per case: one broken metric must not hide the others
            answers[case] = Answer({}, error=f"{type(exc).__name__}: {exc}")
            continue
        answers[case] = keyed(columns, rows, case)
    return answers


@contextmanager
def metricflow_configuration(parity: ParityProject) -> Iterator[Any]:
    """The `mf` CLI's configuration (profile, adapter, semantic manifest) for the parity project.

    On exit the adapter's connections and dbt-duckdb's cached DuckDB instance are closed and dbt's adapter
    registry is reset, so the file is free and later in-process dbt runs start clean.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPIFLOW_WAREHOUSE", str(parity.warehouse))  # profiles.yml reads the DuckDB path from here
        patch.setenv("KPIFLOW_TARGET", "dev")
        config = CLIConfiguration()
        config.setup(
            dbt_profiles_path=parity.project / "profiles",
            dbt_project_path=parity.project,
            configure_file_logging=False,
        )
        try:
            yield config
        finally:
            config.dbt_artifacts.adapter.cleanup_connections()
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager.close_all_connections()
            reset_adapters()


def metricflow_answers(config: Any, parity: ParityProject, cases: tuple[Case, ...]) -> dict[Case, Answer]:
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    engine = config.mf
    start = datetime.combine(parity.start, datetime.min.time())
    end = datetime.combine(parity.end, datetime.min.time())
    answers: dict[Case, Answer] = {}
    for case in cases:
        request = MetricFlowQueryRequest.create(
            metric_names=[case.metric],
            group_by_names=list(case.group_by),
            time_constraint_start=start,
            time_constraint_end=end,
        )
        try:
            table = engine.query(request).result_df
        except Exception as exc:  # recorded per case, like kpiflow's
            answers[case] = Answer({}, error=f"{type(exc).__name__}: {str(exc)[:2000]}")
            continue
        if table is None:
            answers[case] = Answer({}, error="MetricFlow returned no result table")
            continue
        answers[case] = keyed(list(table.column_names), [tuple(row) for row in table.rows], case)
    return answers
