"""SQL the gate runs, as sqlglot trees built from declarations (the only kpiflow.quality module importing sqlglot).

One predicate per row-level check says "this row fails". The same predicate feeds Great Expectations
(`UnexpectedRowsExpectation` queries), the example-key lookup and the quarantine move, so what the report counts
is exactly what quarantine moves.

Templates and declared rule conditions are written in DuckDB's dialect (`WRITTEN_IN`); every query is a tree that
is rendered in the warehouse's dialect (`Context.dialect`, or quality.warehouse for the gate's own reads), so the
same checks run on DuckDB and PostgreSQL. Where sqlglot has no translation (DuckDB's `mad` aggregate, `group by
all`) the templates use portable SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import singledispatch

import sqlglot
from sqlglot import exp

from kpiflow.quality import specs as s

WRITTEN_IN = "duckdb"  # the dialect of the templates below, of rule conditions and of staging SQL
ROW = "t"  # alias of the checked table in every query
PARENT = "p"
_BATCH_PLACEHOLDER = "kpiflow_ge_batch"
_SOURCE_CALL = re.compile(r"\{\{\s*source\(\s*'(\w+)'\s*,\s*'(\w+)'\s*\)\s*\}\}")  # dbt's {{ source('raw', 'orders') }}
_OPS: dict[str, type[exp.Binary]] = {">=": exp.GTE, ">": exp.GT, "<=": exp.LTE, "<": exp.LT}


def table(schema: str, name: str, alias: str | None = None) -> exp.Table:
    return exp.table_(name, db=schema, alias=alias)


def col(name: str, alias: str = ROW) -> exp.Column:
    return exp.column(name, table=alias, quoted=True)


def literal(value: object) -> exp.Expression:
    """A SQL literal for a declared value (text, number, bool, date)."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | Decimal | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    return exp.Literal.string(str(value))


