"""Issue 19 in a real browser: the built site in headless Chromium with every network request blocked.

No console errors and no failed or outside requests; every chart drawn with its points; the numbers shown
equal the published marts; HR cells under the privacy minimum show no value; no pay anywhere without
--include-pay. Screenshots of the overview, a domain page and a scorecard are saved in the test's tmp folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_demo import PRIVACY_MINIMUM

from kpiflow.dashboard.build import DashboardSite, build_dashboard
from kpiflow.dashboard.formats import format_value
from kpiflow.scorecards.formatting import money
from kpiflow.warehouse.duckdb import DuckDBWarehouse

pytestmark = pytest.mark.slow

CHART_STATS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
    id: gd.id,
    points: gd.data.map(t => Array.from(t.y || []).filter(v => v !== null).length),
    drawn: gd.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
}))"""


@dataclass
class Browser:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === "
                                    "document.querySelectorAll('.plotly-graph-div').length")  # fmt: skip


@pytest.fixture(scope="module")
def sites(published, tmp_path_factory: pytest.TempPathFactory) -> tuple[DashboardSite, DashboardSite]:
    root = tmp_path_factory.mktemp("dashboard_sites")
    warehouse = DuckDBWarehouse.for_file(published.marts.with_name("kpiflow.duckdb"))  # marts.duckdb beside it
    plain = build_dashboard(warehouse, root / "dashboard", published.project)
    with_pay = build_dashboard(warehouse, root / "dashboard-with-pay", published.project, include_pay=True)
    return plain, with_pay


@pytest.fixture(scope="module")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_executable), headless=True,
                                              args=["--no-sandbox", "--allow-file-access-from-files"])  # fmt: skip
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, offline=True)
        page = context.new_page()
        recorder = Browser(page)

        def only_local(route: Any) -> None:
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                recorder.outside_requests.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        page.on("console", lambda m: m.type == "error" and recorder.console_errors.append(m.text))
        page.on("pageerror", lambda e: recorder.console_errors.append(str(e)))
        page.on("requestfailed", lambda r: recorder.failed_requests.append(r.url))
        yield recorder
        chromium.close()


def _marts(published) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"attach '{published.marts}' as p (read_only)")
    return con


def test_every_page_loads_offline_without_errors_and_draws_every_chart(sites, browser: Browser) -> None:
    plain, with_pay = sites
    for site in (plain, with_pay):
        for name in site.pages:
            browser.open(site.out_dir / name)
            charts = browser.page.evaluate(CHART_STATS)
            if name in ("catalog.html", "pay/index.html"):
                continue
            assert charts, f"{name}: no charts"
            for chart in charts:
                assert chart["drawn"] >= 1, f"{name}: chart {chart['id']} drew nothing"
                assert max(chart["points"]) > 0, f"{name}: chart {chart['id']} has no data points"
    assert browser.console_errors == []
    assert browser.outside_requests == []
    assert browser.failed_requests == []


def test_overview_cards_and_sparklines_show_the_published_values(published, sites, browser: Browser) -> None:
    plain, _ = sites
    browser.open(plain.index)
    con = _marts(published)
    for kpi in ("net_revenue", "order_count", "gross_margin_pct"):
        card = browser.page.locator(f"article.card[data-kpi='{kpi}']")
        fmt, value = con.execute(
            "select c.format, v.value from p.marts.kpi_catalog c join p.marts.kpi_values v using (kpi) "
            "where kpi = ? and grain = 'month' and dimension_set = 'overall' and period_start = date '2025-02-01'",
            [kpi],
        ).fetchone()
        month = card.locator("dd.value.month")
        assert float(month.get_attribute("data-value")) == pytest.approx(value)
        assert month.inner_text() == format_value(value, fmt)
        spark = browser.page.evaluate(f"() => document.getElementById('spark-{kpi}').data[0].y.length")
        assert spark == 13


