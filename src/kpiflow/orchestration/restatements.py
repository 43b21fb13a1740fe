"""Changed history: raw rows dated before an incremental build's window that changed since the last build.

A nightly build recomputes the days from its window start on; a correction to an older day (NULL store ids on old
orders, a back-dated transfer, a termination date corrected two months back) would otherwise never reach the marts.
So each build leaves a fingerprint of the raw tables in kpiflow_state:

- per dated table (a `window_column` in models/staging/_source_checks.yml, or a parent's through `day_from`: an
  order line has its order's day) and day: the row count and the sum of the rows' hashes (one GROUP BY query per
  table; a row's hash covers the columns the gate declares for the table, in their declared order);
- per row of a table with a `validity` declaration (employees, employee_assignments, job applications, trainings),
  keyed by the table's key: the days it covers and two hashes, one of the columns that restate the row from its
  start and one of those that restate it from its end.

The next run takes the same fingerprints and compares (once, before the input gate; the build keeps that pass
unless the gate quarantined rows, and takes its own when it runs alone). A dated table's days that differ restate
themselves; a changed validity row restates from the first day it affects (the earlier of its old and new end
when only the end changed, else the earlier of its old and new start; an added or removed row from its start).
The run's window then starts on the earliest restated day before it, the gate judges the rows from there and the
build recomputes them.
A restatement older than the horizon (KPIFLOW_RESTATEMENT_HORIZON_DAYS, default 90 days before the run date) is
refused: rebuilding that much belongs to `--full-refresh`. The hash is the warehouse session's `row_hash_sql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kpiflow.errors import RunFailed
from kpiflow.quality.specs import GateSpec, TableSpec
from kpiflow.warehouse import MissingRelation, Session
from kpiflow.warehouse.fingerprints import quote_identifier

HORIZON_ENV = "KPIFLOW_RESTATEMENT_HORIZON_DAYS"
DEFAULT_HORIZON_DAYS = 90
DAYS_TABLE = "kpiflow_state.raw_day_fingerprints"  # as of the last successful build
TAKEN_BY_TABLE = "kpiflow_state.raw_fingerprints_taken_by"  # the run whose pass the `_taken` tables hold
ROWS_TABLE = "kpiflow_state.raw_row_fingerprints"
_TAKEN = "_taken"  # suffix of the tables holding this run's fingerprints until its build succeeds
_NEVER = date(9999, 12, 31)  # the end of a range that has none
_ROW = "r"
_PARENT = "p"
_DAY = "kpiflow_day__"
_HASH_VERSION = "2"  # of how rows are hashed: 1 hashed whole rows (and recorded no signature)


@dataclass(frozen=True)
class Restatement:
    """One table's restated days before the window: the changed days of a dated table, or the first day a changed
    validity row affects (`from_day`)."""

    table: str
    days: tuple[date, ...]
    from_day: bool = False

    def text(self) -> str:
        days = f"from {self.days[0]}" if self.from_day else ", ".join(str(day) for day in self.days)
        return f"{self.table}: {days}"


@dataclass(frozen=True)
class Restatements:
    found: tuple[Restatement, ...] = ()

    @property
    def earliest(self) -> date | None:
        return min((day for each in self.found for day in each.days), default=None)

    def headline(self) -> str:
        """`restated days: orders: 2025-10-03, 2025-10-05; employee_assignments: from 2025-10-15`, or ''."""
        return "restated days: " + "; ".join(each.text() for each in self.found) if self.found else ""

    def check_horizon(self, run_date: date, horizon_days: int) -> None:
        """Refuse restatements older than the horizon: the run fails before it builds or publishes anything."""
        oldest_allowed = run_date - timedelta(days=horizon_days)
        beyond = [each for each in self.found if min(each.days) < oldest_allowed]
        if beyond:
            listed = "; ".join(each.text() for each in beyond)
            raise RunFailed(
                f"raw history changed before {oldest_allowed}, the restatement horizon ({horizon_days} days before "
                f"{run_date}): {listed}. An incremental run does not rebuild that far back; nothing was built or "
                f"published. Rebuild everything with `kpiflow run --date {run_date} --full-refresh` (or raise the "
                f"horizon: --restatement-horizon DAYS or {HORIZON_ENV})."
            )


def take_fingerprints(con: Session, gate: GateSpec, run_id: str | None = None) -> None:
    """Fingerprint the raw tables as they are now into kpiflow_state's `_taken` tables (the schema exists): one
    query per table. A table or column missing from the warehouse is left out (the quality gate names it).
    `run_id`: the run the pass is for, so that its build can keep it without a second pass (taken_by)."""
    con.execute(f"create or replace table {TAKEN_BY_TABLE} (run_id varchar)")
    con.execute(
        f"create or replace table {DAYS_TABLE}{_TAKEN} "
        "(table_name varchar, day date, row_count bigint, checksum varchar)"
    )
    con.execute(
        f"create or replace table {ROWS_TABLE}{_TAKEN} (table_name varchar, row_key varchar, start_day date, "
        "end_day date, start_hash varchar, end_hash varchar)"
    )
    present = {name for _, name in con.relations([gate.schema])}
    for table in gate.tables:
        # asked, not tried: on Spark a statement that fails is logged at ERROR though it is expected here
        if not {table.name, *([table.day_from.parent] if table.day_from else [])} <= present:
            continue
        taken = _fingerprint_query(con, gate.schema, table)
        if taken is None:
            continue
        query, signature = taken
        dated = table.window_column or table.day_from
        target, marker = (DAYS_TABLE, "?, null, null, ?") if dated else (ROWS_TABLE, "?, null, null, null, ?, null")
        # With the table's rows, a marker row: the table was fingerprinted (an empty table has no other row), and
        # what its hashes cover (its signature).
        try:
            con.execute(
                f"insert into {target}{_TAKEN} {query} union all select {marker}", [table.name, table.name, signature]
            )
        except MissingRelation:
            continue
    if run_id is not None:
        con.execute(f"insert into {TAKEN_BY_TABLE} values (?)", [run_id])


def taken_by(con: Session) -> str | None:
    """The run whose fingerprint pass the `_taken` tables hold (None: unknown, or forgotten)."""
    if not _exist(con, TAKEN_BY_TABLE):
        return None
    row = con.execute(f"select max(run_id) from {TAKEN_BY_TABLE}").fetchone()
    return None if row is None else row[0]


def forget_taker(con: Session) -> None:
    """The raw tables changed after the pass (the gate quarantined rows): the build must take its own."""
    if _exist(con, TAKEN_BY_TABLE):
        con.execute(f"delete from {TAKEN_BY_TABLE}")


def _fingerprint_query(con: Session, schema: str, table: TableSpec) -> tuple[str, str] | None:
    """The query fingerprinting `table` (its first parameter is the table's name), and its signature: the columns its
    hashes cover. Only the declared columns are hashed, in their declared order: a model reads no other (a test
    makes sure), so a change to another column changes no KPI and restates nothing."""
    relation = f"{_relation(schema, table.name)} as {_ROW}"
    columns = table.column_names
    if table.window_column:
        return _per_day(con, relation, f"{_ROW}.{quote_identifier(table.window_column)}", columns), _signature(columns)
    if table.day_from:
        # Only the parent's key and day enter the join: the join is most of the pass.
        parent = table.day_from
        keys = ", ".join(quote_identifier(c) for c in parent.join)
        days = f"select {keys}, cast({quote_identifier(parent.parent_column)} as date) as {_DAY} from "
        on = " and ".join(f"{_ROW}.{quote_identifier(c)} = {_PARENT}.{quote_identifier(c)}" for c in parent.join)
        relation += f" join ({days}{_relation(schema, parent.parent)}) as {_PARENT} on {on}"
        return _per_day(con, relation, f"{_PARENT}.{_DAY}", columns), _signature(columns)
    validity = table.validity
    if validity is None:
        return None
    end_columns = ([validity.end] if validity.end else []) + list(validity.end_with)
    start_columns = [c for c in columns if c not in end_columns and c not in validity.ignore]
    key = " || '|' || ".join(f"coalesce(cast({_ROW}.{quote_identifier(c)} as varchar), '')" for c in table.key)
    end = f"cast({_ROW}.{quote_identifier(validity.end)} as date)" if validity.end else "cast(null as date)"
    query = (
        f"select ?, {key}, cast({_ROW}.{quote_identifier(validity.start)} as date), {end}, "
        f"cast({_hash(con, start_columns)} as varchar), cast({_hash(con, end_columns)} as varchar) from {relation}"
    )
    return query, f"{_signature(start_columns)}/{_signature(end_columns)}"


def _signature(columns: Sequence[str]) -> str:
    """Fingerprints compare only under the same signature: after a change to the declared columns (or to how rows
    are hashed) a table's history is not compared for one run, rather than every day of it restated."""
    return f"{_HASH_VERSION}:" + ",".join(columns)


def _relation(schema: str, name: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def _per_day(con: Session, relation: str, date_column: str, columns: Sequence[str]) -> str:
    """Row count and checksum of the `columns` of the `_ROW` rows per day of `date_column`."""
    day = f"cast({date_column} as date)"
    hashed = [f"{_ROW}.{quote_identifier(c)}" for c in columns] or ["0"]
    return (
        f"select ?, {day}, count(*), {con.checksum_sql(*hashed)} from {relation} where {day} is not null group by {day}"
    )


def _hash(con: Session, columns: list[str]) -> str:
    return con.row_hash_sql(*(f"{_ROW}.{quote_identifier(c)}" for c in columns)) if columns else "0"


def restated_before(con: Session, window_start: date) -> Restatements:
    """Compare the fingerprints just taken with those of the last build: the restated days before `window_start`.
    Tables without a recorded fingerprint of the same signature (see `_signature`) restate nothing."""
    if not _recorded(con):
        return Restatements()
    days = con.execute(
        f"""
        select coalesce(now.table_name, built.table_name) as table_name, coalesce(now.day, built.day) as day
        from {DAYS_TABLE}{_TAKEN} as now
        full join {DAYS_TABLE} as built on now.table_name = built.table_name and now.day = built.day
        where coalesce(now.day, built.day) < ?
            and coalesce(now.table_name, built.table_name) in ({_same_signature(DAYS_TABLE, "day", "checksum")})
            and (now.day is null or built.day is null
                 or now.row_count <> built.row_count or now.checksum <> built.checksum)
        order by 1, 2
        """,
        [window_start],
    ).fetchall()
    ranges = con.execute(
        f"""
        select table_name, min(first_day) from (
            select coalesce(now.table_name, built.table_name) as table_name,
                case
                    when now.row_key is null then coalesce(built.start_day, ?)
                    when built.row_key is null then coalesce(now.start_day, ?)
                    when now.start_hash <> built.start_hash
                        then least(coalesce(now.start_day, ?), coalesce(built.start_day, ?))
                    else least(coalesce(now.end_day, ?), coalesce(built.end_day, ?))
                end as first_day
            from {ROWS_TABLE}{_TAKEN} as now
            full join {ROWS_TABLE} as built on now.table_name = built.table_name and now.row_key = built.row_key
            where coalesce(now.row_key, built.row_key) is not null
                and coalesce(now.table_name, built.table_name)
                    in ({_same_signature(ROWS_TABLE, "row_key", "start_hash")})
                and (now.row_key is null or built.row_key is null
                     or now.start_hash <> built.start_hash or now.end_hash <> built.end_hash)
        ) as changed
        where first_day < ?
        group by table_name
        order by table_name
        """,
        [date.min, date.min, date.min, date.min, _NEVER, _NEVER, window_start],
    ).fetchall()
    by_table: dict[str, list[date]] = {}
    for table, day in days:
        by_table.setdefault(str(table), []).append(day)
    found = [Restatement(table, tuple(days)) for table, days in by_table.items()]
    found += [Restatement(str(table), (day,), from_day=True) for table, day in ranges]
    return Restatements(tuple(sorted(found, key=lambda each: each.table)))


def _same_signature(table: str, key: str, signature: str) -> str:
    """SQL: the tables fingerprinted now and at the last build with the same signature (in their marker rows, whose
    `key` is null). A table without a recorded fingerprint (the first build since it was declared) or with another
    signature restates nothing."""
    return (
        f"select now.table_name from {table}{_TAKEN} as now join {table} as built "
        f"on now.table_name = built.table_name and now.{signature} = built.{signature} "
        f"where now.{key} is null and built.{key} is null"
    )


def _recorded(con: Session) -> bool:
    return _exist(con, DAYS_TABLE, f"{DAYS_TABLE}{_TAKEN}", ROWS_TABLE, f"{ROWS_TABLE}{_TAKEN}")


def _exist(con: Session, *names: str) -> bool:
    return all(con.has_relation(name) for name in names)


def keep_fingerprints(con: Session) -> None:
    """After a successful build: the fingerprints taken before it become the ones the next run compares with."""
    for table in (DAYS_TABLE, ROWS_TABLE):
        if _exist(con, f"{table}{_TAKEN}"):
            con.execute(f"create or replace table {table} as select * from {table}{_TAKEN}")
