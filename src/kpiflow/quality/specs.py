"""What the gate checks, as frozen data: one class per kind of check, built from `_source_checks.yml`.

Everything downstream (Great Expectations suites, quarantine predicates, reports) reads these classes only, so
the YAML format can change without touching the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """`error` blocks publishing; `warn` is reported only."""

    ERROR = "error"
    WARN = "warn"


class TypeFamily(StrEnum):
    """Column type families: generator choices (INTEGER vs BIGINT, VARCHAR vs INTEGER ids) stay compatible."""

    IDENTIFIER = "identifier"
    INTEGER = "integer"
    DECIMAL = "decimal"
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


DATED_FAMILIES = frozenset({TypeFamily.DATE, TypeFamily.TIMESTAMP})  # columns that can carry a business date


@dataclass(frozen=True)
class CheckSpec:
    """Fields every check has. `name` is unique in the gate: `<table>.<what>`."""

    name: str
    table: str
    severity: Severity
    description: str

    @property
    def column(self) -> str | None:
        """The column a person should look at, if the check is about one."""
        return None

    @property
    def quarantinable(self) -> bool:
        """Row-level checks can move their failing rows aside instead of blocking."""
        return False


@dataclass(frozen=True)
class RowCheckSpec(CheckSpec):
    """A check that judges rows one at a time, so its failures can be quarantined."""

    quarantine: bool

    @property
    def quarantinable(self) -> bool:
        return True


@dataclass(frozen=True)
class NotNull(RowCheckSpec):
    target: str

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Unique(CheckSpec):
    columns: tuple[str, ...]

    @property
    def column(self) -> str:
        return ", ".join(self.columns)


@dataclass(frozen=True)
class AcceptedValues(RowCheckSpec):
    target: str
    values: tuple[Any, ...]

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Vocabulary(AcceptedValues):
    """A business vocabulary from vocabularies.yml (regions, categories, roles...): another company's values are
    data, so an unknown value is reported with its row count and warns; it never blocks (see vocabularies.py)."""


@dataclass(frozen=True)
class Range(RowCheckSpec):
    target: str
    minimum: Decimal | None
    maximum: Decimal | None
    min_exclusive: bool
    max_exclusive: bool

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class DateBound(RowCheckSpec):
    """`latest=True`: not in the future (after the moment the check runs plus the clock-skew tolerance, never
    judged against the run date); `latest=False`: not before the founding date."""

    target: str
    is_timestamp: bool
    latest: bool

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Compare(RowCheckSpec):
    """`target op other` on the same row; rows where either side is NULL are not judged."""

    target: str
    op: str
    other: str

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Rule(RowCheckSpec):
    """A row passes when `condition` (a safe SQL expression over the table's columns) is true."""

    condition: str
    columns: tuple[str, ...]

    @property
    def column(self) -> str | None:
        return ", ".join(self.columns) or None


@dataclass(frozen=True)
class References(RowCheckSpec):
    """Foreign key: non-NULL `columns` must exist as `parent_columns` in `parent`."""

    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]

    @property
    def column(self) -> str:
        return ", ".join(self.columns)


@dataclass(frozen=True)
class CompareParent(RowCheckSpec):
    """`target op parent.parent_column` for the parent row matched on `on` (e.g. a return after its order)."""

    target: str
    op: str
    parent: str
    parent_column: str
    on: tuple[str, ...]

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Plausible(RowCheckSpec):
    """A value within the bounds learned from the table's own history: a row fails when it lies both more than
    `deviations` robust deviations (1.4826 x MAD) from the history's median and more than `factor` times its
    0.1% and 99.9% quantiles (so neither a narrow nor a long-tailed column flags its normal values).
    History: the `trailing_days` before the judged rows by `date_column` (all rows when None); judged only once it
    holds `min_history` values, so a new warehouse is not blocked."""

    target: str
    date_column: str | None
    trailing_days: int
    deviations: Decimal
    factor: Decimal
    min_history: int

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Freshness(CheckSpec):
    """The run date's rows have arrived (at least one row dated on it)."""

    target: str
    is_timestamp: bool

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class Volume(CheckSpec):
    """Each judged day's row count (the build window's days through the run date) is within [min_ratio, max_ratio]
    x its baseline, the median count of the same weekday over the `trailing_days` before it (days without rows
    count as 0); judged when the baseline is at least `min_average` (a handful of rows a day is too noisy for any
    band). A day without rows fails from a baseline of `min_average_empty`."""

    target: str
    is_timestamp: bool
    trailing_days: int
    min_ratio: Decimal
    max_ratio: Decimal
    min_average: Decimal
    min_average_empty: Decimal = Decimal(10)

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class RowCount(CheckSpec):
    min_rows: int


@dataclass(frozen=True)
class ColumnsPresent(CheckSpec):
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ColumnType(CheckSpec):
    target: str
    family: TypeFamily

    @property
    def column(self) -> str:
        return self.target


@dataclass(frozen=True)
class ValiditySpec:
    """A table whose rows cover days from `start` (to `end`): a change to a row restates the days it covers. A change
    to `end` or `end_with` restates from the earlier of the old and new end; a change to any other column except
    `ignore` restates from the earlier of the old and new start."""

    start: str
    end: str | None = None
    end_with: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class DayFromSpec:
    """A row's day is its parent row's `window_column` (an order line's is its order's day)."""

    parent: str
    parent_column: str
    join: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """One raw table: its expected columns, key (for example keys in reports) and checks."""

    name: str
    columns: tuple[tuple[str, TypeFamily], ...]
    key: tuple[str, ...]
    quarantine_limit: Decimal
    checks: tuple[CheckSpec, ...]
    window_column: str | None = None  # date/timestamp column that limits row checks to an incremental run's window
    validity: ValiditySpec | None = None  # the days a row covers, for tables without one business date
    day_from: DayFromSpec | None = None  # the parent row whose business date is the row's day

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


@dataclass(frozen=True)
class GateSpec:
    """All declarations, as loaded from one file."""

    source_file: str
    schema: str
    founded_on: date
    run_date_from: tuple[str, str]  # (table, column) whose latest date is the default run date
    tables: tuple[TableSpec, ...]

    @property
    def checks(self) -> tuple[CheckSpec, ...]:
        return tuple(check for table in self.tables for check in table.checks)

    def table(self, name: str) -> TableSpec:
        return next(table for table in self.tables if table.name == name)