def test_domain_pages_show_marts_values_for_stores_and_months(published, sites, browser: Browser) -> None:
    plain, _ = sites
    con = _marts(published)
    browser.open(plain.out_dir / "sales.html")
    rows = con.execute(
        "select store_id, strftime(period_start, '%Y-%m'), value from p.marts.kpi_values where kpi = 'net_revenue' "
        "and grain = 'month' and dimension_set = 'store' and store_id is not null "
        "and period_start between date '2024-03-01' and date '2025-02-01' order by store_id, period_start"
    ).fetchall()
    assert len(rows) >= 12
    table = browser.page.locator("#net_revenue details:has(summary:text('by store and month'))")
    months = table.locator("thead th").all_text_contents()[1:]
    for store, month, value in rows[:: max(1, len(rows) // 8)]:
        row = table.locator(f"tr[data-member='{store}']")
        cell = row.locator("td").nth(months.index(month))
        assert float(cell.get_attribute("data-value")) == pytest.approx(value), (store, month)
        assert cell.text_content() == format_value(value, "$,.2f")
    trend = browser.page.evaluate("() => document.getElementById('trend-net_revenue').data.at(-1).y")
    overall = dict(con.execute(
        "select strftime(period_start, '%Y-%m'), value from p.marts.kpi_values where kpi = 'net_revenue' "
        "and grain = 'month' and dimension_set = 'overall'").fetchall())  # fmt: skip
    assert trend[-1] == pytest.approx(overall["2025-02"])
    assert trend[-13] == pytest.approx(overall["2024-02"])


def test_hr_cells_under_the_privacy_minimum_show_no_value(published, sites, browser: Browser) -> None:
    plain, _ = sites
    con = _marts(published)
    hidden = con.execute(
        "select kpi, dimension_set, coalesce(store_id, department), strftime(period_start, '%Y-%m') "
        "from p.marts.kpi_values where is_suppressed and grain = 'month' and dimension_set in ('store', 'department') "
        "and period_start between date '2024-03-01' and date '2025-02-01' "
        "and coalesce(store_id, department) is not null "
        "and kpi in ('headcount', 'hires', 'terminations', 'employee_turnover_rate') order by all limit 5"
    ).fetchall()
    assert hidden, con.execute(
        "select kpi, dimension_set, grain, year(period_start), count(*) from p.marts.kpi_values "
        "where is_suppressed group by all order by all"
    ).fetchall()
    browser.open(plain.out_dir / "hr.html")
    for kpi, dimension_set, member, month in hidden:
        table = browser.page.locator(f"#{kpi} details:has(summary:text('by {dimension_set} and month'))")
        months = table.locator("thead th").all_text_contents()[1:]
        cell = table.locator(f"tr[data-member='{member}'] td").nth(months.index(month))
        assert cell.text_content() == f"fewer than {PRIVACY_MINIMUM}"
        assert cell.get_attribute("data-value") is None
    html = (plain.out_dir / "hr.html").read_text()
    assert f"fewer than {PRIVACY_MINIMUM}" in html and "fewer than 5" not in html


def test_no_pay_figure_anywhere_without_include_pay_and_screenshots(
    published, sites, browser: Browser, tmp_path
) -> None:
    plain, with_pay = sites
    con = _marts(published)
    amounts = {
        money(v)
        for (v,) in con.execute(
            "select distinct unnest([fixed_pay, variable_pay, bonus, total_pay]) as v from p.payroll.payouts"
        ).fetchall()
        if v is not None and v >= 100 and v % 1 != 0
    }
    assert amounts
    # A whole number as written (not the middle of a longer one: 6163.50 but not 16163.501).
    pattern = re.compile("|".join(rf"(?<![\d.,]){re.escape(a)}(?![\d])" for a in sorted(amounts)))
    pay_page = (with_pay.out_dir / "pay" / "index.html").read_text()
    assert pattern.search(pay_page)  # the grep finds pay where it is shown
    files = [f for f in plain.out_dir.rglob("*") if f.is_file() and f.suffix in (".html", ".css")]
    for file in files:
        text = file.read_text()
        assert not pattern.findall(text), file
        assert "payroll" not in text and "total_pay" not in text, file
    assert not (plain.out_dir / "pay").exists()

    shots = {"overview.png": plain.index, "sales.png": plain.out_dir / "sales.html",
             "scorecard.png": with_pay.out_dir / "pay" / "index.html"}  # fmt: skip
    for name, page in shots.items():
        browser.open(page)
        browser.page.screenshot(path=str(tmp_path / name), full_page=name != "sales.png")
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshots: {tmp_path}")