def _compare(op: str, left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return _OPS[op](this=left, expression=right)


def _not_null(*columns: exp.Expression) -> exp.Expression:
    return exp.and_(*(exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in columns))


def _qualified_condition(text: str) -> exp.Expression:
    """A declared rule condition with every column bound to the checked row (parsed, never pasted)."""
    tree = sqlglot.parse_one(text, read=WRITTEN_IN)
    return tree.transform(lambda node: col(node.name) if isinstance(node, exp.Column) else node)


def now_utc() -> datetime:
    """The moment a check runs, as a naive UTC timestamp (raw timestamps carry no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Context:
    """What predicates depend on besides the check: where raw tables live and the run's dates."""

    schema: str
    run_date: date
    founded_on: date
    # An incremental run's first day, and table -> date column: row checks of those tables judge only the rows
    # from that day on (earlier rows were judged by the runs that brought them). None: every row.
    window_start: date | None = None
    window_columns: tuple[tuple[str, str], ...] = ()
    # "In the future" means after this moment: when the check runs plus the clock-skew tolerance (never the run
    # date: a past day's run on a warehouse holding later days finds nothing wrong with them).
    future_after: datetime = field(default_factory=now_utc)
    dialect: str = WRITTEN_IN  # the warehouse's SQL dialect (sqlglot's name): what GE's query text is rendered in

    def day_after_run(self) -> exp.Expression:
        return literal(self.run_date + timedelta(days=1))

    def window_column(self, table_name: str) -> str | None:
        """The date column limiting row checks of `table_name` in this run, or None (every row is judged)."""
        return dict(self.window_columns).get(table_name)

    def window(self, table_name: str, *, through_run_date: bool = True) -> exp.Expression | None:
        """Rows of a dated table this run judges: dated from the window start (incremental runs) through the run
        date (DECISIONS rule 22: later rows do not count in this run, they are judged by the runs for their
        days). None for a table without a window column. `through_run_date=False` drops the upper bound."""
        column = self.window_column(table_name)
        if column is None:
            return None
        bounds = []
        if self.window_start is not None:
            bounds.append(_compare(">=", col(column), literal(self.window_start)))
        if through_run_date:
            bounds.append(_compare("<", col(column), self.day_after_run()))
        return exp.and_(*bounds) if bounds else None


@singledispatch
def failing_rows(check: s.CheckSpec, ctx: Context) -> exp.Expression:
    """Predicate over alias `t` that is TRUE exactly for the rows failing a row-level check."""
    raise TypeError(f"{type(check).__name__} does not judge single rows")


@failing_rows.register
def _(check: s.NotNull, ctx: Context) -> exp.Expression:
    return exp.Is(this=col(check.target), expression=exp.Null())


@failing_rows.register
def _(check: s.AcceptedValues, ctx: Context) -> exp.Expression:
    allowed = exp.In(this=col(check.target), expressions=[literal(v) for v in check.values])
    return exp.and_(_not_null(col(check.target)), exp.Not(this=allowed))


@failing_rows.register
def _(check: s.Range, ctx: Context) -> exp.Expression:
    bounds: list[exp.Expression] = []
    if check.minimum is not None:
        bounds.append(_compare(">" if check.min_exclusive else ">=", col(check.target), literal(check.minimum)))
    if check.maximum is not None:
        bounds.append(_compare("<" if check.max_exclusive else "<=", col(check.target), literal(check.maximum)))
    return exp.and_(_not_null(col(check.target)), exp.Not(this=exp.paren(exp.and_(*bounds))))


@failing_rows.register
def _(check: s.DateBound, ctx: Context) -> exp.Expression:
    if check.latest:
        limit = ctx.future_after if check.is_timestamp else ctx.future_after.date()
        bad = _compare(">", col(check.target), literal(limit))
    else:
        bad = _compare("<", col(check.target), literal(ctx.founded_on))
    return exp.and_(_not_null(col(check.target)), bad)


@failing_rows.register
def _(check: s.Compare, ctx: Context) -> exp.Expression:
    holds = _compare(check.op, col(check.target), col(check.other))
    return exp.and_(_not_null(col(check.target), col(check.other)), exp.Not(this=exp.paren(holds)))


@failing_rows.register
def _(check: s.Rule, ctx: Context) -> exp.Expression:
    return exp.Not(this=exp.paren(_qualified_condition(check.condition)))


@failing_rows.register
def _(check: s.References, ctx: Context) -> exp.Expression:
    matches = exp.and_(
        *(
            exp.EQ(this=col(pc, PARENT), expression=col(c))
            for c, pc in zip(check.columns, check.parent_columns, strict=True)
        )
    )
    parent_row = exp.select(exp.Literal.number(1)).from_(table(ctx.schema, check.parent, PARENT)).where(matches)
    return exp.and_(_not_null(*(col(c) for c in check.columns)), exp.Not(this=exp.Exists(this=parent_row)))


@failing_rows.register
def _(check: s.CompareParent, ctx: Context) -> exp.Expression:
    joined = exp.and_(*(exp.EQ(this=col(c, PARENT), expression=col(c)) for c in check.on))
    holds = _compare(check.op, col(check.target), col(check.parent_column, PARENT))
    violating = exp.and_(joined, exp.Not(this=exp.paren(holds)))
    parent_row = exp.select(exp.Literal.number(1)).from_(table(ctx.schema, check.parent, PARENT)).where(violating)
    return exp.Exists(this=parent_row)


def is_future_check(check: s.CheckSpec) -> bool:
    """Future rows lie after the run date by definition, so this check alone also judges rows after it."""
    return isinstance(check, s.DateBound) and check.latest


def failing_in_window(check: s.CheckSpec, ctx: Context) -> exp.Expression:
    """`failing_rows`, limited to the run's window for a windowed table (see Context.window)."""
    window = ctx.window(check.table, through_run_date=not is_future_check(check))
    failing = failing_rows(check, ctx)
    return failing if window is None else exp.and_(window, exp.paren(failing))


def _missing_run_date(check: s.Freshness, ctx: Context, source: exp.Expression) -> exp.Select:
    on_run_date = exp.and_(
        _compare(">=", col(check.target), literal(ctx.run_date)), _compare("<", col(check.target), ctx.day_after_run())
    )
    arrived = exp.select(exp.Literal.number(1)).from_(source).where(on_run_date)
    return exp.select(literal(ctx.run_date).as_("missing_date")).where(exp.Not(this=exp.Exists(this=arrived)))


def _fill(template: exp.Expression, **values: exp.Expression) -> exp.Expression:
    """A parsed SQL template with each `:name` placeholder replaced by a copy of its value (never by text)."""

    def replace(node: exp.Expression) -> exp.Expression:
        return values[node.name].copy() if isinstance(node, exp.Placeholder) else node

    return template.copy().transform(replace)


def _number(value: Decimal | int) -> exp.Expression:
    return exp.Literal.number(value)


_BOUNDS_FROM_STATS = """
    select history_rows, median_value, mad_value, low_quantile, high_quantile,
        least(median_value - :deviations * 1.4826 * mad_value,
              low_quantile - (:factor - 1) * abs(low_quantile)) as lower_bound,
        greatest(median_value + :deviations * 1.4826 * mad_value,
                 high_quantile + (:factor - 1) * abs(high_quantile)) as upper_bound
    from ({stats}) as stats
"""
# DuckDB has a MAD aggregate: one pass over the history.
_STATS_WITH_MAD = """
    select count(:value) as history_rows,
        median(cast(:value as double)) as median_value,
        mad(cast(:value as double)) as mad_value,
        quantile_cont(cast(:value as double), 0.001) as low_quantile,
        quantile_cont(cast(:value as double), 0.999) as high_quantile
    from :history
    where :in_history
"""
# Elsewhere the MAD is the median of the distances to a median taken first (the same number, two passes).
_STATS_PORTABLE = """
    select count(v.x) as history_rows,
        median(v.x) as median_value,
        median(abs(v.x - c.center)) as mad_value,
        quantile_cont(v.x, 0.001) as low_quantile,
        quantile_cont(v.x, 0.999) as high_quantile
    from (select cast(:value as double) as x from :history where :in_history) as v,
        (select median(cast(:value as double)) as center from :history where :in_history) as c
"""
_MAD_DIALECTS = frozenset({"duckdb"})
_PLAUSIBLE_BOUNDS = {
    with_mad: sqlglot.parse_one(
        _BOUNDS_FROM_STATS.format(stats=_STATS_WITH_MAD if with_mad else _STATS_PORTABLE), read=WRITTEN_IN
    )
    for with_mad in (True, False)
}
_OUTSIDE_BOUNDS = sqlglot.parse_one(
    "b.history_rows >= :min_history and (:value > b.upper_bound or :value < b.lower_bound)", read=WRITTEN_IN
)
HISTORY = "h"


def plausible_history(check: s.Plausible, ctx: Context) -> tuple[date, date] | None:
    """[first, end) days of the history the bounds are learned from: the trailing days before the judged rows
    (the window's start in an incremental run, else the day after the run date); None: the whole table."""
    if check.date_column is None:
        return None
    windowed = ctx.window_start is not None and ctx.window_column(check.table) is not None
    end = ctx.window_start if windowed and ctx.window_start is not None else ctx.run_date + timedelta(days=1)
    return end - timedelta(days=check.trailing_days), end


def plausible_bounds(check: s.Plausible, ctx: Context) -> exp.Select:
    """One row: how many history values, their median, MAD, 0.1% and 99.9% quantiles and the bounds."""
    history = plausible_history(check, ctx)
    in_history: exp.Expression = exp.true()
    if history is not None and check.date_column is not None:
        day = col(check.date_column, HISTORY)
        in_history = exp.and_(_compare(">=", day, literal(history[0])), _compare("<", day.copy(), literal(history[1])))
    tree = _fill(
        _PLAUSIBLE_BOUNDS[ctx.dialect in _MAD_DIALECTS],
        deviations=_number(check.deviations),
        factor=_number(check.factor),
        value=col(check.target, HISTORY),
        history=table(ctx.schema, check.table, HISTORY),
        in_history=in_history,
    )
    assert isinstance(tree, exp.Select)
    return tree


@failing_rows.register
def _(check: s.Plausible, ctx: Context) -> exp.Expression:
    outside = _fill(_OUTSIDE_BOUNDS, min_history=_number(check.min_history), value=col(check.target))
    bounds = exp.select(exp.Literal.number(1)).from_(plausible_bounds(check, ctx).subquery("b")).where(outside)
    return exp.Exists(this=bounds)


_DAYS_OUTSIDE_BAND = sqlglot.parse_one(
    """
    with daily as (
        select cast(:day_column as date) as day, count(*) as row_count
        from :source
        where :day_column >= :history_start and :day_column < :day_after_run
        group by cast(:day_column as date)
    ),
    calendar as (
        select cast(g.d as date) as day
        from generate_series(cast(:history_start as timestamp), cast(:run_date as timestamp), interval 1 day) as g(d)
        where cast(g.d as date) >= (select min(day) from daily)
    ),
    counts as (
        select calendar.day,
            coalesce((select daily.row_count from daily where daily.day = calendar.day), 0) as row_count
        from calendar
    ),
    judged as (
        select j.day, j.row_count, (
            select median(h.row_count) from counts as h
            where h.day < j.day and h.day >= j.day - :trailing_days
                and extract(dow from h.day) = extract(dow from j.day)
        ) as baseline
        from counts as j
        where j.day >= :judge_start
    )
    select day, row_count, baseline
    from judged
    where (baseline >= :min_average and (row_count < baseline * :min_ratio or row_count > baseline * :max_ratio))
        or (row_count = 0 and baseline >= :min_average_empty)
    order by day
    """,
    read=WRITTEN_IN,
)


def volume_judged_from(check: s.Volume, ctx: Context) -> date:
    """The first day `volume` judges: the build window's first day, else the trailing days through the run date."""
    return ctx.window_start or ctx.run_date - timedelta(days=check.trailing_days - 1)


def _volume_outside_band(check: s.Volume, ctx: Context, source: exp.Expression) -> exp.Select:
    """Each judged day whose row count is outside the band around its same-weekday median, or empty."""
    judge_start = volume_judged_from(check, ctx)
    tree = _fill(
        _DAYS_OUTSIDE_BAND,
        day_column=col(check.target),
        source=source,
        history_start=literal(judge_start - timedelta(days=check.trailing_days)),
        day_after_run=ctx.day_after_run(),
        run_date=literal(ctx.run_date),
        trailing_days=_number(check.trailing_days),
        judge_start=literal(judge_start),
        min_average=_number(check.min_average),
        min_ratio=_number(check.min_ratio),
        max_ratio=_number(check.max_ratio),
        min_average_empty=_number(check.min_average_empty),
    )
    assert isinstance(tree, exp.Select)
    return tree


def _repeated_keys(check: s.Unique, source: exp.Expression) -> exp.Select:
    """Each key value that occurs more than once, with its number of copies (one aggregation pass)."""
    key = [col(c) for c in check.columns]
    return (
        exp.select(*key, exp.Count(this=exp.Star()).as_("copies"))
        .from_(source)
        .where(_not_null(*key))
        .group_by(*(k.copy() for k in key))
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )


def check_query(check: s.CheckSpec, ctx: Context, columns: tuple[str, ...], source: exp.Expression) -> exp.Select:
    """What makes `check` fail, read from `source` (aliased `t`): `columns` of failing rows for row checks, each
    repeated key for unique, the missing date for freshness, the observed and trailing counts for volume."""
    if isinstance(check, s.Freshness):
        return _missing_run_date(check, ctx, source)
    if isinstance(check, s.Volume):
        return _volume_outside_band(check, ctx, source)
    if isinstance(check, s.Unique):
        return _repeated_keys(check, source)
    selected = [col(c) for c in columns] or [exp.Star()]
    return exp.select(*selected).from_(source).where(failing_in_window(check, ctx))


def unlisted_values_query(check: s.AcceptedValues, ctx: Context, source: exp.Expression, limit: int) -> exp.Select:
    """The values outside an accepted list with their row counts, most rows first: what a person adds or fixes."""
    value = col(check.target)
    return (
        exp.select(value.as_("value"), exp.Count(this=exp.Star()).as_("row_count"))
        .from_(source)
        .where(failing_in_window(check, ctx))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=exp.column("row_count"), desc=True), exp.column("value"))
        .limit(limit)
    )


