"""Create, replace and extend the demo warehouse: schema `raw` of a DuckDB file.

A build writes every raw table as `raw.__next_<table>` and then, in one transaction, swaps them in:
readers see the old raw schema or the new one, never a mix, and a crash leaves the old one intact.
An append generates only the new days (replaying a few earlier ones, which the generator needs for
returns, replenishment and follow-ups), adds them to the event tables and rebuilds the small
"as of the last day" tables (customers, employees, ...), again in one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb

from kpiflow.demo.pipeline import EVENT_TABLES, ORDER_BY, RAW_TABLES, StepListener, run_steps
from kpiflow.demo.plans import PLAN_TABLES, install_plan_macros, write_plan_tables
from kpiflow.demo.progress import table_progress
from kpiflow.demo.spec import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    GENERATOR_VERSION,
    DemoSpec,
    GenerationWindow,
)
from kpiflow.errors import RunFailed, UserInputError, WarehouseBusy

RAW_SCHEMA = "raw"
NEXT_PREFIX = "__next_"
META_TABLE = "_demo_meta"
META_COLUMNS = "seed, scale, start_date, end_date, generator_version"
_BEFORE_APPEND = "__before_append_"  # append_in_scratch: the event tables as they were; the append added the rest
DEMO_TABLES: tuple[str, ...] = (*RAW_TABLES, *PLAN_TABLES)  # every raw input table the demo writes


@dataclass(frozen=True)
class DemoSummary:
    """What a generate or append call left in the warehouse."""

    warehouse_path: Path
    start: date
    end: date
    seed: int
    scale: float
    row_counts: dict[str, int] = field(default_factory=dict)
    action: str = "generated"  # generated | appended | unchanged
    parquet_dir: Path | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "warehouse_path": str(self.warehouse_path),
            "parquet_dir": str(self.parquet_dir) if self.parquet_dir else None,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seed": self.seed,
            "scale": self.scale,
            "row_counts": dict(self.row_counts),
        }


def generate_demo_warehouse(
    warehouse_path: Path,
    *,
    scale: float = 1.0,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    seed: int = DEFAULT_SEED,
    parquet_dir: Path | None = None,
    progress: bool = False,
) -> DemoSummary:
    """Generate raw tables (plans included) for start..end into `warehouse_path`, replacing its raw schema
    atomically. Nothing outside the warehouse (and `parquet_dir`) is written."""
    spec = DemoSpec(seed=seed, scale=scale, start=start, end=end)
    window = GenerationWindow(first_day=start, last_day=end, work_start=start)
    warehouse_path = Path(warehouse_path)
    with open_warehouse(warehouse_path) as con:
        _build(con, spec, window, progress=progress)
        _swap_in(con, spec, append=False)
        summary = _summarise(con, warehouse_path, spec, action="generated")
        if parquet_dir is not None:
            export_parquet(con, Path(parquet_dir))
        return replace(summary, parquet_dir=Path(parquet_dir) if parquet_dir else None)


def append_demo_days(
    warehouse_path: Path,
    through: date,
    *,
    progress: bool = False,
) -> DemoSummary:
    """Extend a generated warehouse by the days after its last day, through `through` (same seed and scale)."""
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.is_file():
        raise UserInputError(
            f"{warehouse_path}: no demo warehouse to append to; create it first with `kpiflow demo-data`."
        )
    with open_warehouse(warehouse_path) as con:
        current = _read_meta(con, warehouse_path)
        if through <= current.end:
            return _summarise(con, warehouse_path, current, action="unchanged")
        spec = replace(current, end=through)
        window = GenerationWindow.for_days(spec, current.end + timedelta(days=1), through)
        _build(con, spec, window, progress=progress)
        _swap_in(con, spec, append=True)
        return _summarise(con, warehouse_path, spec, action="appended")


def append_in_scratch(scratch_file: Path, spec: DemoSpec, through: date, *, progress: bool = False) -> DemoSummary:
    """Regenerate the demo `spec` into the new file `scratch_file` and extend it through `through`; then each event
    table there holds only the rows the append added, the other tables their whole new state.

    For engines whose raw tables are not this file (PostgreSQL, Spark): what they append and what they replace, the
    same rows as `append_demo_days` gives a DuckDB warehouse.
    """
    generate_demo_warehouse(scratch_file, scale=spec.scale, start=spec.start, end=spec.end, seed=spec.seed)
    with open_warehouse(scratch_file) as con:
        for table in EVENT_TABLES:
            con.execute(f'create table {RAW_SCHEMA}."{_BEFORE_APPEND}{table}" as select * from {RAW_SCHEMA}."{table}"')
    summary = append_demo_days(scratch_file, through, progress=progress)
    with open_warehouse(scratch_file) as con:
        for table in EVENT_TABLES:
            before, after, added = (f'{RAW_SCHEMA}."{name}"' for name in (_BEFORE_APPEND + table, table, "__added"))
            con.execute(f"create table {added} as select * from {after} except all select * from {before}")
            con.execute(f"drop table {before}")
            con.execute(f"drop table {after}")
            con.execute(f'alter table {added} rename to "{table}"')
    return summary


def read_demo_spec(warehouse_path: Path) -> DemoSpec | None:
    """The seed, scale and days of the demo data in `warehouse_path`, or None if it has none."""
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.is_file():
        return None
    with open_warehouse(warehouse_path, read_only=True) as con:
        if not _has_meta(con):
            return None
        return _read_meta(con, warehouse_path)


@contextmanager
def open_warehouse(warehouse_path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Connect to the DuckDB file, turning a lock held by another process into WarehouseBusy."""
    if not read_only:
        warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(warehouse_path), read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc).splitlines()[0]
        if "lock" in message.lower():
            raise WarehouseBusy(
                f"{warehouse_path} is open in another process ({message}); wait for it to finish and retry."
            ) from exc
        raise UserInputError(f"{warehouse_path}: cannot open as a DuckDB database ({message}).") from exc
    try:
        con.execute("set enable_progress_bar = false")  # our own progress bars, or none
        yield con
    finally:
        con.close()


