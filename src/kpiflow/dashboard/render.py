"""Write the site: Jinja2 templates shipped with kpiflow, autoescaped, so labels and owners stay text.

Every string from the YAML or the marts reaches HTML through `{{ }}` with autoescape on; the only markup
inserted unescaped is plotly's own chart fragments (built from numbers and labels plotly JSON-encodes).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kpiflow.dashboard import charts

ASSETS = "assets"
STYLESHEET = "dashboard.css"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kpiflow.dashboard", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        sparkline=lambda entry, series: Markup(charts.sparkline(entry, series)),
        trend=lambda entry, series: Markup(charts.trend(entry, series)),
        breakdown=lambda entry, table: Markup(charts.breakdown(entry, table)),
    )
    return env


def write_assets(out_dir: Path) -> None:
    """plotly.js and the stylesheet, once per site; every page links them by a relative path (works offline)."""
    folder = out_dir / ASSETS
    folder.mkdir(parents=True, exist_ok=True)
    charts.write_plotly_js(folder)
    css = resources.files("kpiflow.dashboard").joinpath("static", STYLESHEET).read_bytes()
    (folder / STYLESHEET).write_bytes(css)


def write_page(env: Environment, out_dir: Path, name: str, template: str, **context: Any) -> Path:
    """Render one page; `root` is the relative way back to the site's top folder (pages in subfolders)."""
    target = out_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    root = "../" * (len(Path(name).parts) - 1)
    target.write_text(env.get_template(template).render(root=root, **context), encoding="utf-8")
    return target