def warehouse_source(ctx: Context, table_name: str) -> exp.Table:
    return table(ctx.schema, table_name, ROW)


def unexpected_rows_query(check: s.CheckSpec, ctx: Context, columns: tuple[str, ...]) -> str:
    """SQL text for GE's UnexpectedRowsExpectation: GE substitutes `{batch}` with the table it validates.

    The text must not say JOIN: GE then substitutes its batch as a subquery without an alias, which PostgreSQL
    refuses ("subquery in FROM must have an alias"); the templates above use comma joins and scalar subqueries."""
    # GE renders `{batch}` as a table or as an aliased subquery; wrapping it lets us alias it `t` either way.
    batch = exp.select(exp.Star()).from_(exp.table_(_BATCH_PLACEHOLDER)).subquery(ROW)
    tree = check_query(check, ctx, columns, batch)
    text = to_sql(tree, ctx.dialect).replace("{", "{{").replace("}", "}}")
    return text.replace(_BATCH_PLACEHOLDER, "{batch}")


def failing_share_query(checks: list[s.CheckSpec], ctx: Context, table_name: str) -> exp.Select:
    """Rows failing any of `checks` (counted once) and all rows of the table (of the window, when windowed)."""
    any_failing = exp.or_(*(exp.paren(failing_rows(check, ctx)) for check in checks))
    failing = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=any_failing))
    query = exp.select(failing.as_("failing"), exp.Count(this=exp.Star()).as_("total"))
    query = query.from_(warehouse_source(ctx, table_name))
    window = ctx.window(table_name)
    return query if window is None else query.where(window)


