"""Load every card in a folder: parse with lines, check the shape, run the card rules, convert.

Returns issues instead of raising, so a person sees every problem at once; callers decide what an
error means (build_scorecards raises UserInputError).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kpiflow.scorecards.model import BaselineTarget, ConstantTarget, Scorecard
from kpiflow.scorecards.spec import ScorecardSpec
from kpiflow.scorecards.validation import ValidationIssue, check_card, field_name, make_issue
from kpiflow.scorecards.yaml_lines import LineDict, LineList, line_of, load_yaml

KnownKpis = Collection[str] | Callable[[], Collection[str]]


def _existing_prefix(document: Any, location: tuple[Any, ...], keep_missing_leaf: bool) -> tuple[Any, ...]:
    """The part of a pydantic location that names real YAML nodes (drops union tags like 'decimal')."""
    node, kept = document, []
    for part in location:
        in_map = isinstance(node, LineDict) and part in node
        if in_map or (isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        else:
            if keep_missing_leaf and isinstance(part, str):
                kept.append(part)
            break
        kept.append(part)
    return tuple(kept)


def _friendly(error: dict[str, Any]) -> str:
    kind, message = error["type"], str(error["msg"])
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field; check its spelling against docs/scorecards.md"
    return message.removeprefix("Value error, ")


def _shape_issues(path: Path, document: Any, error: ValidationError) -> list[ValidationIssue]:
    merged: dict[tuple[Any, ...], list[str]] = {}
    for item in error.errors():
        location = _existing_prefix(document, tuple(item["loc"]), keep_missing_leaf=item["type"] == "missing")
        text = _friendly(dict(item))
        if text not in merged.setdefault(location, []):
            merged[location].append(text)
    return [
        ValidationIssue("error", path, line_of(document, loc), field_name(loc), " or ".join(texts))
        for loc, texts in merged.items()
    ]


def _load_one(path: Path, known: Collection[str]) -> tuple[Scorecard | None, list[ValidationIssue], Any]:
    try:
        document = load_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [ValidationIssue("error", path, line, "", f"invalid YAML: {problem}")], None
    if not isinstance(document, LineDict):
        issue = ValidationIssue("error", path, 1, "", "a scorecard file must be a mapping (role, kpis, ...)")
        return None, [issue], document
    try:
        spec = ScorecardSpec.model_validate(document)
    except ValidationError as exc:
        return None, _shape_issues(path, document, exc), document
    issues = check_card(path, document, spec, known)
    if any(issue.severity == "error" for issue in issues):
        return None, issues, document
    return spec.to_model(path.stem, path), issues, document


def _cross_card_issues(cards: list[Scorecard], documents: dict[Path, Any]) -> list[ValidationIssue]:
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
    documents: dict[Path, Any] = {}
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
