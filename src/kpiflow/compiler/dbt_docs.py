"""The `_generated.yml` of models/generated: descriptions and data tests of every generated model, for dbt docs and
BI tools. Texts from the metric YAML are made inert for dbt's Jinja (inert.py)."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from kpiflow.compiler.combined_models import (
    CombinedPlan,
)
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.inert import jinja_inert
from kpiflow.compiler.measure_models import MeasureModels
from kpiflow.compiler.model_names import UNSUPPRESSED_SUFFIX, dimension_column, kpi_metrics
from kpiflow.compiler.period_measures import PER_PERIOD_SUFFIX
from kpiflow.compiler.privacy import (
    PRIVACY_DEFAULT,
    PRIVACY_VAR,
    SUPPRESSION_MODEL,
    PrivacyPlan,
)
from kpiflow.compiler.retention_models import RetentionRead, activity_model
from kpiflow.compiler.rollups import RollupCatalog


def _column(name: str, description: str, tests: list | None = None) -> dict:
    entry: dict = {"name": name, "description": description}
    if tests:
        entry["data_tests"] = tests
    return entry


def _rollup_docs(rollups: RollupCatalog) -> list[dict]:
    docs = []
    for name in rollups.names():
        model, labels, measures = rollups.describe(name)
        docs.append(
            {
                "name": name,
                "description": f"Daily rollup of semantic model {model.name} ({model.spec.model}): its additive "
                f"measures summed per day for each breakdown the KPI models read ({'; '.join(labels)}). "
                f"Month, quarter and year rows add these days instead of re-reading fact rows. "
                f"Measures: {', '.join(measures)}.",
                "columns": [
                    _column("__day", "The day."),
                    _column("__set", "Which breakdown the row belongs to ('overall' or the group-by names)."),
                ],
            }
        )
    return docs


def _measures_docs(measures: MeasureModels) -> list[dict]:
    docs = []
    for name in measures.names():
        source, grains, labels, columns = measures.describe(name)
        how = (
            "aggregated from its rows in each period (distinct counts and averages, which days cannot add up to)"
            if name.endswith(PER_PERIOD_SUFFIX)
            else "added up to every period"
        )
        if measures.rebuilt(name):
            how = "aggregated from its rows in each period, rebuilt in full nightly as its seed-fed source is"
        docs.append(
            {
                "name": name,
                "description": f"The measures of {source} {how} ({', '.join(grains)}) for each breakdown the simple "
                f"KPIs read ({'; '.join(labels)}): each measure computed once per build. "
                f"Measures: {', '.join(columns)}.",
                "columns": [
                    _column("grain", "Period length."),
                    _column("period_start", "First day of the period."),
                    _column("__set", "Which breakdown the row belongs to ('overall' or the group-by names)."),
                ],
            }
        )
    return docs


def _activity_docs(read: RetentionRead) -> dict:
    labels = "; ".join(label for label, _ in read.sets)
    return {
        "name": activity_model(read),
        "description": f"Each {read.entity} active in {read.measure} once per period at every grain of "
        f"{read.metric}, for each of its breakdowns ({labels}): the retention KPI joins a period's rows to the "
        "previous period's. Incremental by period: a night recomputes the periods its window touches.",
        "columns": [
            _column("grain", "Period length."),
            _column("period_start", "First day of the period."),
            _column("__set", "Which breakdown the row belongs to ('overall' or the group-by names)."),
            _column("entity_key", f"The {read.entity}."),
        ],
    }


def docs_yaml(
    graph: SemanticGraph,
    columns: list[str],
    plan: PrivacyPlan,
    rollups: RollupCatalog | None = None,
    ratios: CombinedPlan | None = None,
    measures: MeasureModels | None = None,
    activities: Sequence[RetentionRead] = (),
) -> str:
    dims = {
        c: f"Dimension value when the row is broken down by {c.removesuffix('_id')}, where NULL is the unknown member "
        "(rows whose value is missing); NULL in rows of other breakdowns."
        for c in columns
    }
    long_columns = [
        _column("kpi", "KPI name (see kpi_catalog).", ["not_null"]),
        _column(
            "grain",
            "Period length: day, week, month, quarter or year.",
            [{"accepted_values": {"arguments": {"values": ["day", "week", "month", "quarter", "year"]}}}],
        ),
        _column("period_start", "First day of the period.", ["not_null"]),
        _column(
            "dimension_set",
            "Which dimensions the row is broken down by ('overall' for the total).",
            ["not_null"],
        ),
        *(_column(c, d) for c, d in dims.items()),
        _column("value", "The KPI value; fractions for rates (0.25 = 25%). NULL when suppressed or undefined."),
        _column("is_suppressed", SUPPRESSED_DOC + " value is then NULL (docs/privacy.md).", ["not_null"]),
    ]
    # The per-KPI models carry docs; their rows are tested once, in kpi_values (the union of them all): the same
    # tests on 65 models again would be 325 more queries every night.
    untested = [
        {key: value for key, value in column.items() if key != "data_tests"}
        for column in long_columns
        if column["name"] != "is_suppressed"
    ]
    untested.append(_column("population", POPULATION_DOC))
    models = []
    for metric in kpi_metrics(graph):
        models.append(
            {
                "name": f"kpi__{metric.name}",
                "description": f"{metric.label}: {metric.description.strip()} (all grains and breakdowns)",
                "columns": untested,
            }
        )
    for name, model in (ratios.input_models if ratios else {}).items():
        metric = graph.metrics[model.metric]
        readers = sorted(r.metric for r in ratios.thin.values() if name in {i.model for i in r.reads})
        where = f" On the rows where {model.filter}." if model.filter else ""
        models.append(
            {
                "name": name,
                "description": f"{metric.label}: {metric.description.strip()}{where} Not a KPI: computed once for "
                f"the KPIs that read it ({', '.join(readers)}), in the shape of kpi_values.",
                "columns": untested,
            }
        )
    models.append(
        {
            "name": "kpi_values",
            "description": "Every KPI at every grain, overall and by its natural "
            "dimensions, one row per KPI x grain x period x dimension values.",
            "columns": long_columns,
        }
    )
    catalog_columns = [
        _column("kpi", "KPI name.", ["not_null", "unique"]),
        _column("label", "Display label."),
        _column("description", "What the KPI means and how it is computed."),
        _column("metric_type", "simple, ratio, derived, cumulative, conversion or retention."),
        _column("unit", "Unit of the value (currency, percent, count, ...)."),
        _column("format", "Display format hint."),
        _column(
            "direction",
            "higher_is_better, lower_is_better or within_band.",
            [{"accepted_values": {"arguments": {"values": ["higher_is_better", "lower_is_better", "within_band"]}}}],
        ),
        _column("owner", "Who answers for the KPI."),
        _column("perspective", "finance, customers, processes or people."),
        _column("level", "strategic, operational or functional."),
        _column("natural_dimensions", "Comma-separated breakdowns published in kpi_values."),
        _column("band_low", "Lower edge of the acceptable band (within_band KPIs)."),
        _column("band_high", "Upper edge of the acceptable band (within_band KPIs)."),
    ]
    models.append(
        {
            "name": "kpi_catalog",
            "description": "Metadata of every KPI for BI tools.",
            "columns": catalog_columns,
        }
    )
    for name in sorted(graph.marts):
        mart = graph.marts[name]
        cols = []
        for g in mart.group_by:
            label = "period_start" if g.startswith(TIME_ENTITY) else dimension_column(g)
            text = f"First day of the {g.split('__')[1]}." if g.startswith(TIME_ENTITY) else f"The {label}."
            cols.append(_column(label, text, ["not_null"] if g.startswith(TIME_ENTITY) else None))
        for metric_name in mart.metrics:
            metric = graph.metrics[metric_name]
            unit = f" ({metric.kpi.unit})" if metric.kpi else ""
            cols.append(_column(metric_name, f"{metric.label}{unit}: {metric.description.strip()}"))
        if name in plan.marts:
            cols.append(
                _column(
                    "is_suppressed", SUPPRESSED_DOC + " people metrics are then NULL (docs/privacy.md).", ["not_null"]
                )
            )
            models.append(
                {
                    "name": name + UNSUPPRESSED_SUFFIX,
                    "description": f"{name} before suppression, with the people each row covers; not published, "
                    f"read by {SUPPRESSION_MODEL}.",
                    "columns": [{k: v for k, v in c.items() if k != "data_tests"} for c in cols[:-1]]
                    + [_column("population", POPULATION_DOC)],
                }
            )
        models.append({"name": name, "description": mart.description, "columns": cols})
    if plan.kpis:
        models.append(_suppression_docs(columns, plan))
    models += _rollup_docs(rollups) if rollups else []
    models += _measures_docs(measures) if measures else []
    models += [_activity_docs(read) for read in activities]
    for model in models:
        _inert_descriptions(model)
    header = "# Generated by `kpiflow compile`. Do not edit: change the metric YAML instead.\n"
    return header + yaml.safe_dump({"version": 2, "models": models}, sort_keys=False, width=110)


def _inert_descriptions(model: dict) -> None:
    """dbt renders descriptions as Jinja: labels and descriptions from the YAML must print as written (inert.py)."""
    for entry in (model, *model["columns"]):
        if "{" in entry["description"]:  # kpiflow's own texts never hold one; they stay shared (YAML anchors)
            entry["description"] = jinja_inert(entry["description"])


SUPPRESSED_DOC = (
    "True when the cell is hidden: it covers fewer people than the privacy minimum "
    f"(var {PRIVACY_VAR}, default {PRIVACY_DEFAULT}) somewhere in its year, or it is hidden so that such a cell "
    "cannot be computed from the published ones;"
)


POPULATION_DOC = (
    "People the cell covers (its privacy count metric; 0 when none), read by privacy_suppression; NULL for KPIs "
    "without a privacy count."
)


def _suppression_docs(columns: list[str], plan: PrivacyPlan) -> dict:
    axes = [dimension_column(a) for a in plan.axes]
    return {
        "name": SUPPRESSION_MODEL,
        "description": "Which people cells are hidden, per calendar year and member (overall, each "
        f"{' / '.join(c.removesuffix('_id') for c in axes) or 'total'} and their crossing): cells below the privacy "
        "minimum and, for each, three more that complete a rectangle of hidden cells (docs/privacy.md). Not "
        f"published; kpi_values and the people marts read it. People KPIs: {', '.join(plan.kpis)}.",
        "columns": [
            _column("year_start", "First day of the year the decision holds for, at every grain.", ["not_null"]),
            _column("dimension_set", "The member's breakdown, as in kpi_values.", ["not_null"]),
            *(_column(c, f"The member's {c.removesuffix('_id')}; NULL when not broken down by it.") for c in axes),
            _column(
                "is_primary", "Some cell of the member in the year covers fewer people than the minimum.", ["not_null"]
            ),
            _column("is_suppressed", "The member's people cells are hidden for the year.", ["not_null"]),
        ],
    }