_WIDENED = "__kpiflow_widened"
QUARANTINE_COLUMNS = ("_reason", "_check", "_run_date")


def quarantine_statements(
    check: s.CheckSpec, ctx: Context, quarantine_schema: str, raw_columns: tuple[str, ...], kept: tuple[str, ...]
) -> list[exp.Expression]:
    """Copy the failing rows with `_reason`, `_check`, `_run_date` into the quarantine table, then delete them from
    raw; run them in one transaction. `raw_columns`: the raw table's columns; `kept`: the quarantine table's (empty:
    it does not exist yet, and is created from the first rows). A raw column the quarantine table lacks is added
    first, with the raw column's own type (the table is rebuilt from itself left-joined to no raw row), so no
    value is lost and no type is named here."""
    failing = failing_in_window(check, ctx)
    extra = [
        exp.Literal.string(check.description).as_("_reason"),
        exp.Literal.string(check.name).as_("_check"),
        literal(ctx.run_date).as_("_run_date"),
    ]
    target = table(quarantine_schema, check.table)
    if not kept:
        moved = exp.select(exp.Star(), *extra).from_(warehouse_source(ctx, check.table)).where(failing)
        statements: list[exp.Expression] = [exp.Create(this=target, kind="TABLE", expression=moved)]
    else:
        statements = _widen(check.table, quarantine_schema, ctx.schema, [c for c in raw_columns if c not in kept])
        rows = exp.select(*(col(c) for c in raw_columns), *extra).from_(warehouse_source(ctx, check.table))
        columns = [exp.to_identifier(c, quoted=True) for c in (*raw_columns, *QUARANTINE_COLUMNS)]
        statements.append(exp.insert(rows.where(failing), target, columns=columns))
    statements.append(exp.delete(warehouse_source(ctx, check.table), where=failing_in_window(check, ctx)))
    return statements