def _build(con: duckdb.DuckDBPyConnection, spec: DemoSpec, window: GenerationWindow, *, progress: bool) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    _drop_next_tables(con)
    listener: StepListener | None
    with table_progress(progress) as listener:
        try:
            run_steps(con, spec, window, schema=RAW_SCHEMA, prefix=NEXT_PREFIX, on_step=listener)
        except duckdb.Error as exc:
            _drop_next_tables(con)
            raise RunFailed(f"demo data generation failed: {str(exc).splitlines()[0]}") from exc
    con.execute(
        f'create table {RAW_SCHEMA}."{NEXT_PREFIX}{META_TABLE}" as select '
        "?::bigint as seed, ?::double as scale, ?::date as start_date, ?::date as end_date, "
        "?::varchar as generator_version",
        [spec.seed, spec.scale, spec.start, spec.end, GENERATOR_VERSION],
    )


def _swap_in(con: duckdb.DuckDBPyConnection, spec: DemoSpec, *, append: bool) -> None:
    """Move raw.__next_* into place and rewrite the plans, in one transaction (append: add event rows,
    replace the rest)."""
    install_plan_macros(con, spec)
    con.execute("begin transaction")
    try:
        for table in (*RAW_TABLES, META_TABLE):
            staged = f'{RAW_SCHEMA}."{NEXT_PREFIX}{table}"'
            if append and table in EVENT_TABLES:
                con.execute(f'insert into {RAW_SCHEMA}."{table}" select * from {staged}')
                con.execute(f"drop table {staged}")
            else:
                con.execute(f'drop table if exists {RAW_SCHEMA}."{table}"')
                con.execute(f'alter table {staged} rename to "{table}"')
        write_plan_tables(con, spec, RAW_SCHEMA)
        if not append:
            for table in set(_raw_tables(con)) - {*DEMO_TABLES, META_TABLE}:
                con.execute(f'drop table {RAW_SCHEMA}."{table}"')  # leftovers of an older generator
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise


def export_parquet(con: duckdb.DuckDBPyConnection, parquet_dir: Path) -> None:
    """Write one Parquet file per raw table (sorted by its key, so files are reproducible)."""
    parquet_dir.mkdir(parents=True, exist_ok=True)
    for table in (*DEMO_TABLES, META_TABLE):
        target = parquet_dir / f"{table}.parquet"
        temporary = parquet_dir / f".{table}.parquet.tmp"
        key = ORDER_BY.get(table) or ("all" if table in PLAN_TABLES else "")
        order = f" order by {key}" if key else ""
        con.execute(
            f"copy (select * from {RAW_SCHEMA}.\"{table}\"{order}) to '{temporary}' (format parquet, compression zstd)"
        )
        os.replace(temporary, target)


def _summarise(con: duckdb.DuckDBPyConnection, path: Path, spec: DemoSpec, *, action: str) -> DemoSummary:
    counts = {
        table: int(con.execute(f'select count(*) from {RAW_SCHEMA}."{table}"').fetchone()[0])  # type: ignore[index]
        for table in DEMO_TABLES
    }
    return DemoSummary(
        warehouse_path=path,
        start=spec.start,
        end=spec.end,
        seed=spec.seed,
        scale=spec.scale,
        row_counts=counts,
        action=action,
    )


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'",
        [RAW_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _drop_next_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in _raw_tables(con):
        if table.startswith(NEXT_PREFIX):
            con.execute(f'drop table {RAW_SCHEMA}."{table}"')


def _has_meta(con: duckdb.DuckDBPyConnection) -> bool:
    return META_TABLE in _raw_tables(con)


def _read_meta(con: duckdb.DuckDBPyConnection, path: Path) -> DemoSpec:
    if not _has_meta(con):
        raise UserInputError(
            f"{path}: has no {RAW_SCHEMA}.{META_TABLE}, so it was not made by `kpiflow demo-data`; "
            "generate it first (or pass another --out)."
        )
    row = con.execute(f"select {META_COLUMNS} from {RAW_SCHEMA}.{META_TABLE}").fetchone()
    return demo_spec_from_meta(row, str(path))


def demo_spec_from_meta(row: tuple | None, where: str) -> DemoSpec:
    """The demo's spec from its row of raw._demo_meta (META_COLUMNS) in the warehouse `where`; UserInputError when
    there is none or another generator version wrote it (appending would mix two generators' rows)."""
    if row is None:
        raise UserInputError(f"{where}: {RAW_SCHEMA}.{META_TABLE} is empty; regenerate with `kpiflow demo-data`.")
    seed, scale, start, end, version = row
    if version != GENERATOR_VERSION:
        raise UserInputError(
            f"{where}: demo data from generator version {version}, this is version {GENERATOR_VERSION}; "
            "regenerate it with `kpiflow demo-data` instead of appending."
        )
    return DemoSpec(seed=int(seed), scale=float(scale), start=start, end=end)
