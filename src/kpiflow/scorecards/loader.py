"""Load every card in a folder: parse with lines, check the shape, run the card rules, convert.

Returns issues instead of raising, so a person sees every problem at once; callers decide what an
error means (build_scorecards raises UserInputError).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kpiflow.scorecards.model import BaselineTarget, ConstantTarget, Scorecard
from kpiflow.scorecards.spec import ScorecardSpec
from kpiflow.scorecards.validation import ValidationIssue, check_card, make_issue
from kpiflow.yamlsource import LocatedYaml, SchemaProblem, YamlSyntaxError, load_located, schema_problems

KnownKpis = Collection[str] | Callable[[], Collection[str]]


def _shape_issue(path: Path, problem: SchemaProblem) -> ValidationIssue:
    message = problem.text()
    if problem.kind == "extra_forbidden":
        message += " See docs/scorecards.md for the fields of a card."
    return ValidationIssue("error", path, problem.line, problem.field, message)


def _load_one(path: Path, known: Collection[str]) -> tuple[Scorecard | None, list[ValidationIssue], LocatedYaml | None]:
    try:
        source = load_located(path, exact_decimals=True)
    except YamlSyntaxError as exc:
        return None, [ValidationIssue("error", path, exc.line, "", exc.message)], None
    if not isinstance(source.data, dict):
        issue = ValidationIssue("error", path, 1, "", "a scorecard file must be a mapping (role, kpis, ...)")
        return None, [issue], source
    try:
        spec = ScorecardSpec.model_validate(source.data)
    except ValidationError as exc:
        return None, [_shape_issue(path, problem) for problem in schema_problems(source, exc, ScorecardSpec)], source
    issues = check_card(source, spec, known)
    if any(issue.severity == "error" for issue in issues):
        return None, issues, source
    return spec.to_model(path.stem, path), issues, source


def _cross_card_issues(cards: list[Scorecard], documents: dict[Path, LocatedYaml | None]) -> list[ValidationIssue]:
    """Names are unique, and one KPI at one entity and grain has one target rule across all cards."""
    issues: list[ValidationIssue] = []
    names: dict[str, Scorecard] = {}
    rules: dict[tuple[str, str, str], tuple[Scorecard, Any]] = {}
    for card in cards:
        path = card.source or Path(card.name)
        if card.name in names:
            other = names[card.name].source
            message = f"card name {card.name} is also used by {other}; card names must be unique"
            issues.append(make_issue(path, documents.get(path), "error", ("name",), message))
        names.setdefault(card.name, card)
        for i, line in enumerate(card.kpis):
            if not isinstance(line.target_rule, BaselineTarget | ConstantTarget):
                continue
            key = (line.kpi, line.entity_type, card.grain)
            previous = rules.setdefault(key, (card, line.target_rule))
            if previous[1] != line.target_rule:
                issues.append(
                    make_issue(
                        path,
                        documents.get(path),
                        "error",
                        ("kpis", i, "target"),
                        f"{line.kpi} at {line.entity_type}/{card.grain} already has a different target rule "
                        f"in {previous[0].source}; use the same rule or a seed",
                    )
                )
    return issues


def load_scorecards(directory: Path, known_kpis: KnownKpis) -> tuple[list[Scorecard], list[ValidationIssue]]:
    """Every *.yml/*.yaml card under `directory`, and the issues found (errors drop the card)."""
    known = known_kpis() if callable(known_kpis) else known_kpis
    known = frozenset(known)
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]) if directory.is_dir() else []
    cards: list[Scorecard] = []
    issues: list[ValidationIssue] = []
    documents: dict[Path, LocatedYaml | None] = {}
    for path in files:
        card, card_issues, documents[path] = _load_one(path, known)
        issues.extend(card_issues)
        if card is not None:
            cards.append(card)
    cross = _cross_card_issues(cards, documents)
    if cross:
        bad = {issue.file for issue in cross}
        cards = [card for card in cards if card.source not in bad]
    return cards, issues + cross
