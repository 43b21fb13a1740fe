"""Build the static site: read the published marts once, compute the pages, write them with their assets.

The site is rebuilt in a sibling temporary folder and swapped in at the end, so a browser (or a web server)
never sees half a site, and a failed build leaves the previous one in place.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from kpiflow.dashboard import pages
from kpiflow.dashboard.definitions import read_definitions
from kpiflow.dashboard.formats import format_value
from kpiflow.dashboard.marts import (
    published_marts,
    read_as_of,
    read_breakdowns,
    read_catalog,
    read_company_targets,
    read_overall,
    read_pay_cards,
)
from kpiflow.dashboard.pay import card_page
from kpiflow.dashboard.render import environment, write_assets, write_page
from kpiflow.warehouse import Warehouse

PAY_FOLDER = "pay"


@dataclass(frozen=True)
class DashboardSite:
    """Where the site was written, its pages and size: the flow's summary links to `index`."""

    out_dir: Path
    pages: tuple[str, ...]
    size_bytes: int
    include_pay: bool

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"

    def headline(self) -> str:
        return f"{len(self.pages)} pages, {self.size_bytes / 1e6:.1f} MB at {self.index}"


def build_dashboard(
    warehouse: Warehouse, out_dir: Path, project_dir: Path, *, include_pay: bool = False
) -> DashboardSite:
    """Write the dashboard for the marts `warehouse` publishes into `out_dir` (replacing what was there)."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        written = _write_site(warehouse, staging, project_dir, include_pay)
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    return DashboardSite(out_dir, written, size, include_pay)


def _write_site(warehouse: Warehouse, out_dir: Path, project_dir: Path, include_pay: bool) -> tuple[str, ...]:
    with published_marts(warehouse) as con:
        catalog = {entry.kpi: entry for entry in read_catalog(con)}
        as_of = read_as_of(con)
        month = pages.latest_complete_month(as_of)
        first_month = pages.months_back(month, pages.TREND_MONTHS + 12)[0]
        ctx = pages.PageContext(
            as_of=as_of,
            catalog=catalog,
            daily=read_overall(con, "day", pages.year_before(as_of) - timedelta(days=1)),
            monthly=read_overall(con, "month", first_month),
            targets=read_company_targets(con),
            definitions=read_definitions(project_dir, list(catalog)),
        )
        breakdown_rows = read_breakdowns(con, pages.months_back(month, pages.BREAKDOWN_MONTHS)[0], month)
        pay_cards = read_pay_cards(con) if include_pay else []
    env = environment()
    env.globals.update(
        as_of=as_of, month=month, domains=ctx.definitions.domains, suppressed_text=ctx.suppressed_text,
        format_value=format_value,
    )  # fmt: skip
    write_assets(out_dir)
    cards = pages.overview(ctx)
    written = [write_page(env, out_dir, "index.html", "overview.html.j2", title="KPI overview", cards=cards)]
    for page in pages.domain_pages(ctx, breakdown_rows):
        written.append(write_page(env, out_dir, f"{page.slug}.html", "domain.html.j2", title=page.title, page=page))
    entries = sorted(catalog.values(), key=lambda e: e.label.lower())
    written.append(
        write_page(env, out_dir, "catalog.html", "catalog.html.j2", title="KPI catalog", entries=entries,
                   formulas=ctx.definitions.formulas)
    )  # fmt: skip
    if include_pay:
        written.append(write_page(env, out_dir, f"{PAY_FOLDER}/index.html", "pay.html.j2", title="Scorecards and pay",
                                  cards=[card_page(card) for card in pay_cards]))  # fmt: skip
    return tuple(str(path.relative_to(out_dir)) for path in written)


def _swap(staging: Path, out_dir: Path) -> None:
    """Replace `out_dir` by the freshly written folder (two renames; the old site is removed afterwards)."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}-old-{staging.name}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
