"""The dbt semantic-layer export, read back as YAML: the choices that make MetricFlow agree with kpiflow.

Fast checks of the exported files for the catalog in metrics/; the slow parity test runs MetricFlow on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpiflow.compiler.export_dbt_sl import ExportReport, export_semantic_layer
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.validate import load_graph

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph() -> SemanticGraph:
    return load_graph(REPO)


@pytest.fixture(scope="module")
def exported(graph: SemanticGraph, tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportReport, dict, dict]:
    directory = tmp_path_factory.mktemp("export")
    report = export_semantic_layer(graph, directory)
    models = yaml.safe_load((directory / "semantic_models.yml").read_text(encoding="utf-8"))["semantic_models"]
    metrics = yaml.safe_load((directory / "metrics.yml").read_text(encoding="utf-8"))["metrics"]
    return report, {m["name"]: m for m in models}, {m["name"]: m for m in metrics}


def _measure(models: dict, model: str, measure: str) -> dict:
    return next(m for m in models[model]["measures"] if m["name"] == measure)


def _dimension(models: dict, model: str, dimension: str) -> dict:
    return next(d for d in models[model]["dimensions"] if d["name"] == dimension)


@pytest.mark.parametrize(
    ("model", "measure", "agg"),
    [
        ("job_applications", "days_to_hire", "average"),  # kpiflow `avg`; dbt rejects anything but `average`
        ("crm_leads", "avg_first_response_minutes", "average"),
        ("revenue_events", "net_revenue", "sum"),
        ("orders", "active_customers", "count_distinct"),
        ("inventory_daily", "stockout_days", "sum_boolean"),
    ],
)
def test_aggregations_use_dbt_names(exported, model: str, measure: str, agg: str) -> None:
    _, models, _ = exported
    assert _measure(models, model, measure)["agg"] == agg


@pytest.mark.parametrize(
    ("metric", "window"),
    [("revenue_mtd", {"grain_to_date": "month"}), ("revenue_ytd", {"grain_to_date": "year"})],
)
def test_cumulative_metrics_are_read_at_the_periods_last_day(exported, metric: str, window: dict) -> None:
    """DECISIONS rule 8: YTD by month is the total as of the month's last day; MetricFlow's default is the first."""
    _, _, metrics = exported
    assert metrics[metric]["type_params"]["cumulative_type_params"] == {**window, "period_agg": "last"}


@pytest.mark.parametrize(
    ("model", "entity", "measure", "metric", "row_filter"),
    [
        ("hr_events", "hr_event", "hires", "hires", "event_type = 'hire'"),
        ("orders", "order", "physical_store_orders", "physical_store_orders", "is_physical_store"),
        ("orders", "order", "new_customers", "new_customers", "is_first_order"),
        (
            "hr_events",
            "hr_event",
            "voluntary_terminations",
            "voluntary_terminations",
            "event_type = 'termination' and termination_reason = 'resignation'",
        ),
    ],
)
def test_measure_filters_drop_rows_through_a_dimension(
    exported, graph: SemanticGraph, model: str, entity: str, measure: str, metric: str, row_filter: str
) -> None:
    """Folding a filter into `case when` would keep groups whose rows are all filtered out (as 0); kpiflow drops
    them, so the filter becomes a dimension and every metric over the measure filters on it."""
    _, models, metrics = exported
    source = graph.measures[measure].measure
    assert _measure(models, model, measure)["expr"] == source.expr  # the column alone, no `case when`
    dimension = _dimension(models, model, f"{measure}_filter")
    assert (dimension["type"], dimension["expr"]) == ("categorical", row_filter)
    assert metrics[metric]["filter"] == "{{ Dimension('" + f"{entity}__{measure}_filter" + "') }}"


def test_conversions_count_zero_not_null_where_nothing_converted(exported) -> None:
    _, _, metrics = exported
    params = metrics["lead_conversion_rate"]["type_params"]["conversion_type_params"]
    assert params["conversion_measure"] == {"name": "deal_events", "fill_nulls_with": 0}
    assert params["base_measure"] == {"name": "lead_events"}


def test_metric_filters_keep_metricflow_jinja(exported) -> None:
    _, _, metrics = exported
    assert metrics["physical_net_revenue"]["filter"] == "{{ Dimension('store__store_type') }} = 'physical'"
    numerator = metrics["plan_attainment"]["type_params"]["numerator"]
    assert numerator["filter"] == "{{ Dimension('employee__job_role') }} = 'sales_manager'"


def test_semi_additive_balances_take_the_edge_day(exported) -> None:
    _, models, _ = exported
    assert _measure(models, "inventory_daily", "inventory_value")["non_additive_dimension"] == {
        "name": "snapshot_date",
        "window_choice": "max",
    }
    assert _measure(models, "inventory_daily", "opening_inventory_value")["non_additive_dimension"] == {
        "name": "snapshot_date",
        "window_choice": "min",
    }
    names = {m["name"] for m in models["inventory_daily"]["measures"]}
    assert "average_inventory_value" not in names  # a daily mean has no MetricFlow equivalent: left out, reported


def test_everything_not_exported_is_reported(exported, graph: SemanticGraph) -> None:
    report, _, metrics = exported
    assert set(report.exported) == set(metrics)
    assert set(report.exported) | set(report.skipped) == set(graph.metrics)
    assert not set(report.exported) & set(report.skipped)
