"""Dashboard: build time and size of the static site on published marts, and the overview's load time in Chromium.

Builds the site from a marts file (`--marts`, default KPIFLOW_MARTS; produce scale-1 marts with
`kpiflow demo-data --scale 1` + `kpiflow run` in a scratch folder), then opens `index.html` in headless Chromium
(the system browser, installed by the tests' helper where missing) with the network blocked, and times
navigation start -> every chart drawn, best of N (aim: under 2 s). Prints one JSON document.

Usage: .venv/bin/python bench/bench_dashboard.py --marts /scratch/marts.duckdb [--repeat 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dashboard"))

from chromium import ensure_chromium  # noqa: E402

ALL_CHARTS_DRAWN = (
    "() => document.querySelectorAll('.plotly-graph-div').length > 0 && "
    "document.querySelectorAll('.js-plotly-plot').length === document.querySelectorAll('.plotly-graph-div').length"
)


def load_seconds(page_path: Path, repeat: int, drawn: str | None = ALL_CHARTS_DRAWN) -> list[float]:
    """Navigation start -> load (and, with `drawn`, every chart drawn), a fresh browser context per load."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()), headless=True,
                                             args=["--no-sandbox"])  # fmt: skip
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                          else route.abort())  # fmt: skip
            page = context.new_page()
            start = time.perf_counter()
            page.goto(page_path.as_uri(), wait_until="load")
            if drawn:
                page.wait_for_function(drawn)
            times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return times


def plotly_only_page(site_dir: Path) -> Path:
    """The baseline: a page that loads the site's plotly.min.js and draws nothing (the floor any plotly page pays)."""
    page = site_dir.parent / "plotly-only.html"
    page.write_text(f'<!doctype html><html><head><script src="{site_dir.name}/assets/plotly.min.js"></script>'
                    "</head><body></body></html>")  # fmt: skip
    return page


def main() -> None:
    from kpiflow.config import Settings
    from kpiflow.dashboard.build import build_dashboard
    from kpiflow.warehouse.duckdb import DuckDBWarehouse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marts", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings.from_env()
    marts = args.marts or settings.marts_path
    out = args.out or Path(tempfile.mkdtemp(prefix="kpiflow-bench-dashboard-")) / "dashboard"
    start = time.perf_counter()
    site = build_dashboard(
        DuckDBWarehouse(settings.warehouse_path, marts, settings.state_dir), out, settings.project_dir
    )
    build_seconds = time.perf_counter() - start
    loads = load_seconds(site.index, args.repeat)
    baseline = load_seconds(plotly_only_page(site.out_dir), args.repeat, drawn=None)
    sizes = {p.name: p.stat().st_size for p in sorted(site.out_dir.rglob("*")) if p.is_file()}
    print(json.dumps({
        "marts_mb": round(marts.stat().st_size / 1e6, 1),
        "build_seconds": round(build_seconds, 2),
        "overview_load_seconds_best": round(min(loads), 3),
        "overview_load_seconds_all": [round(t, 3) for t in loads],
        "plotly_only_load_seconds_best": round(min(baseline), 3),
        "overview_over_plotly_only": round(min(loads) / min(baseline), 2),
        "site_mb": round(site.size_bytes / 1e6, 2),
        "files_kb": {name: round(size / 1e3) for name, size in sizes.items()},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 1) for x in os.getloadavg()]},
        "site": str(site.out_dir),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
