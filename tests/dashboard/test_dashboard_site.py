"""Issue 19 without a browser: a hand-made marts file (two KPIs, a hidden HR cell, hostile labels) built into a site.

User-written text (labels, descriptions, owners) is inert on every page; a hidden cell says "fewer than N" with the
project's configured minimum; the marts file is opened read-only; pay stays out unless asked for.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.dashboard.build import build_dashboard
from kpiflow.errors import UserInputError
from kpiflow.warehouse.duckdb import DuckDBWarehouse

HOSTILE = "<script>alert('x')</script>{{ 7 * 7 }}{% raw %}"


def _marts(path: Path, label: str = "Net revenue") -> Path:
    """marts.kpi_catalog, kpi_values (two months, with a suppressed department cell) and a publish record."""
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as published")  # a file named marts.duckdb makes `marts.x` ambiguous
        con.execute("use published")
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_catalog as select * from (values "
            "('net_revenue', ?, ?, 'simple', 'currency', '$,.2f', 'higher_is_better', ?, 'finance', 'strategic', "
            "'store', null::double, null::double), "
            "('headcount', 'Headcount', 'People employed.', 'simple', 'count', ',d', 'higher_is_better', "
            "'Head of HR', 'people', 'operational', 'employee__department', null, null)) as c(kpi, label, description, "
            "metric_type, unit, format, direction, owner, perspective, level, natural_dimensions, band_low, band_high)",
            [label, f"described {HOSTILE}", f"owner {HOSTILE}"],
        )
        con.execute(
            "create table marts.kpi_values as select * from (values "
            "('net_revenue', 'month', date '2025-01-01', 'overall', null, null, 1234.5, false), "
            "('net_revenue', 'month', date '2025-02-01', 'overall', null, null, 2345.25, false), "
            "('net_revenue', 'month', date '2025-02-01', 'store', 'S1', null, 2345.25, false), "
            "('net_revenue', 'day', date '2025-02-28', 'overall', null, null, 99.5, false), "
            "('headcount', 'month', date '2025-02-01', 'overall', null, null, 40, false), "
            "('headcount', 'month', date '2025-02-01', 'department', null, 'legal', null, true), "
            "('headcount', 'month', date '2025-02-01', 'department', null, 'sales', 36, false)"
            ") as v(kpi, grain, period_start, dimension_set, store_id, department, value, is_suppressed)"
        )
        con.execute("create table main._kpiflow_publish as select date '2025-02-28' as run_date")
    return path


def _published(marts: Path) -> DuckDBWarehouse:
    """The DuckDB warehouse whose published marts are `marts` (the dashboard opens nothing else)."""
    return DuckDBWarehouse(marts.with_name("no-build.duckdb"), marts, marts.parent / "state")


def _project(root: Path, minimum: int | None = None) -> Path:
    root.mkdir()
    text = "name: kpiflow\n" + (f"vars:\n  hr_min_cell_size: {minimum}\n" if minimum is not None else "")
    (root / "dbt_project.yml").write_text(text)
    return root


def test_user_written_text_is_escaped_on_every_page(tmp_path: Path) -> None:
    marts = _marts(tmp_path / "marts.duckdb", label=f"Revenue {HOSTILE}")
    site = build_dashboard(_published(marts), tmp_path / "site", _project(tmp_path / "project"))
    texts = {name: (site.out_dir / name).read_text() for name in site.pages}
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;{{ 7 * 7 }}{% raw %}" in texts["catalog.html"]
    for name, html in texts.items():
        assert "<script>alert" not in html, name
        assert "49" not in html.replace("2345.25", ""), name  # {{ 7 * 7 }} was never evaluated
    assert "owner &lt;script&gt;" in texts["catalog.html"]


def test_hidden_hr_cells_say_fewer_than_the_configured_minimum_and_show_no_value(tmp_path: Path) -> None:
    marts = _marts(tmp_path / "marts.duckdb")
    site = build_dashboard(_published(marts), tmp_path / "site", _project(tmp_path / "project", minimum=7))
    html = (site.out_dir / "other.html").read_text()
    assert '<tr data-member="legal"><th scope="row">legal</th>' in html
    legal = html.split('<tr data-member="legal">')[1].split("</tr>")[0]
    assert legal.endswith('<td class="suppressed" title="hidden by the privacy rule">fewer than 7</td>')
    assert "fewer than 5" not in html


def test_the_marts_file_is_read_not_written_and_a_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    marts = _marts(tmp_path / "marts.duckdb")
    before = hashlib.sha256(marts.read_bytes()).hexdigest()
    build_dashboard(_published(marts), tmp_path / "site", _project(tmp_path / "project"))
    assert hashlib.sha256(marts.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob("marts.duckdb.wal"))
    with pytest.raises(UserInputError, match=r"no published marts at .*missing\.duckdb; run `kpiflow run` first"):
        build_dashboard(_published(tmp_path / "missing.duckdb"), tmp_path / "site2", tmp_path / "project")


def test_a_rebuild_replaces_the_site_and_writes_plotly_once(tmp_path: Path) -> None:
    marts = _marts(tmp_path / "marts.duckdb")
    project = _project(tmp_path / "project")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "stale.html").write_text("old")
    site = build_dashboard(_published(marts), tmp_path / "site", project)
    assert not (site.out_dir / "stale.html").exists()
    assert [p.name for p in site.out_dir.rglob("plotly*.js")] == ["plotly.min.js"]
    for name in site.pages:
        html = (site.out_dir / name).read_text()
        assert html.count('src="assets/plotly.min.js"') == 1 and "cdn" not in html.lower(), name
    shutil.rmtree(site.out_dir)


def test_the_cli_builds_the_site_beside_the_marts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import sys

    from kpiflow.cli import main

    (tmp_path / "warehouse").mkdir()
    marts = _marts(tmp_path / "warehouse" / "marts.duckdb")
    monkeypatch.setenv("KPIFLOW_MARTS", str(marts))
    monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(_project(tmp_path / "project")))
    monkeypatch.setattr(sys, "argv", ["kpiflow", "dashboard"])
    main()
    assert (tmp_path / "warehouse" / "dashboard" / "index.html").is_file()
    assert f"at {tmp_path / 'warehouse' / 'dashboard' / 'index.html'}" in capsys.readouterr().out
    assert date(2025, 2, 28).isoformat() in (tmp_path / "warehouse" / "dashboard" / "index.html").read_text()


def test_serve_builds_then_serves_the_site_on_localhost(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys
    import urllib.request

    marts = _marts(tmp_path / "marts.duckdb")
    env = {**os.environ, "KPIFLOW_MARTS": str(marts), "KPIFLOW_PROJECT_DIR": str(_project(tmp_path / "project"))}
    command = [
        sys.executable,
        "-m",
        "kpiflow.cli",
        "dashboard",
        "--out",
        str(tmp_path / "site"),
        "--serve",
        "--port",
        "0",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline(), server.stdout.readline()]
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", lines[1])
        assert lines[0].startswith("dashboard: ") and match, (lines, server.poll())
        with urllib.request.urlopen(match.group(1) + "index.html", timeout=10) as response:
            assert "KPI overview" in response.read().decode()
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(
    ("value", "spec", "shown"),
    [
        (1234.567, "$,.2f", "$1,234.57"),
        (-3.2, "$,.2f", "-$3.20"),
        (0.12345, ".1%", "12.3%"),
        (0.12345, ".2%", "12.35%"),
        (1234.4, ",d", "1,234"),
        (3.14159, ",.1f", "3.1"),
        (None, ",d", "—"),
        (2.5, "not a format", "2.50"),
    ],
)
def test_values_follow_the_catalog_format(value: float | None, spec: str, shown: str) -> None:
    from kpiflow.dashboard.formats import format_value

    assert format_value(value, spec) == shown


def test_changes_are_points_for_rates_and_percent_otherwise() -> None:
    from kpiflow.dashboard.formats import change_direction, format_change

    assert format_change(0.25, 0.20, ".1%") == "+5.0 pp"
    assert format_change(110.0, 100.0, "$,.2f") == "+10.0%"
    assert format_change(1.0, 0.0, ",d") == "—"
    assert change_direction(110.0, 100.0, "lower_is_better") == "worse"
    assert change_direction(110.0, 100.0, "higher_is_better") == "better"
