"""`kpiflow compile` checks the cards under metrics/scorecards too, so a bad card stops the compile, not the night.

The card rules are the ones `kpiflow run` applies (scorecards.loader and scorecards.validation), run against the
KPIs this compile defines, and reported in the compiler's issue format. The compile also knows what the run can
only warn about afterwards: whether each card KPI is published at the card's entity and grain (its
natural_dimensions and grains), without which every card line would have no value.
"""

from __future__ import annotations

from pathlib import Path

from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.issues import Location, ValidationIssue
from kpiflow.compiler.model_names import dimension_set_label, kpi_metrics
from kpiflow.scorecards import ValidationIssue as CardIssue
from kpiflow.scorecards import load_scorecards
from kpiflow.scorecards.model import ENTITY_DIMENSION_SET, Scorecard
from kpiflow.yamlsource import field_path, load_located

CARDS_FOLDER = "scorecards"


def _converted(issue: CardIssue) -> ValidationIssue:
    return ValidationIssue(Location(issue.file, issue.line, issue.field), issue.message, severity=issue.severity)


def _published(graph: SemanticGraph) -> dict[str, tuple[set[str], set[str]]]:
    """KPI -> (dimension sets it is published at in kpi_values, grains)."""
    out = {}
    for metric in kpi_metrics(graph):
        assert metric.kpi is not None
        sets = {"overall"} | {dimension_set_label((d,)) for d in metric.kpi.natural_dimensions}
        out[metric.name] = (sets, set(metric.kpi.grains))
    return out


def _publication_issues(card: Scorecard, published: dict[str, tuple[set[str], set[str]]]) -> list[ValidationIssue]:
    path = card.source
    assert isinstance(path, Path)
    source = load_located(path, exact_decimals=True)
    wanted = [(("kpis", i, "kpi"), item.kpi, item.entity_type) for i, item in enumerate(card.kpis)]
    if card.department_multiplier is not None:
        wanted.append((("department_multiplier", "kpi"), card.department_multiplier.kpi, "department"))
    issues = []
    for location, kpi, entity in wanted:
        sets, grains = published[kpi]
        needed = ENTITY_DIMENSION_SET[entity]
        problems = []
        if needed not in sets:
            problems.append(
                f"{kpi} is not published by {needed} (its natural_dimensions give: {', '.join(sorted(sets))}); "
                f"add the dimension to its kpi.natural_dimensions or score it at another entity"
            )
        if card.grain not in grains:
            problems.append(f"{kpi} has no {card.grain} values (grains: {', '.join(sorted(grains))}); add the grain")
        where = Location(path, source.line_of(location), field_path(location))
        issues += [ValidationIssue(where, problem) for problem in problems]
    return issues


def scorecard_issues(metrics_dir: Path, graph: SemanticGraph) -> list[ValidationIssue]:
    """Every problem of the cards under `metrics_dir`/scorecards, errors and warnings, located by file:line."""
    published = _published(graph)
    cards, issues = load_scorecards(metrics_dir / CARDS_FOLDER, set(published))
    found = [_converted(issue) for issue in issues]
    for card in cards:
        found += _publication_issues(card, published)
    return found
