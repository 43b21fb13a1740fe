"""The YAML boundary of `_source_checks.yml`: one strict pydantic model per check kind and for the file itself.

Only `kpiflow.quality.declarations` uses these; it turns them into the frozen specs in `kpiflow.quality.specs`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kpiflow.quality import specs as s

Op = Literal[">=", ">", "<=", "<"]
Name = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckArgs(Strict):
    name: Name | None = None
    severity: s.Severity = s.Severity.ERROR


class RowCheckArgs(CheckArgs):
    quarantine: bool = False


class NotNullArgs(RowCheckArgs):
    columns: list[str] = Field(min_length=1)


class UniqueArgs(CheckArgs):
    columns: list[str] = Field(min_length=1)


class AcceptedValuesArgs(RowCheckArgs):
    column: str
    values: list[str | int | bool] = Field(min_length=1)


class RangeArgs(RowCheckArgs):
    column: str
    min: Decimal | None = None
    max: Decimal | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False


class DatesArgs(RowCheckArgs):
    columns: list[str] = Field(min_length=1)


class CompareArgs(RowCheckArgs):
    column: str
    op: Op
    other: str


class RuleArgs(RowCheckArgs):
    name: Name
    condition: str
    description: str | None = None


class ReferencesArgs(RowCheckArgs):
    column: str | None = None
    columns: list[str] | None = None
    parent: str
    parent_columns: list[str] | None = None


class CompareParentArgs(RowCheckArgs):
    column: str
    op: Op
    parent: str
    parent_column: str
    join: list[str] = Field(min_length=1)


class FreshnessArgs(CheckArgs):
    column: str


class VolumeArgs(CheckArgs):
    column: str
    trailing_days: int | None = Field(default=None, ge=7)  # a week at least: the baseline is the same weekday's
    min_ratio: Decimal | None = Field(default=None, ge=0)
    max_ratio: Decimal | None = Field(default=None, gt=0)
    min_average: Decimal | None = Field(default=None, ge=0)
    min_average_empty: Decimal | None = Field(default=None, ge=0)


class VolumeDefaults(Strict):
    trailing_days: int = Field(default=28, ge=7)
    min_ratio: Decimal = Field(default=Decimal("0.3"), ge=0)
    max_ratio: Decimal = Field(default=Decimal("2.5"), gt=0)
    min_average: Decimal = Field(default=Decimal(20), ge=0)
    min_average_empty: Decimal = Field(default=Decimal(10), ge=0)


class PlausibleArgs(RowCheckArgs):
    column: str
    trailing_days: int | None = Field(default=None, ge=1)
    deviations: Decimal | None = Field(default=None, gt=0)
    factor: Decimal | None = Field(default=None, ge=1)
    min_history: int | None = Field(default=None, ge=1)


class PlausibleDefaults(Strict):
    trailing_days: int = Field(default=90, ge=1)
    deviations: Decimal = Field(default=Decimal(10), gt=0)
    factor: Decimal = Field(default=Decimal(10), ge=1)
    min_history: int = Field(default=1000, ge=1)


class SettingsModel(Strict):
    founded_on: date
    run_date_from: str = Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
    quarantine_limit: Decimal = Field(default=Decimal("0.01"), ge=0, le=1)
    min_rows: int = Field(default=1, ge=0)
    volume: VolumeDefaults = VolumeDefaults()
    plausible: PlausibleDefaults = PlausibleDefaults()


class ValidityModel(Strict):
    start: Name
    end: Name | None = None
    end_with: list[Name] = Field(default_factory=list)
    ignore: list[Name] = Field(default_factory=list)


class DayFromModel(Strict):
    parent: Name
    join: list[Name] = Field(min_length=1)


class TableModel(Strict):
    columns: dict[Name, s.TypeFamily] = Field(min_length=1)
    key: list[str] = Field(default_factory=list)
    min_rows: int | None = Field(default=None, ge=0)
    quarantine_limit: Decimal | None = Field(default=None, ge=0, le=1)
    # The row's business date: an incremental run checks only the rows from its window start on (row checks).
    window_column: str | None = None
    # Rows whose dates place them in history (hire/termination, valid_from/valid_to, completed_on): a changed row
    # makes the next incremental build recompute from the first day it affects (orchestration/restatements.py).
    validity: ValidityModel | None = None
    # A row without a date of its own takes its parent's (an order line its order's day), for the same purpose.
    day_from: DayFromModel | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)


class ChecksFile(Strict):
    checks_format: Literal[1]
    settings: SettingsModel
    tables: dict[Name, TableModel] = Field(min_length=1)
