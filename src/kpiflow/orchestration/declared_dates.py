"""After the build, before anything is published: every column the compiler reads as a declared DATE holds days.

`kpiflow compile` trusts `data_type: date` in a dbt model's YAML and does not cast such a column to its day
(compiler/known_dates.py). Were the built column a TIMESTAMP with times of day, the KPI models would group by
timestamp and publish wrong numbers without a word; this check turns that into a failed run naming the column. One
query per column, counting the rows whose value is not its own day, from the build window's start on an incremental
run (the nightly stays cheap). The query is a sqlglot tree rendered in the sessions' dialect (DuckDB's; a
PostgreSQL or Spark session translates it), so it runs on every engine.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from kpiflow.compiler.known_dates import DeclaredDate, declared_date_columns
from kpiflow.compiler.validate import load_graph
from kpiflow.config import Settings
from kpiflow.errors import RunFailed
from kpiflow.warehouse import Session, Warehouse, WarehouseError

SESSION_DIALECT = "duckdb"  # what a Session accepts (warehouse/interface.py)
FIX = "declare data_type: timestamp (kpiflow compile then casts it to its day) or build the column as a DATE"


def check_declared_dates(settings: Settings, warehouse: Warehouse, window_start: date | None) -> int:
    """Fail the run (RunFailed) when a column declared `data_type: date` holds a value that is not its own day, or
    cannot be compared with one; only rows from `window_start` on (None: all). Returns the columns checked."""
    columns = declared_date_columns(load_graph(settings.project_dir))
    with warehouse.connect_build(read_only=True) as session:  # a model in marts is read as the build's copy
        for declared in columns:
            _check_column(session, declared, window_start)
    return len(columns)


def not_days_query(declared: DeclaredDate, window_start: date | None) -> str:
    """`select count(*), min(col) from schema.model where col <> cast(col as date) [and col >= window start]`."""
    column = exp.column(declared.column, quoted=True)
    differs = exp.NEQ(this=column, expression=exp.cast(column.copy(), exp.DataType.Type.DATE))
    if window_start is not None:
        start = exp.cast(exp.Literal.string(window_start.isoformat()), exp.DataType.Type.DATE)
        differs = exp.and_(differs, exp.GTE(this=column.copy(), expression=start))
    relation = exp.table_(declared.model.name, db=declared.model.schema, quoted=True)
    query = exp.select(exp.Count(this=exp.Star()), exp.Min(this=column.copy())).from_(relation).where(differs)
    return query.sql(dialect=SESSION_DIALECT)


def _check_column(session: Session, declared: DeclaredDate, window_start: date | None) -> None:
    model, column = declared.model, declared.column
    where = f"{model.schema}.{model.name}.{column}, declared data_type: date at {model.declared_at(column)}"
    try:
        row = session.execute(not_days_query(declared, window_start)).fetchone()
    except WarehouseError as exc:
        raise RunFailed(
            f"{where}, cannot be compared with its day in the built warehouse ({exc}); nothing was published. "
            f"Fix the YAML or the model: {FIX}."
        ) from None
    count, example = row if row else (0, None)
    if count:
        since = f" from {window_start} on" if window_start else ""
        raise RunFailed(
            f"{where}, holds {count:,} value(s){since} that are not days (e.g. {example}); nothing was published: "
            f"the KPIs would have grouped by timestamp. {FIX[0].upper()}{FIX[1:]}."
        )
