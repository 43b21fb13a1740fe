"""`kpiflow compile`: the SQL of the generated dbt models, and `generate`, which lists every file compile writes.

One model per KPI holds its values at every grain, overall and by each natural dimension, in the long `kpi_values`
shape; `kpi_values` unions them; `kpi_catalog` carries the metadata. The wide marts are in mart_models.py, the docs
YAML in dbt_docs.py, shared names and configs in model_names.py, and writing the files in output_files.py.
Output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

from kpiflow.compiler.combined_models import (
    CombinedInput,
    CombinedPlan,
    breakdowns_of,
    combined_query,
    input_metric,
    plan_combined,
)
from kpiflow.compiler.conversion_models import ConversionRead, conversion_query, conversion_read
from kpiflow.compiler.cumulative_models import ToDateRead, to_date_query, to_date_read
from kpiflow.compiler.dbt_docs import docs_yaml
from kpiflow.compiler.entity_events import KpiShape
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.issues import Location, SpecInvalid, ValidationIssue
from kpiflow.compiler.mart_models import mart_dims, mart_model, private_mart_models, suppression_table
from kpiflow.compiler.measure_models import MeasureModels, SimpleRead, simple_query
from kpiflow.compiler.model_names import (
    FULL_REBUILD_CONFIG,
    MART_SCHEMA,
    METRIC_VALUES,
    PER_ROW_GRAIN,
    PERIOD_KEY,
    PRIVACY_WINDOW_START,
    UNSUPPRESSED_SUFFIX,
    WINDOW_START,
    dimension_column,
    dimension_set_label,
    full_rebuild_config,
    header,
    in_list,
    incremental_config,
    kpi_metrics,
    quoted_name,
    unordered,
    value_columns,
    window_floor,
    window_safe,
)
from kpiflow.compiler.output_files import GeneratedFile
from kpiflow.compiler.period_measures import PeriodMeasures
from kpiflow.compiler.plan import QueryError, QueryRequest
from kpiflow.compiler.privacy import (
    SUPPRESSION_ALIAS,
    SUPPRESSION_MODEL,
    PrivacyPlan,
    SuppressionTable,
    cells_sql,
    member_join,
    privacy_plan,
    sliced_hidden_sql,
    suppression_sql,
    year_start,
)
from kpiflow.compiler.retention_models import (
    RetentionRead,
    activity_model,
    activity_query,
    retention_query,
    retention_read,
)
from kpiflow.compiler.rollups import RollupCatalog
from kpiflow.compiler.spec import MetricSpec
from kpiflow.compiler.sqltext import build_query, dbt_ref_relation, to_dbt_sql, to_sql
from kpiflow.compiler.sqltypes import BIGINT, DOUBLE, VARCHAR
from kpiflow.compiler.sqltypes import adopting_select as _select


def _kpi_select(
    graph: SemanticGraph,
    metric: MetricSpec,
    grain: str,
    dims: tuple[str, ...],
    columns: list[str],
    rollups: RollupCatalog | None = None,
    count_metric: str | None = None,
) -> exp.Select:
    """One grain and breakdown of a metric, unsuppressed; `count_metric` adds the people each cell covers
    (`population`, read by privacy_suppression; kpi_values hides the values it decides)."""
    time_name = f"{TIME_ENTITY}__{grain}"
    wanted = (metric.name,) + ((count_metric,) if count_metric and count_metric != metric.name else ())
    request = QueryRequest(wanted, (time_name, *dims), start=WINDOW_START)
    inner = unordered(build_query(graph, request, dbt_ref_relation, rollups))
    by_column = {dimension_column(d): d for d in dims}
    value: exp.Expression = exp.column(metric.name, METRIC_VALUES)  # its own type: kpi_values casts it (_values_model)
    population: exp.Expression = exp.cast(exp.null(), BIGINT)
    if count_metric:
        population = exp.cast(
            exp.Coalesce(this=exp.column(count_metric, METRIC_VALUES), expressions=[exp.Literal.number(0)]), BIGINT
        )
    select = _select(
        exp.alias_(exp.Literal.string(metric.name), "kpi", copy=False),
        exp.alias_(exp.Literal.string(grain), "grain", copy=False),
        exp.alias_(exp.column(time_name, METRIC_VALUES), "period_start", copy=False),
        exp.alias_(exp.Literal.string(dimension_set_label(dims)), "dimension_set", copy=False),
    )
    for column in columns:
        source = exp.column(by_column[column], METRIC_VALUES) if column in by_column else exp.cast(exp.null(), VARCHAR)
        select = select.select(exp.alias_(source, column, copy=False), copy=False)
    select = select.select(
        exp.alias_(value, "value", copy=False), exp.alias_(population, "population", copy=False), copy=False
    )
    return select.from_(inner.subquery(METRIC_VALUES), copy=False)


def _kpi_model(
    graph: SemanticGraph,
    metric: MetricSpec,
    columns: list[str],
    dialect: str,
    rebuilt: frozenset[str],
    rollups: RollupCatalog | None = None,
    count_metric: str | None = None,
    shape: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None = None,
) -> tuple[str, bool]:
    """The model text of a KPI (or, with `shape` = (grains, breakdowns), of a metric a thin ratio reads), and
    whether it is incremental (False when it reads a model rebuilt in full nightly)."""
    grains, breakdowns = shape or (metric.kpi.grains, breakdowns_of(metric))  # type: ignore[union-attr]
    parts: list[exp.Select] = []
    for grain in grains:
        for dims in breakdowns:
            try:
                parts.append(_kpi_select(graph, metric, grain, dims, columns, rollups, count_metric))
            except QueryError as exc:
                origin = graph.origins[f"metric:{metric.name}"]
                raise SpecInvalid(
                    [
                        ValidationIssue(
                            Location(origin.file, origin.line, f"{origin.field}{'.kpi' if metric.kpi else ''}"),
                            f"cannot compute '{metric.name}' by {grain} {'/'.join(dims) or 'overall'}: {exc}",
                        )
                    ]
                ) from None
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False, copy=False)
    origin = graph.origins[f"metric:{metric.name}"]
    incremental = window_safe(union, rebuilt)
    config = (
        incremental_config(PERIOD_KEY, window_column="period_start", window_grain=PER_ROW_GRAIN)
        if incremental
        else FULL_REBUILD_CONFIG
    )
    return header(origin.file.name) + config + to_dbt_sql(union, dialect) + "\n", incremental


def _catalog_model(graph: SemanticGraph, dialect: str) -> str:
    rows = []
    for metric in kpi_metrics(graph):
        kpi = metric.kpi
        assert kpi is not None
        values = [
            metric.name,
            metric.label,
            metric.description.strip(),
            metric.type,
            kpi.unit,
            kpi.format or "",
            kpi.direction,
            kpi.owner,
            kpi.perspective,
            kpi.level,
            ",".join(kpi.natural_dimensions),
        ]
        row = [exp.Literal.string(v) for v in values]
        row += [
            exp.cast(exp.Literal.number(b), DOUBLE) if b is not None else exp.cast(exp.null(), DOUBLE)
            for b in (kpi.band or (None, None))
        ]
        rows.append(exp.Tuple(expressions=row))
    names = [
        "kpi",
        "label",
        "description",
        "metric_type",
        "unit",
        "format",
        "direction",
        "owner",
        "perspective",
        "level",
        "natural_dimensions",
        "band_low",
        "band_high",
    ]
    catalog = "catalog_rows"
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(this=exp.to_identifier(catalog), columns=[exp.to_identifier(n) for n in names]),
    )
    select = _select(*(exp.column(n, catalog) for n in names)).from_(values, copy=False)
    config = "{{ config(schema='" + MART_SCHEMA + "') }}\n"
    return header("metrics/*.yml") + config + to_dbt_sql(select, dialect) + "\n"


def _suppression_model(graph: SemanticGraph, plan: PrivacyPlan, dialect: str) -> str:
    """privacy_suppression: the one place deciding which people cells are hidden, per year (privacy.py)."""
    table = suppression_table(graph, plan)
    cells = [cells_sql(table, f"kpi__{name}", None, table.columns) for name in plan.exact]
    for name in plan.marts:
        dims = mart_dims(graph, plan, name)
        present = tuple(dimension_column(d) for d in dims)
        grain = next(g for g in graph.marts[name].group_by if g.startswith(TIME_ENTITY)).split("__")[1]
        cells.append(cells_sql(table, name + UNSUPPRESSED_SUFFIX, dimension_set_label(dims), present, grain))
    tree = sqlglot.parse_one(suppression_sql(table, cells), read="duckdb")
    config = incremental_config(("year_start",), window_column="year_start", window_grain="year")
    return header("metrics/*.yml") + config + to_dbt_sql(tree, dialect) + "\n"


# The union of the KPI models inside kpi_values.
KPI_ROWS = "kpi_rows"


def _values_model(
    metrics: list[MetricSpec],
    columns: list[str],
    dialect: str,
    rebuilt_kpis: set[str],
    plan: PrivacyPlan,
    table: SuppressionTable,
) -> str:
    """The union of every per-KPI model, keeping the periods this run recomputed: from the window's floor at each
    grain, every period of a KPI rebuilt in full (any period may have changed), and for people KPIs every period
    of the window's year (their suppression is decided per year). People cells privacy_suppression hides lose
    their value; a year or member it has no row for covers nobody and is hidden too. A KPI model keeps its value's
    and members' own types (a wide mart reads them as they are): each is cast here, members to text and the value to
    DOUBLE, the types of kpi_values."""
    union: exp.Query = _long_part(metrics[0], columns)
    for metric in metrics[1:]:
        union = exp.union(union, _long_part(metric, columns), distinct=False, copy=False)
    recomputed: exp.Expression = exp.GTE(
        this=exp.column("period_start", KPI_ROWS), expression=window_floor(exp.column("grain", KPI_ROWS))
    )
    if rebuilt_kpis:
        rebuilt = exp.In(
            this=exp.column("kpi", KPI_ROWS), expressions=[exp.Literal.string(n) for n in sorted(rebuilt_kpis)]
        )
        recomputed = exp.or_(rebuilt, recomputed, copy=False)
    conditions = [to_sql(recomputed, "duckdb")]
    suppressed = "FALSE"
    joins = ""
    if plan.kpis:
        private = in_list(plan.kpis)
        conditions.append(
            f"({KPI_ROWS}.kpi IN ({private}) AND {KPI_ROWS}.period_start >= {PRIVACY_WINDOW_START.placeholder})"
        )
        cases = []
        if plan.exact:
            joins += (
                f" LEFT JOIN {dbt_ref_relation(SUPPRESSION_MODEL).sql()} AS {SUPPRESSION_ALIAS}"
                f" ON {KPI_ROWS}.kpi IN ({in_list(plan.exact)}) AND {member_join(table, KPI_ROWS, None)}"
            )
            cases.append(
                f"WHEN {KPI_ROWS}.kpi IN ({in_list(plan.exact)}) THEN COALESCE({SUPPRESSION_ALIAS}.is_suppressed, TRUE)"
            )
        if plan.blanket:
            joins += (
                " LEFT JOIN (SELECT year_start, MAX(CASE WHEN is_suppressed THEN 1 ELSE 0 END) AS hidden"
                f" FROM {dbt_ref_relation(SUPPRESSION_MODEL).sql()} GROUP BY year_start) AS hidden_years"
                f" ON {KPI_ROWS}.kpi IN ({in_list(plan.blanket)})"
                f" AND hidden_years.year_start = {year_start(f'{KPI_ROWS}.period_start')}"
            )
            cases.append(
                f"WHEN {KPI_ROWS}.kpi IN ({in_list(plan.blanket)}) THEN COALESCE(hidden_years.hidden = 1, TRUE)"
            )
        for part in plan.sliced:
            labels = tuple(dimension_set_label((d,)) for d in part.attributes)
            hidden = sliced_hidden_sql(table, part, labels, KPI_ROWS, dbt_ref_relation(SUPPRESSION_MODEL).sql())
            cases.append(f"WHEN {KPI_ROWS}.kpi = {in_list((part.kpi,))} THEN {hidden}")
        suppressed = f"CASE {' '.join(cases)} ELSE FALSE END"
    keys = ", ".join(
        f"{KPI_ROWS}.{quoted_name(c)}" for c in ("kpi", "grain", "period_start", "dimension_set", *columns)
    )
    text = (
        f"SELECT {keys}, CASE WHEN {suppressed} THEN NULL ELSE {KPI_ROWS}.value END AS value,"
        f" {suppressed} AS is_suppressed FROM ({to_sql(union, 'duckdb')}) AS {KPI_ROWS}{joins}"
        f" WHERE {' OR '.join(conditions)}"
    )
    config = incremental_config(
        PERIOD_KEY,
        MART_SCHEMA,
        window_column="period_start",
        window_grain=PER_ROW_GRAIN,
        rebuilt_kpis=tuple(sorted(rebuilt_kpis)),
    )
    tree = sqlglot.parse_one(text, read="duckdb")
    return header("metrics/*.yml") + config + to_dbt_sql(tree, dialect) + "\n"


def _long_part(metric: MetricSpec, columns: list[str]) -> exp.Select:
    """A KPI model's rows in kpi_values' types: its members as text (the other member columns are NULL text
    already), its value as DOUBLE."""
    assert metric.kpi is not None
    own = {dimension_column(d) for d in metric.kpi.natural_dimensions}
    return _select(
        *PERIOD_KEY,
        "dimension_set",
        *(exp.alias_(exp.cast(exp.column(c), VARCHAR), c, copy=False) if c in own else c for c in columns),
        exp.alias_(exp.cast(exp.column("value"), DOUBLE), "value", copy=False),
        "population",
    ).from_(dbt_ref_relation(f"kpi__{metric.name}"), copy=False)


def generate(
    graph: SemanticGraph, generated_dir: Path, dialect: str = "duckdb", rebuilt: frozenset[str] = frozenset()
) -> list[GeneratedFile]:
    """Every generated file. `rebuilt`: dbt models rebuilt in full nightly (seed-fed, see lineage.py); a model
    reading one is a table, the others are incremental."""
    columns = value_columns(graph)
    metrics = kpi_metrics(graph)
    plan = privacy_plan(graph, metrics)
    table = suppression_table(graph, plan)
    rollups = RollupCatalog(graph, rebuilt)
    measures = MeasureModels(graph, rollups, PeriodMeasures(graph, rollups))
    simple = _simple_reads(graph, metrics, measures, plan)
    counted = tuple(name for name in simple if name in plan.exact)
    ratios = plan_combined(
        graph, metrics, plan.exact, plan.count_metric, counted, lambda m, *shape: measures.read(m, *shape) is not None
    )
    files, rebuilt_kpis, full_models, activities = [], set(), set(), []
    for name, model in ratios.input_models.items():
        shape = (model.grains, model.breakdowns)
        metric_spec = input_metric(graph, model)
        read = measures.read(metric_spec, *shape)
        assert read is not None or model.filter is None  # planned only where each reader's shape is held
        if read is not None:
            text = _simple_model(
                graph, metric_spec, read, model.grains, columns, dialect, rebuilt=measures.rebuilt(read.model)
            )
            incremental = not measures.rebuilt(read.model)
        else:
            text, incremental = _kpi_model(graph, metric_spec, columns, dialect, rebuilt, rollups, None, shape)
        files.append(GeneratedFile(generated_dir / f"{name}.sql", text))
        if not incremental:
            full_models.add(name)
    for metric in metrics:
        if metric.name in ratios.thin:
            continue
        count_metric = plan.count_metric if metric.name in plan.exact else None
        read = simple.get(metric.name)
        population = ratios.populations.get(metric.name)
        if population is not None and population.model in full_models:  # its periods may all change: from the facts
            read = None
        grains = tuple(metric.kpi.grains)  # type: ignore[union-attr]
        to_date = None if count_metric else to_date_read(graph, rollups, metric, grains, breakdowns_of(metric))
        events = None
        if count_metric is None:
            events = conversion_read(graph, rollups, metric, breakdowns_of(metric)) or retention_read(
                rollups, metric, breakdowns_of(metric)
            )
        if read is not None:
            incremental = not measures.rebuilt(read.model)
            grains = tuple(metric.kpi.grains)  # type: ignore[union-attr]
            text = _simple_model(graph, metric, read, grains, columns, dialect, population, rebuilt=not incremental)
        elif to_date is not None:
            text, incremental = _to_date_model(graph, metric, to_date, columns, dialect), True
        elif events is not None:
            text, incremental = _one_model_kpi(graph, metric, rollups, events, columns, dialect), True
            if isinstance(events, RetentionRead):
                activity = _activity_model(graph, metric, rollups, events, dialect)
                files.append(GeneratedFile(generated_dir / f"{activity_model(events)}.sql", activity))
                activities.append(events)
        else:
            text, incremental = _kpi_model(graph, metric, columns, dialect, rebuilt, rollups, count_metric)
        files.append(GeneratedFile(generated_dir / f"kpi__{metric.name}.sql", text))
        if not incremental:
            rebuilt_kpis.add(metric.name)
            full_models.add(f"kpi__{metric.name}")
    for name in ratios.thin:  # inputs before the KPIs reading them
        text, incremental = _combined_model(graph, graph.metrics[name], ratios, columns, dialect, full_models)
        files.append(GeneratedFile(generated_dir / f"kpi__{name}.sql", text))
        if not incremental:
            rebuilt_kpis.add(name)
            full_models.add(f"kpi__{name}")
    files.sort(key=lambda file: file.path.name)
    if metrics:
        values = _values_model(metrics, columns, dialect, rebuilt_kpis, plan, table)
        files.append(GeneratedFile(generated_dir / "kpi_values.sql", values))
        files.append(GeneratedFile(generated_dir / "kpi_catalog.sql", _catalog_model(graph, dialect)))
    if plan.kpis:
        files.append(
            GeneratedFile(generated_dir / f"{SUPPRESSION_MODEL}.sql", _suppression_model(graph, plan, dialect))
        )
    mart_rebuilt = rebuilt | frozenset(full_models)  # a mart reading a KPI model rebuilt in full is too
    for name in sorted(graph.marts):
        if name in plan.marts:
            raw, published = private_mart_models(graph, name, plan, dialect, mart_rebuilt, rollups)
            files.append(GeneratedFile(generated_dir / f"{name}{UNSUPPRESSED_SUFFIX}.sql", raw))
            files.append(GeneratedFile(generated_dir / f"{name}.sql", published))
        else:
            files.append(
                GeneratedFile(
                    generated_dir / f"{name}.sql", mart_model(graph, name, dialect, mart_rebuilt, rollups, plan.kpis)
                )
            )
    files += [
        GeneratedFile(generated_dir / f"{name}.sql", _measures_model(measures, name, dialect))
        for name in measures.names()
    ]
    files += [
        GeneratedFile(generated_dir / f"{name}.sql", _rollup_model(rollups, name, dialect)) for name in rollups.names()
    ]
    docs = docs_yaml(graph, columns, plan, rollups, ratios, measures, activities)
    files.append(GeneratedFile(generated_dir / "_generated.yml", docs))
    return files


def _combined_model(
    graph: SemanticGraph,
    metric: MetricSpec,
    ratios: CombinedPlan,
    columns: list[str],
    dialect: str,
    full_models: set[str],
) -> tuple[str, bool]:
    """A ratio or derived KPI joining its inputs' models (combined_models.py): incremental unless it reads a model
    rebuilt in full nightly."""
    assert metric.kpi is not None
    combined = ratios.thin[metric.name]
    incremental = not ({item.model for item in combined.reads} & full_models)
    labels = [dimension_set_label(dims) for dims in breakdowns_of(metric)]
    floor = window_floor(exp.column("grain"), metric.kpi.grains) if incremental else None
    own = [c for c in columns if c in {dimension_column(d) for d in metric.kpi.natural_dimensions}]
    query = combined_query(combined, tuple(metric.kpi.grains), labels, columns, own, floor)
    config = (
        incremental_config(PERIOD_KEY, window_column="period_start", window_grain=PER_ROW_GRAIN)
        if incremental
        else FULL_REBUILD_CONFIG
    )
    origin = graph.origins[f"metric:{metric.name}"]
    return header(origin.file.name) + config + to_dbt_sql(query, dialect) + "\n", incremental


def _simple_reads(
    graph: SemanticGraph, metrics: list[MetricSpec], measures: MeasureModels, plan: PrivacyPlan
) -> dict[str, SimpleRead]:
    """The simple KPIs read from their source's measures model. A people KPI also reads its count metric's model,
    which must hold its grains and breakdowns: a `metric__` model (planned for it), or the count's KPI if published
    at them; a KPI counting its own people is computed as before."""
    kpis = {m.name: m for m in metrics}
    reads = {}
    for metric in metrics:
        assert metric.kpi is not None
        if metric.name in plan.exact:
            count = kpis.get(plan.count_metric or "")
            if plan.count_metric in (None, metric.name) or (count is not None and not _publishes(count, metric)):
                continue
        read = measures.read(metric, tuple(metric.kpi.grains), breakdowns_of(metric))
        if read is not None:
            reads[metric.name] = read
    return reads


def _publishes(kpi: MetricSpec, reader: MetricSpec) -> bool:
    """Does `kpi`'s model hold every grain and breakdown of `reader`?"""
    assert kpi.kpi is not None and reader.kpi is not None
    dims = set(reader.kpi.natural_dimensions) <= set(kpi.kpi.natural_dimensions)
    return dims and set(reader.kpi.grains) <= set(kpi.kpi.grains)


