"""Page data: what each page shows, as plain frozen values computed from the marts rows (no HTML here).

Every number a page shows is a `Shown` value: its text in the KPI's format, the raw value (written beside it as
`data-value` so a test or a screen reader's user can check it), and whether the privacy rule hid it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from kpiflow.dashboard.definitions import Definitions
from kpiflow.dashboard.formats import DASH, change_direction, format_change, format_value
from kpiflow.dashboard.marts import Achievement, BreakdownCell, CatalogEntry, Cell
from kpiflow.orchestration.report import HEADLINE_KPIS, latest_complete_month

TREND_MONTHS = 25  # two years and the month itself: this year against last year's line
SPARKLINE_MONTHS = 13
BREAKDOWN_MONTHS = 13
STATUS_CLASSES = {
    "above_stretch": "good",
    "on_target": "good",
    "below_target": "warn",
    "below_minimum": "bad",
    "no_data": "none",
}


@dataclass(frozen=True)
class Shown:
    text: str
    raw: float | None
    suppressed: bool = False


@dataclass(frozen=True)
class Comparison:
    text: str
    css: str  # better / worse / flat, by the KPI's direction


@dataclass(frozen=True)
class Headline:
    """One overview card."""

    entry: CatalogEntry
    day: Shown
    day_vs_previous: Comparison
    day_vs_last_year: Comparison
    month: Shown
    month_vs_previous: Comparison
    month_vs_last_year: Comparison
    target: Shown
    status: str
    status_css: str
    sparkline: Series


@dataclass(frozen=True)
class Series:
    """Monthly values of one KPI: the line, last year's line and the target band, month by month."""

    months: tuple[date, ...]
    values: tuple[Shown, ...]
    last_year: tuple[Shown, ...]
    targets: tuple[Achievement | None, ...]

    @property
    def has_values(self) -> bool:
        return any(v.raw is not None for v in (*self.values, *self.last_year))

    @property
    def has_targets(self) -> bool:
        return any(t is not None and t.target is not None for t in self.targets)


@dataclass(frozen=True)
class Breakdown:
    """A KPI by one dimension, month by month (the page's period selector picks the month shown)."""

    dimension_set: str
    members: tuple[str, ...]
    months: tuple[date, ...]
    cells: tuple[tuple[Shown, ...], ...]  # [member][month]

    @property
    def has_values(self) -> bool:
        return any(shown.raw is not None for row in self.cells for shown in row)


@dataclass(frozen=True)
class KpiSection:
    entry: CatalogEntry
    trend: Series
    breakdowns: tuple[Breakdown, ...]


@dataclass(frozen=True)
class DomainPage:
    slug: str
    title: str
    sections: tuple[KpiSection, ...]


@dataclass(frozen=True)
class PageContext:
    """What every page builder needs: the catalog, the marts' rows and the project's definitions."""

    as_of: date
    catalog: dict[str, CatalogEntry]
    daily: dict[str, dict[date, Cell]]
    monthly: dict[str, dict[date, Cell]]
    targets: dict[tuple[str, date], Achievement]
    definitions: Definitions

    @property
    def month(self) -> date:
        return latest_complete_month(self.as_of)

    @property
    def suppressed_text(self) -> str:
        return f"fewer than {self.definitions.privacy_minimum}"

    def shown(self, cell: Cell | None, entry: CatalogEntry) -> Shown:
        if cell is None:
            return Shown(DASH, None)
        if cell.is_suppressed:
            return Shown(self.suppressed_text, None, suppressed=True)
        return Shown(format_value(cell.value, entry.format), cell.value)


def months_back(month: date, count: int) -> tuple[date, ...]:
    """`count` first-of-month dates ending with `month`, oldest first."""
    months = [month]
    while len(months) < count:
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return tuple(reversed(months))


