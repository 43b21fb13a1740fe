"""Card rules that need the whole card or the known KPI names. Each rule returns issues, never raises.

Rule 16: weights sum to 1 and none is below 0.10 (errors); fewer than 3 or more than 5 KPIs is a
warning. Unknown KPI names get the closest valid names. Step tables must tile [0, inf) without
gaps or overlaps (rule 19). Targets must be usable by rule 15's ratios: no negative target, minimum,
stretch or fallback, the target between minimum and stretch, and a baseline that stays positive.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from kpiflow.scorecards.spec import ScorecardSpec
from kpiflow.yamlsource import LocatedYaml, field_path

Severity = Literal["error", "warning"]
Location = tuple[str | int, ...]
MIN_WEIGHT = Decimal("0.10")
KPI_COUNT_RANGE = (3, 5)


@dataclass(frozen=True)
class ValidationIssue:
    """A problem in one card file, pointing at the line and field a person must change."""

    severity: Severity
    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        field = f" {self.field}:" if self.field else ""
        return f"{where}: {self.severity}:{field} {self.message}"


def make_issue(
    path: Path, source: LocatedYaml | None, severity: Severity, location: Location, message: str
) -> ValidationIssue:
    line = source.line_of(location) if source is not None else None
    return ValidationIssue(severity, path, line, field_path(location), message)


Finding = tuple[Severity, Location, str]
CardRule = Callable[[ScorecardSpec, Collection[str]], Iterator[Finding]]


def weights_sum_to_one(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    total = sum((k.weight for k in card.kpis), Decimal(0))
    if total != 1:
        terms = " + ".join(str(k.weight) for k in card.kpis)
        yield (
            "error",
            ("kpis",),
            f"weights sum to {total} ({terms}), not 1; adjust them so they add up to exactly 1",
        )


def weights_at_least_minimum(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    for i, k in enumerate(card.kpis):
        if k.weight < MIN_WEIGHT:
            yield (
                "error",
                ("kpis", i, "weight"),
                f"{k.kpi} weighs {k.weight}, below the minimum {MIN_WEIGHT}; raise it or drop the KPI",
            )


def three_to_five_kpis(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    low, high = KPI_COUNT_RANGE
    if not low <= len(card.kpis) <= high:
        yield "warning", ("kpis",), f"the card has {len(card.kpis)} KPIs; {low} to {high} are recommended"


def no_duplicate_kpis(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    seen: dict[tuple[str, str | None], int] = {}
    for i, k in enumerate(card.kpis):
        key = (k.kpi, k.entity)
        if key in seen:
            yield (
                "error",
                ("kpis", i, "kpi"),
                f"{k.kpi} is already on the card (kpis[{seen[key]}]); list it once",
            )
        seen.setdefault(key, i)


def _unknown(name: str, known: Collection[str]) -> str | None:
    if name in known:
        return None
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `kpiflow list` to see the KPIs"
    return f"unknown KPI '{name}'{hint}"


def kpis_are_known(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    for i, k in enumerate(card.kpis):
        if message := _unknown(k.kpi, known):
            yield "error", ("kpis", i, "kpi"), message
    if card.department_multiplier and (message := _unknown(card.department_multiplier.kpi, known)):
        yield "error", ("department_multiplier", "kpi"), message


def components_are_on_card(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    on_card = {k.kpi for k in card.kpis}
    for i, component in enumerate(card.pay.components or []):
        if component.kpi not in on_card:
            yield (
                "error",
                ("pay", "components", i, "kpi"),
                f"component {component.name} uses {component.kpi}, which is not on the card; add it to kpis",
            )


def step_bands_tile(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    bands = card.pay.bands or []
    if not bands:
        return
    order = sorted(range(len(bands)), key=lambda i: bands[i].lower)

    def show(i: int) -> str:
        upper = "inf" if bands[i].upper is None else f"{bands[i].upper}%"
        return f"bands[{i}] [{bands[i].lower}%, {upper})"

    for i in order:
        if bands[i].upper is not None and bands[i].upper <= bands[i].lower:
            yield "error", ("pay", "bands", i), f"{show(i)} is empty: 'to' must be above 'from'"
    first = order[0]
    if bands[first].lower != 0:
        yield "error", ("pay", "bands", first), f"{show(first)} must start at 0 so every index has a band"
    for a, b in itertools.pairwise(order):
        upper = bands[a].upper
        if upper is None or upper > bands[b].lower:
            yield (
                "error",
                ("pay", "bands", b),
                f"{show(a)} and {show(b)} overlap; make one end where the other starts",
            )
        elif upper < bands[b].lower:
            yield (
                "error",
                ("pay", "bands", b),
                f"{show(a)} and {show(b)} leave a gap [{upper}%, {bands[b].lower}%); "
                f"make {show(a).split(' ')[0]}.to equal {bands[b].lower}",
            )
    last = order[-1]
    if bands[last].upper is not None:
        yield (
            "error",
            ("pay", "bands", last),
            f"{show(last)} must be open-ended (omit 'to') so high indexes have a band",
        )


def missing_kpi_is_renamed(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    if card.missing_kpi is None:
        return
    if card.on_missing is not None:
        yield "error", ("missing_kpi",), "give on_missing only (missing_kpi is its old name)"
    else:
        new = card.missing_policy()
        yield "warning", ("missing_kpi",), f"missing_kpi is renamed on_missing; write `on_missing: {new}`"


def _outside(value: Decimal | None, edges: tuple[Decimal | None, Decimal | None]) -> bool:
    """True when value and both edges are given and value is not between the edges (in either order)."""
    low, high = edges
    if value is None or low is None or high is None:
        return False
    return not min(low, high) <= value <= max(low, high)


def targets_not_negative(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    """Achievement is actual / target (or target / actual, rule 15): a negative level inverts it whatever the
    direction, and so does a baseline uplift of -1 or less."""
    for i, k in enumerate(card.kpis):
        rule, where = k.target, ("kpis", i, "target")
        levels: dict[tuple[str, ...], Decimal | None] = {
            ("constant",): rule.constant,
            ("minimum",): rule.minimum,
            ("stretch",): rule.stretch,
            ("minimum_factor",): rule.minimum_factor,
            ("stretch_factor",): rule.stretch_factor,
        }
        if rule.baseline is not None and not isinstance(rule.baseline.fallback, str):
            levels[("baseline", "fallback")] = rule.baseline.fallback
        for name, value in levels.items():
            if value is not None and value < 0:
                yield (
                    "error",
                    (*where, *name),
                    f"{k.kpi} has {'.'.join(name)} {value}: achievement divides by the target, so a negative level "
                    "inverts it; give 0 or more (a rate as a fraction: 0.05 for 5%) or a band (band_low, band_high)",
                )
        if rule.baseline is not None and rule.baseline.uplift <= -1:
            yield (
                "error",
                (*where, "baseline", "uplift"),
                f"{k.kpi} has uplift {rule.baseline.uplift}: the target would be the baseline x "
                f"{1 + rule.baseline.uplift}, 0 or less; give an uplift above -1",
            )


def target_between_levels(card: ScorecardSpec, known: Collection[str]) -> Iterator[Finding]:
    """A target outside [minimum, stretch] makes the statuses contradict each other (below minimum yet on target)."""
    for i, k in enumerate(card.kpis):
        rule, where = k.target, ("kpis", i, "target")
        if _outside(rule.constant, (rule.minimum, rule.stretch)):
            yield (
                "error",
                (*where, "constant"),
                f"{k.kpi}'s target {rule.constant} is not between its minimum {rule.minimum} and stretch "
                f"{rule.stretch}; move it between the two",
            )
        if _outside(Decimal(1), (rule.minimum_factor, rule.stretch_factor)):
            yield (
                "error",
                (*where, "minimum_factor"),
                f"{k.kpi}'s minimum_factor {rule.minimum_factor} and stretch_factor {rule.stretch_factor} do not "
                "bracket 1 (the baseline itself); the target lies between minimum and stretch",
            )


CARD_RULES: tuple[CardRule, ...] = (
    weights_sum_to_one,
    weights_at_least_minimum,
    three_to_five_kpis,
    no_duplicate_kpis,
    kpis_are_known,
    components_are_on_card,
    step_bands_tile,
    missing_kpi_is_renamed,
    targets_not_negative,
    target_between_levels,
)


def check_card(source: LocatedYaml, card: ScorecardSpec, known: Collection[str]) -> list[ValidationIssue]:
    """Run every card rule; the issues carry file, line and field."""
    return [
        make_issue(source.file, source, severity, location, message)
        for rule in CARD_RULES
        for severity, location, message in rule(card, known)
    ]