def _widen(table_name: str, quarantine_schema: str, raw_schema: str, added: list[str]) -> list[exp.Expression]:
    """Statements giving the quarantine table the raw columns `added`, typed as in raw, its rows kept."""
    if not added:
        return []
    widened = table(quarantine_schema, table_name + _WIDENED)
    rows = (
        exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("q")), *(col(c, "r") for c in added))
        .from_(table(quarantine_schema, table_name, "q"))
        .join(table(raw_schema, table_name, "r"), on=exp.false(), join_type="left")
    )
    rename = exp.Alter(
        this=widened.copy(), kind="TABLE", actions=[exp.AlterRename(this=exp.to_table(table_name, quoted=True))]
    )
    return [
        exp.Create(this=widened, kind="TABLE", expression=rows),
        exp.Drop(tables=[table(quarantine_schema, table_name)], kind="TABLE"),
        rename,
    ]


def create_schema_statement(schema: str) -> exp.Create:
    return exp.Create(this=exp.Table(db=exp.to_identifier(schema)), kind="SCHEMA", exists=True)


def tables_query(schema: str) -> exp.Select:
    """Names of the tables in `schema`."""
    return (
        exp.select("table_name")
        .from_(exp.table_("tables", db="information_schema"))
        .where(exp.EQ(this=exp.column("table_schema"), expression=exp.Literal.string(schema)))
    )


