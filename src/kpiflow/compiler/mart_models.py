"""The wide marts of the `marts:` sections: a column that is a KPI published at the mart's grain and breakdown reads
that KPI's model; the others come from the query engine. Marts of people KPIs are built unsuppressed and published
through privacy_suppression."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from kpiflow.compiler.calendar_sql import date_literal
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.issues import Location, SpecInvalid, ValidationIssue
from kpiflow.compiler.model_names import (
    MART_SCHEMA,
    METRIC_VALUES,
    PRIVACY_WINDOW_START,
    UNSUPPRESSED_SUFFIX,
    WINDOW_START,
    dimension_column,
    dimension_set_label,
    header,
    incremental_config,
    quoted_name,
    unordered,
    window_safe,
)
from kpiflow.compiler.plan import QueryError, QueryRequest
from kpiflow.compiler.privacy import (
    SUPPRESSION_ALIAS,
    SUPPRESSION_MODEL,
    PrivacyPlan,
    SuppressionTable,
    member_join,
)
from kpiflow.compiler.render import filled
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.rollups import RollupCatalog
from kpiflow.compiler.sqlbuild import join_node, table
from kpiflow.compiler.sqltext import build_query, dbt_ref_relation, to_dbt_sql
from kpiflow.compiler.sqltypes import BIGINT
from kpiflow.compiler.sqltypes import adopting_select as _select


def mart_dims(graph: SemanticGraph, plan: PrivacyPlan, name: str) -> tuple[str, ...]:
    """A privacy mart's breakdowns in the plan's axis order."""
    return tuple(a for a in plan.axes if a in graph.marts[name].group_by)


def _privacy_counts(graph: SemanticGraph, metrics: list[str]) -> dict[str, str]:
    """metric -> the metric counting the people its cell covers, for metrics that must be suppressed when small."""
    counts = {}
    for name in metrics:
        kpi = graph.metrics[name].kpi
        if kpi is not None and kpi.privacy_count_metric:
            counts[name] = kpi.privacy_count_metric
    return counts


def _mart_query(
    graph: SemanticGraph,
    name: str,
    rollups: RollupCatalog | None,
    count_metric: str | None,
    people: tuple[str, ...] = (),
) -> tuple[exp.Query, str]:
    """A mart's rows, unsuppressed, with `population` when it holds people KPIs; and its time grain ('' if none).
    A metric whose KPI model publishes the mart's grain and breakdown is read from it (dbt lineage: mart <- kpi__x);
    the others (plain metrics, a breakdown no KPI publishes, `people` KPIs, whose cells include their head count's)
    are computed by the query engine. Rows: every cell any column has, as the query engine joins its metrics."""
    mart = graph.marts[name]
    time_key = [g for g in mart.group_by if g.startswith(TIME_ENTITY + "__")]
    grain = time_key[0].removeprefix(TIME_ENTITY + "__") if time_key else ""
    dims = tuple(g for g in mart.group_by if not g.startswith(TIME_ENTITY))
    published = _published_kpis(graph, mart.metrics, grain, dims, people)
    computed = [m for m in mart.metrics if m not in published]
    engine = _engine_query(graph, name, computed, rollups, count_metric) if computed or count_metric else None
    if not published:
        assert engine is not None
        return engine, grain
    keys = ["period_start" if g.startswith(TIME_ENTITY) else dimension_column(g) for g in mart.group_by]
    names = _mart_cte_names(published, bool(engine))
    query = _select()
    for metric in published:
        rows = _select(*keys, "value").from_(dbt_ref_relation(f"kpi__{metric}"), copy=False)
        for column, wanted in (("grain", grain), ("dimension_set", dimension_set_label(dims))):
            rows = rows.where(exp.EQ(this=exp.column(column), expression=exp.Literal.string(wanted)), copy=False)
        floor = truncate(date_literal(WINDOW_START), grain)
        rows = rows.where(exp.GTE(this=exp.column("period_start"), expression=floor), copy=False)
        query = query.with_(names[metric], as_=rows, copy=False)
    sources = [names[m] for m in published]
    if engine is not None:
        query = query.with_(names[""], as_=engine, copy=False)
        sources.append(names[""])
    cells: exp.Query = _select(*keys).from_(table(sources[0]), copy=False)
    for source in sources[1:]:
        cells = exp.union(cells, _select(*keys).from_(table(source), copy=False), distinct=True, copy=False)
    if len(sources) == 1:
        cells = cells.distinct(copy=False)  # type: ignore[attr-defined]
    query = query.with_(names["cells"], as_=cells, copy=False)
    columns: list[exp.Expression] = []
    for metric in mart.metrics:
        value = exp.column("value", names[metric]) if metric in published else exp.column(metric, names[""])
        columns.append(exp.alias_(filled(value, graph.metrics[metric].fill_nulls_with), metric, copy=False))
    if count_metric:
        columns.append(exp.column("population", names[""]))
    final = _select(*(exp.column(k, names["cells"]) for k in keys), *columns).from_(table(names["cells"]), copy=False)
    for source in sources:
        on = exp.and_(
            *(
                (exp.EQ if k == "period_start" else exp.NullSafeEQ)(
                    this=exp.column(k, names["cells"]), expression=exp.column(k, source)
                )
                for k in keys
            ),
            copy=False,
        )
        final = final.join(join_node(table(source), on=on, how="left"), copy=False)
    query = query.with_(names["final"], as_=final, copy=False)
    return query.select("*", copy=False).from_(table(names["final"]), copy=False), grain


def _published_kpis(
    graph: SemanticGraph, metrics: list[str], grain: str, dims: tuple[str, ...], people: tuple[str, ...]
) -> list[str]:
    """The mart metrics whose KPI model holds the mart's cells: a KPI at the mart's grain, overall or by its one
    breakdown, that is not a people KPI."""
    if not grain or len(dims) > 1:
        return []
    found = []
    for name in metrics:
        kpi = graph.metrics[name].kpi
        if kpi is not None and name not in people and grain in kpi.grains and set(dims) <= set(kpi.natural_dimensions):
            found.append(name)
    return found


def _mart_cte_names(published: list[str], engine: bool) -> dict[str, str]:
    """The mart's CTE names: one per KPI read (its name), "" for the query engine's metrics, cells and final; none
    taken twice."""
    own = {"cells": "cells", "final": "final", **({"": "computed_metrics"} if engine else {})}
    names = {metric: metric for metric in published}
    for role, wanted in own.items():
        label = wanted
        while label in names.values():
            label = f"mart_{label}"
        names[role] = label
    return names


def _engine_query(
    graph: SemanticGraph, name: str, metrics: list[str], rollups: RollupCatalog | None, count_metric: str | None
) -> exp.Select:
    """The mart's `metrics` computed by the query engine, under the mart's column names, with `population` (the
    people each row covers) when `count_metric` is given."""
    mart = graph.marts[name]
    origin = graph.origins[f"mart:{name}"]
    time_key = [g for g in mart.group_by if g.startswith(TIME_ENTITY + "__")]
    wanted = metrics + ([count_metric] if count_metric and count_metric not in metrics else [])
    try:
        request = QueryRequest(tuple(wanted), tuple(mart.group_by), start=WINDOW_START if time_key else None)
        query = unordered(build_query(graph, request, dbt_ref_relation, rollups))
    except QueryError as exc:
        raise SpecInvalid([ValidationIssue(Location(origin.file, origin.line, origin.field), str(exc))]) from None
    renamed = _select(
        *(
            exp.alias_(
                exp.column(g, METRIC_VALUES),
                dimension_column(g) if not g.startswith(TIME_ENTITY) else "period_start",
                copy=False,
            )
            for g in mart.group_by
        )
    )
    for metric in metrics:
        renamed = renamed.select(exp.alias_(exp.column(metric, METRIC_VALUES), metric, copy=False), copy=False)
    if count_metric:
        people = exp.Coalesce(this=exp.column(count_metric, METRIC_VALUES), expressions=[exp.Literal.number(0)])
        renamed = renamed.select(exp.alias_(exp.cast(people, BIGINT), "population", copy=False), copy=False)
    return renamed.from_(query.subquery(METRIC_VALUES), copy=False)


def mart_model(
    graph: SemanticGraph,
    name: str,
    dialect: str,
    rebuilt: frozenset[str],
    rollups: RollupCatalog | None = None,
    people: tuple[str, ...] = (),
) -> str:
    """A mart without people KPIs; incremental unless it reads a model rebuilt in full nightly (`rebuilt`)."""
    origin = graph.origins[f"mart:{name}"]
    renamed, timed = _mart_query(graph, name, rollups, None, people)
    if timed and window_safe(renamed, rebuilt):
        config = incremental_config(("period_start",), MART_SCHEMA, window_column="period_start", window_grain=timed)
    else:
        config = "{{ config(schema='" + MART_SCHEMA + "') }}\n"
    return header(origin.file.name) + config + to_dbt_sql(renamed, dialect) + "\n"


def private_mart_models(
    graph: SemanticGraph,
    name: str,
    plan: PrivacyPlan,
    dialect: str,
    rebuilt: frozenset[str],
    rollups: RollupCatalog | None = None,
) -> tuple[str, str]:
    """A mart holding people KPIs: its unsuppressed rows with their population (schema kpi, read by
    privacy_suppression), and the published mart, which hides the people metrics of the cells suppressed there."""
    origin = graph.origins[f"mart:{name}"]
    raw, timed = _mart_query(graph, name, rollups, plan.count_metric, plan.kpis)
    incremental = bool(timed) and window_safe(raw, rebuilt)
    window = {"window_column": "period_start", "window_grain": timed}
    raw_config = incremental_config(("period_start",), **window) if incremental else ""
    raw_text = header(origin.file.name) + raw_config + to_dbt_sql(raw, dialect) + "\n"
    mart = graph.marts[name]
    counts = _privacy_counts(graph, mart.metrics)
    dims = mart_dims(graph, plan, name)
    table = suppression_table(graph, plan)
    keys = ["period_start" if g.startswith(TIME_ENTITY) else dimension_column(g) for g in mart.group_by]
    hidden = f"COALESCE({SUPPRESSION_ALIAS}.is_suppressed, TRUE)"
    values = [
        f"CASE WHEN {hidden} THEN NULL ELSE unsuppressed.{quoted_name(m)} END AS {quoted_name(m)}"
        if m in counts or m in counts.values()
        else f"unsuppressed.{quoted_name(m)}"
        for m in mart.metrics
    ]
    present = tuple(dimension_column(d) for d in dims)
    columns = [f"unsuppressed.{quoted_name(k)}" for k in keys] + values
    text = (
        f"SELECT {', '.join(columns)}, {hidden} AS is_suppressed"
        f" FROM {dbt_ref_relation(name + UNSUPPRESSED_SUFFIX).sql()} AS unsuppressed"
        f" LEFT JOIN {dbt_ref_relation(SUPPRESSION_MODEL).sql()} AS {SUPPRESSION_ALIAS}"
        f" ON {member_join(table, 'unsuppressed', dimension_set_label(dims), present)}"
    )
    if incremental:
        text += f" WHERE unsuppressed.period_start >= {PRIVACY_WINDOW_START.placeholder}"
        config = incremental_config(("period_start",), MART_SCHEMA, **window)
    else:
        config = "{{ config(schema='" + MART_SCHEMA + "') }}\n"
    tree = sqlglot.parse_one(text, read="duckdb")
    return raw_text, header(origin.file.name) + config + to_dbt_sql(tree, dialect) + "\n"


def suppression_table(graph: SemanticGraph, plan: PrivacyPlan) -> SuppressionTable:
    """The plan's axes in kpi_values terms."""
    axes = plan.axes
    inner = (dimension_set_label(axes),) if len(axes) == 2 else ()
    return SuppressionTable(
        columns=tuple(dimension_column(a) for a in axes),
        row_sets=(dimension_set_label(axes[:1]), *inner) if axes else (),
        col_sets=(dimension_set_label(axes[1:]), *inner) if len(axes) == 2 else (),
        inner_published=bool(inner) and any(mart_dims(graph, plan, m) == axes for m in plan.marts),
    )