def year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def series(ctx: PageContext, entry: CatalogEntry, count: int) -> Series:
    """The last `count` months, less leading months with nothing to show (a warehouse younger than the window)."""
    values = ctx.monthly.get(entry.kpi, {})
    months = months_back(ctx.month, count)
    first = next((i for i, m in enumerate(months) if m in values or year_before(m) in values), len(months) - 1)
    months = months[first:]
    return Series(
        months=months,
        values=tuple(ctx.shown(values.get(m), entry) for m in months),
        last_year=tuple(ctx.shown(values.get(year_before(m)), entry) for m in months),
        targets=tuple(ctx.targets.get((entry.kpi, m)) for m in months),
    )


def _compare(now: Cell | None, then: Cell | None, entry: CatalogEntry) -> Comparison:
    current = None if now is None else now.value
    previous = None if then is None else then.value
    text = format_change(current, previous, entry.format)
    return Comparison(text, change_direction(current, previous, entry.direction))


def headline(ctx: PageContext, entry: CatalogEntry) -> Headline:
    day, month = ctx.as_of, ctx.month
    days, months = ctx.daily.get(entry.kpi, {}), ctx.monthly.get(entry.kpi, {})
    previous_month = (month - timedelta(days=1)).replace(day=1)
    achievement = ctx.targets.get((entry.kpi, month))
    target = achievement.target if achievement else None
    status = achievement.status if achievement else "no target"
    return Headline(
        entry=entry,
        day=ctx.shown(days.get(day), entry),
        day_vs_previous=_compare(days.get(day), days.get(day - timedelta(days=1)), entry),
        day_vs_last_year=_compare(days.get(day), days.get(year_before(day)), entry),
        month=ctx.shown(months.get(month), entry),
        month_vs_previous=_compare(months.get(month), months.get(previous_month), entry),
        month_vs_last_year=_compare(months.get(month), months.get(year_before(month)), entry),
        target=Shown(format_value(target, entry.format), target),
        status=status.replace("_", " "),
        status_css=STATUS_CLASSES.get(status, "none"),
        sparkline=series(ctx, entry, SPARKLINE_MONTHS),
    )


def overview(ctx: PageContext) -> tuple[Headline, ...]:
    """The headline KPIs that are published (the first few KPIs when none of them are)."""
    chosen = [ctx.catalog[kpi] for kpi in HEADLINE_KPIS if kpi in ctx.catalog] or list(ctx.catalog.values())[:8]
    return tuple(headline(ctx, entry) for entry in chosen)


def breakdowns(ctx: PageContext, rows: Iterable[BreakdownCell], months: tuple[date, ...]) -> dict[str, list[Breakdown]]:
    """Per KPI, one Breakdown per dimension set, members in the marts' order (unknown member last)."""
    grouped: dict[tuple[str, str], dict[str | None, dict[date, Cell]]] = {}
    for row in rows:
        grouped.setdefault((row.kpi, row.dimension_set), {}).setdefault(row.member, {})[row.period_start] = row.cell
    result: dict[str, list[Breakdown]] = {}
    for (kpi, dimension_set), by_member in grouped.items():
        entry = ctx.catalog.get(kpi)
        if entry is None:
            continue
        members = tuple(by_member)
        result.setdefault(kpi, []).append(
            Breakdown(
                dimension_set=dimension_set,
                members=tuple("(unknown)" if m is None else m for m in members),
                months=months,
                cells=tuple(tuple(ctx.shown(by_member[m].get(month), entry) for month in months) for m in members),
            )
        )
    return result


def domain_pages(ctx: PageContext, rows: Iterable[BreakdownCell]) -> tuple[DomainPage, ...]:
    months = months_back(ctx.month, BREAKDOWN_MONTHS)
    by_kpi = breakdowns(ctx, rows, months)
    return tuple(
        DomainPage(
            slug=domain.slug,
            title=domain.title,
            sections=tuple(
                KpiSection(ctx.catalog[kpi], series(ctx, ctx.catalog[kpi], TREND_MONTHS), tuple(by_kpi.get(kpi, ())))
                for kpi in domain.kpis
                if kpi in ctx.catalog
            ),
        )
        for domain in ctx.definitions.domains
    )