def columns_query(schema: str) -> exp.Select:
    """(table_name, column_name) of every column of every table in `schema`, in the tables' column order."""
    return (
        exp.select("table_name", "column_name")
        .from_(exp.table_("columns", db="information_schema"))
        .where(exp.EQ(this=exp.column("table_schema"), expression=exp.Literal.string(schema)))
        .order_by("table_name", "ordinal_position")
    )


def latest_date_query(schema: str, table_name: str, column: str) -> exp.Select:
    """The latest date in `schema.table_name.column` (NULL for an empty table)."""
    latest = exp.Max(this=exp.cast(col(column), exp.DataType.Type.DATE))
    return exp.select(latest.as_("latest")).from_(table(schema, table_name, ROW))


def renamed_columns(staging_sql: str) -> dict[str, str]:
    """Staging column -> the raw column it renames or casts (`order_ts as ordered_at`, `cast(order_ts as date) as
    order_date`), read from a staging model's SQL; columns kept under their raw name are left out."""
    tree = sqlglot.parse_one(_SOURCE_CALL.sub(r"\1.\2", staging_sql), read=WRITTEN_IN)
    found: dict[str, str] = {}
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            inner = projection.unalias()
            while isinstance(inner, exp.Cast):
                inner = inner.this
            if isinstance(inner, exp.Column) and projection.alias_or_name != inner.name:
                found[projection.alias_or_name] = inner.name
    return found


def input_range_query(ctx: Context, table_name: str, column: str) -> exp.Select:
    """The latest date in `table_name.column` through the run date (`through`) and after it (`later`)."""
    day = exp.cast(col(column), exp.DataType.Type.DATE)
    after_run = _compare(">=", col(column), ctx.day_after_run())
    through = exp.Filter(this=exp.Max(this=day), expression=exp.Where(this=exp.Not(this=exp.paren(after_run))))
    later = exp.Filter(this=exp.Max(this=day.copy()), expression=exp.Where(this=after_run.copy()))
    return exp.select(through.as_("through"), later.as_("later")).from_(warehouse_source(ctx, table_name))


def to_sql(tree: exp.Expression, dialect: str = WRITTEN_IN) -> str:
    if dialect == "spark":
        tree = tree.transform(_for_spark)
    return tree.sql(dialect=dialect)


def _for_spark(node: exp.Expression) -> exp.Expression:
    """Two templates sqlglot does not render for Spark: a series in FROM (`generate_series(...) as g(d)`) becomes a
    subquery exploding Spark's `sequence`, and `quantile_cont(x, p)` Spark's `percentile(x, p)` (the same linear
    interpolation between the closest ranks)."""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries) and node.alias_column_names:
        series = node.this
        values = exp.func("sequence", series.args["start"], series.args["end"], series.args["step"])
        exploded = exp.select(exp.Explode(this=values).as_(node.alias_column_names[0])).subquery(node.alias)
        return exploded
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    return node
