"""What the dashboard takes from the project's own files: which metric file (domain) each KPI comes from, its
formula as the YAML writes it, and the HR privacy minimum (dbt var `hr_min_cell_size`).

Values always come from the published marts; these files only group and explain them. A KPI whose file is not
found lands in an "Other KPIs" page, so a marts file published from another checkout still renders in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kpiflow.compiler.loader import load_specs
from kpiflow.compiler.privacy import PRIVACY_DEFAULT, PRIVACY_VAR
from kpiflow.compiler.spec import MetricInput, MetricSpec

# Page titles of the project's metric files; any other file is titled from its name (hr_extra.yml -> "Hr extra").
DOMAIN_TITLES = {
    "sales": "Sales and retail",
    "inventory": "Inventory",
    "hr": "HR",
    "sales_team": "Sales team",
}
OTHER_DOMAIN = "other"


@dataclass(frozen=True)
class Domain:
    slug: str
    title: str
    kpis: tuple[str, ...]


@dataclass(frozen=True)
class Definitions:
    domains: tuple[Domain, ...]
    formulas: dict[str, str] = field(default_factory=dict)
    privacy_minimum: int = PRIVACY_DEFAULT


def read_definitions(project_dir: Path, published_kpis: list[str]) -> Definitions:
    """Domains in the metric files' order, holding the published KPIs only; formulas; the privacy minimum."""
    specs = load_specs(project_dir / "metrics") if (project_dir / "metrics").is_dir() else None
    by_file: dict[str, list[str]] = {}
    formulas: dict[str, str] = {}
    published = set(published_kpis)
    for metric, location in specs.metrics if specs else []:
        if metric.name in published:
            by_file.setdefault(location.file.stem, []).append(metric.name)
            formulas[metric.name] = formula(metric)
    placed = {kpi for kpis in by_file.values() for kpi in kpis}
    others = [kpi for kpi in published_kpis if kpi not in placed]
    if others:
        by_file[OTHER_DOMAIN] = others
    order = [*DOMAIN_TITLES, *sorted(by_file), OTHER_DOMAIN]  # the project's domains first, then by file name
    slugs = sorted(by_file, key=order.index)
    domains = tuple(Domain(slug, domain_title(slug), tuple(by_file[slug])) for slug in slugs)
    return Definitions(domains, formulas, privacy_minimum(project_dir))


def domain_title(slug: str) -> str:
    if slug == OTHER_DOMAIN:
        return "Other KPIs"
    return DOMAIN_TITLES.get(slug, slug.replace("_", " ").capitalize())


def privacy_minimum(project_dir: Path) -> int:
    """The HR cell minimum the marts were suppressed with: dbt_project.yml `vars`, else dbt's default."""
    try:
        project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return PRIVACY_DEFAULT
    value = (project.get("vars") or {}).get(PRIVACY_VAR, PRIVACY_DEFAULT)
    try:
        return int(value)
    except (TypeError, ValueError):
        return PRIVACY_DEFAULT


def formula(metric: MetricSpec) -> str:
    """The calculation in the YAML's own terms (measure and metric names), for the catalog page."""
    if metric.type == "ratio":
        text = f"{_input(metric.numerator)} / {_input(metric.denominator)}"
    elif metric.type == "derived":
        inputs = ", ".join(_input(item) for item in metric.metrics)
        text = f"{metric.expr} (with {inputs})" if inputs else str(metric.expr)
    elif metric.type == "cumulative":
        span = f"over {metric.window}" if metric.window else f"{metric.grain_to_date} to date"
        text = f"sum of {metric.measure} {span}"
    elif metric.type == "conversion" and metric.conversion:
        c = metric.conversion
        text = f"{c.conversion_measure} / {c.base_measure} per {c.entity} within {c.window}"
    elif metric.type == "retention" and metric.retention:
        text = f"{metric.retention.entity}s with {metric.retention.measure} in both periods / in the previous period"
    else:
        text = str(metric.measure)
    return f"{text} where {metric.filter}" if metric.filter else text


def _input(item: MetricInput | str | None) -> str:
    if item is None or isinstance(item, str):
        return str(item)
    text = item.name
    if item.filter:
        text += f" where {item.filter}"
    if item.offset_window:
        text += f" ({item.offset_window} earlier)"
    return text