def _simple_model(
    graph: SemanticGraph,
    metric: MetricSpec,
    read: SimpleRead,
    grains: tuple[str, ...],
    columns: list[str],
    dialect: str,
    population: CombinedInput | None = None,
    *,
    rebuilt: bool = False,
) -> str:
    """A simple KPI (or a `metric__` input) picking its measure's column from its source's measures model
    (measure_models.py), with the people each cell covers for a people KPI; incremental like the models it reads
    (`rebuilt`: a table, over a measures model rebuilt in full nightly)."""
    labels, column_of = _labels(read.sets)
    floor = window_floor(exp.column("grain"), grains)
    query = simple_query(read, grains, labels, columns, column_of, floor, population, graph.time_spine)
    if rebuilt:
        origin = graph.origins[f"metric:{metric.name}"]
        return header(origin.file.name) + FULL_REBUILD_CONFIG + to_dbt_sql(query, dialect) + "\n"
    return _incremental_kpi_text(graph, metric, query, dialect)


def _labels(sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> tuple[dict[str, str], dict[str, str]]:
    """A one-model KPI's breakdown labels (rollup label -> kpi_values' dimension_set) and member columns (group-by
    name -> kpi_values column)."""
    labels = {label: dimension_set_label(tuple(n for n, _ in dims)) for label, dims in sets}
    return labels, {n: dimension_column(n) for _, dims in sets for n, _ in dims}


def _incremental_kpi_text(graph: SemanticGraph, metric: MetricSpec, query: exp.Query, dialect: str) -> str:
    config = incremental_config(PERIOD_KEY, window_column="period_start", window_grain=PER_ROW_GRAIN)
    return _metric_model_text(graph, metric, config, query, dialect)


def _metric_model_text(graph: SemanticGraph, metric: MetricSpec, config: str, query: exp.Query, dialect: str) -> str:
    """A model written from one metric: the header naming its YAML file, the dbt config, the SQL."""
    origin = graph.origins[f"metric:{metric.name}"]
    return header(origin.file.name) + config + to_dbt_sql(query, dialect) + "\n"


def _per_period_table_config() -> str:
    """An intermediate table keyed by (grain, period_start), incremental by each row's grain: measures and activity
    models."""
    return incremental_config(
        ("grain", "period_start"), "intermediate", window_column="period_start", window_grain=PER_ROW_GRAIN
    )


def _events_shape(metric: MetricSpec, read: ConversionRead | RetentionRead, columns: list[str]) -> KpiShape:
    """The grains and breakdowns a conversion or retention metric's models are written for."""
    assert metric.kpi is not None
    labels, column_of = _labels(read.sets)
    return KpiShape(tuple(metric.kpi.grains), labels, columns, column_of, dbt_ref_relation, WINDOW_START)


def _to_date_model(graph: SemanticGraph, metric: MetricSpec, read: ToDateRead, columns: list[str], dialect: str) -> str:
    """A grain-to-date KPI as one model over its measure's daily rollup (cumulative_models.py): incremental."""
    assert metric.kpi is not None
    labels, column_of = _labels(read.sets)
    floor = window_floor(exp.column("grain"), metric.kpi.grains)
    query = to_date_query(
        read, tuple(metric.kpi.grains), labels, columns, column_of, WINDOW_START, floor, graph.time_spine
    )
    return _incremental_kpi_text(graph, metric, query, dialect)


def _one_model_kpi(
    graph: SemanticGraph,
    metric: MetricSpec,
    rollups: RollupCatalog,
    read: ConversionRead | RetentionRead,
    columns: list[str],
    dialect: str,
) -> str:
    """A conversion or retention KPI as one model over its events for all grains and breakdowns
    (conversion_models.py, retention_models.py): incremental."""
    shape = _events_shape(metric, read, columns)
    if isinstance(read, ConversionRead):
        query = conversion_query(graph, rollups, read, shape)
    else:
        query = retention_query(read, shape)
    return _incremental_kpi_text(graph, metric, query, dialect)


def _activity_model(
    graph: SemanticGraph, metric: MetricSpec, rollups: RollupCatalog, read: RetentionRead, dialect: str
) -> str:
    """A retention KPI's active entities per period (retention_models.py): incremental by period, in the
    intermediate schema, so a night recomputes only the periods its window touches."""
    query = activity_query(graph, rollups, read, _events_shape(metric, read, []))
    return _metric_model_text(graph, metric, _per_period_table_config(), query, dialect)


def _measures_model(measures: MeasureModels, name: str, dialect: str) -> str:
    """A source's measures at every period (measure_models.py): incremental by period, in the intermediate schema."""
    rollup, _, _, _ = measures.describe(name)
    query = measures.model_query(name, dbt_ref_relation, WINDOW_START)
    config = _per_period_table_config()
    if measures.rebuilt(name):  # over a seed-fed source: every period may change
        config = full_rebuild_config("intermediate")
    return header(f"metrics/*.yml ({rollup})") + config + to_dbt_sql(query, dialect) + "\n"


def _rollup_model(rollups: RollupCatalog, name: str, dialect: str) -> str:
    """A daily rollup (rollups.py): incremental by day, in the intermediate schema."""
    model, _, _ = rollups.describe(name)
    query = rollups.model_query(name, dbt_ref_relation, WINDOW_START)
    config = incremental_config(("__day",), "intermediate", window_column="__day")
    source = f"metrics/*.yml (semantic model {model.name})"
    return header(source) + config + to_dbt_sql(query, dialect) + "\n"
