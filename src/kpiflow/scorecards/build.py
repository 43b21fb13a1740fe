"""The pipeline step after dbt: targets -> achievement -> scorecards -> pay, written to the warehouse.

build_scorecards reads only from the warehouse session it is given (kpi_values, kpi_catalog, stg_employees,
the seeds) and the card YAML, and replaces its output tables (warnings included) in one transaction.
Only periods that have started by the run date are scored; the one still open is marked provisional
(rule 22: as of the run date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kpiflow.errors import RunFailed, UserInputError
from kpiflow.scorecards import inputs
from kpiflow.scorecards.achievement_table import AchievementIndex, build_achievements, index_achievements
from kpiflow.scorecards.coverage import missing_results, payout_warnings
from kpiflow.scorecards.department import DepartmentFactor, DepartmentPlans, department_factor
from kpiflow.scorecards.kpi_index import IndexResult, score_card
from kpiflow.scorecards.loader import load_scorecards
from kpiflow.scorecards.model import BaselineTarget, ConstantTarget, Scorecard, TargetRule
from kpiflow.scorecards.payout import Payout, compute_payout
from kpiflow.scorecards.periods import MONTHS_IN_GRAIN, open_period_note, period_end
from kpiflow.scorecards.targets import (
    SeedTargets,
    Series,
    TargetKey,
    index_actuals,
    seed_row_key,
    seed_row_lines,
)
from kpiflow.warehouse import Session

CARDS_FOLDER = Path("metrics") / "scorecards"


@dataclass(frozen=True)
class ScorecardBuildSummary:
    """What build_scorecards wrote, and what a person should look at."""

    cards: tuple[str, ...]
    achievement_rows: int
    scorecard_rows: int
    payout_rows: int
    held_payouts: int
    provisional_payouts: int
    warnings: tuple[str, ...]

    def headline(self) -> str:
        paid = self.payout_rows - self.held_payouts - self.provisional_payouts
        return (
            f"{len(self.cards)} cards, {self.scorecard_rows} scorecard rows, {self.payout_rows} payouts "
            f"({paid} paid, {self.held_payouts} held, {self.provisional_payouts} provisional)"
        )


@dataclass(frozen=True)
class CardPeriodResult:
    card: Scorecard
    employee: inputs.Employee
    period_start: date
    result: IndexResult
    payout: Payout


def _raise_for(problems: Iterable[str], heading: str) -> None:
    problems = list(problems)
    if problems:
        raise UserInputError(heading + "\n" + "\n".join(f"  {p}" for p in problems))


def _check_seeds(
    seeds: SeedTargets, plans: DepartmentPlans, catalog: dict[str, inputs.CatalogEntry], root: Path
) -> None:
    target_csv = root / "seeds" / "kpi_targets.csv"
    lines = seed_row_lines(target_csv)
    directions = {kpi: entry.direction for kpi, entry in catalog.items()}
    problems = []
    for row, message in seeds.problems(set(catalog), directions):
        line = lines.get(seed_row_key(row))
        where = f"{target_csv}:{line}" if line else f"{target_csv} (row {row.describe()})"
        problems.append(f"{where}: {message}")
    for plan, message in plans.problems():
        problems.append(f"{root / 'seeds' / 'department_plans.csv'} (department {plan.department}): {message}")
    _raise_for(problems, "the scorecard seeds have problems; fix these rows:")


def _rules(cards: list[Scorecard]) -> tuple[dict[TargetKey, tuple[TargetRule, str]], set[TargetKey]]:
    rules: dict[TargetKey, tuple[TargetRule, str]] = {}
    keys: set[TargetKey] = set()
    for card in cards:
        for item in card.kpis:
            key = (item.kpi, item.entity_type, card.grain)
            keys.add(key)
            if isinstance(item.target_rule, ConstantTarget | BaselineTarget):
                rules[key] = (item.target_rule, card.name)
    return rules, keys


def _cap_warnings(cards: list[Scorecard], catalog: dict[str, inputs.CatalogEntry]) -> list[str]:
    return [
        f"{card.source}: {item.kpi} is lower_is_better without a cap; an actual of 0 would leave the index undefined"
        for card in cards
        for item in card.kpis
        if catalog[item.kpi].direction == "lower_is_better" and item.cap is None and card.index_cap is None
    ]


def _score_cards(
    cards: list[Scorecard],
    employees: list[inputs.Employee],
    achievements: AchievementIndex,
    series_by_key: dict[TargetKey, Series],
    plans: DepartmentPlans,
    catalog: dict[str, inputs.CatalogEntry],
    run_date: date,
) -> list[CardPeriodResult]:
    results = []
    for card in cards:
        grain = card.grain
        periods = sorted(
            {p for item in card.kpis for (_, p) in series_by_key.get((item.kpi, item.entity_type, grain), {})}
        )
        holders = [e for e in employees if e.job_role == card.role]
        for period_start in periods:
            last_day = period_end(period_start, grain)
            still_open = open_period_note(period_start, grain, run_date)
            for employee in (e for e in holders if e.active_between(period_start, last_day)):
                lines = []
                for item in card.kpis:
                    entity_id = employee.entity_id(item.entity_type)
                    key = (item.kpi, item.entity_type, entity_id or "", grain, period_start)
                    lines.append((item, entity_id, achievements.get(key)))
                result = score_card(card, lines)
                factor = DepartmentFactor(Decimal(1), None, "")
                if card.department_multiplier is not None:
                    rule = card.department_multiplier
                    values = series_by_key.get((rule.kpi, "department", grain), {})
                    direction = catalog[rule.kpi].direction
                    factor = department_factor(rule, plans, values, employee.department, grain, period_start, direction)
                months = Decimal(MONTHS_IN_GRAIN[grain])
                payout = compute_payout(
                    card,
                    result,
                    employee.monthly_base_pay * months,
                    employee.monthly_variable_pay * months,
                    factor,
                )
                if still_open:
                    payout = payout.provisional(still_open)
                results.append(CardPeriodResult(card, employee, period_start, result, payout))
    return results


def build_scorecards(con: Session, project_dir: Path, run_date: date | None = None) -> ScorecardBuildSummary:
    """Compute kpi_achievement, scorecard_results and payouts for periods started by `run_date` (default today).

    Raises UserInputError for bad cards or seeds, RunFailed when role holders would get no result.
    """
    run_date = run_date or date.today()
    catalog = inputs.read_catalog(con)
    cards, issues = load_scorecards(project_dir / CARDS_FOLDER, set(catalog))
    _raise_for((str(i) for i in issues if i.severity == "error"), "the scorecard definitions have errors:")
    warnings = [str(i) for i in issues if i.severity == "warning"]

    seed_rows = inputs.read_target_seed(con)
    plan_rows = inputs.read_department_plans(con)
    if seed_rows is None:
        warnings.append("seeds.kpi_targets is missing: run `dbt seed`; cards using seed targets get no targets")
    if plan_rows is None and any(card.department_multiplier for card in cards):
        warnings.append("seeds.department_plans is missing: department multipliers default to 1")
    seeds, plans = SeedTargets(seed_rows or []), DepartmentPlans(plan_rows or [])
    _check_seeds(seeds, plans, catalog, project_dir)

    rules, card_keys = _rules(cards)
    needed = {key[0] for key in seeds.keys() | card_keys}
    needed |= {card.department_multiplier.kpi for card in cards if card.department_multiplier}
    actuals = [a for a in inputs.read_actuals(con, needed) if a.period_start <= run_date]
    series_by_key = index_actuals(actuals)
    achievement_rows, achievement_warnings = build_achievements(series_by_key, seeds, rules, card_keys, catalog)
    warnings += achievement_warnings + _cap_warnings(cards, catalog)

    employees = inputs.read_employees(con)
    results = _score_cards(
        cards, employees, index_achievements(achievement_rows), series_by_key, plans, catalog, run_date
    )
    problems, coverage_warnings = missing_results(cards, employees, results, inputs.first_period(con), run_date)
    if problems:
        raise RunFailed(
            "scorecards: employees eligible for a card have no result:\n" + "\n".join(f"  {p}" for p in problems)
        )
    card_warnings = coverage_warnings + payout_warnings(results)
    write_outputs_for(con, achievement_rows, results, [(None, w) for w in warnings] + card_warnings)
    statuses = [r.payout.status for r in results]
    return ScorecardBuildSummary(
        cards=tuple(card.name for card in cards),
        achievement_rows=len(achievement_rows),
        scorecard_rows=sum(len(r.result.lines) for r in results),
        payout_rows=len(results),
        held_payouts=statuses.count("held"),
        provisional_payouts=statuses.count("provisional"),
        warnings=tuple(warnings + [message for _, message in card_warnings]),
    )


def write_outputs_for(
    con: Session,
    achievement_rows: list,
    results: list[CardPeriodResult],
    warnings: list[tuple[str | None, str]],
) -> None:
    from kpiflow.scorecards.outputs import write_outputs

    achievement = [
        (r.kpi, r.entity_type, r.entity_id, r.grain, r.period_start, r.actual, r.target, r.minimum,
         r.stretch, r.variance, r.achievement, r.status, r.band_low, r.band_high, r.direction,
         r.target_source, r.target_note)
        for r in achievement_rows
    ]  # fmt: skip
    scorecard = [
        (r.card.name, r.employee.employee_id, r.period_start, line.kpi, line.actual, line.target,
         line.achievement, line.capped_achievement, line.weight, line.weighted_score, line.status,
         r.card.grain, line.entity_type, line.entity_id, line.direction, line.cap, line.target_note)
        for r in results
        for line in r.result.lines
    ]  # fmt: skip
    payouts = [
        (r.card.name, r.employee.employee_id, r.period_start, p.fixed_pay, p.variable_pay, p.kpi_index,
         p.bonus_coefficient, p.bonus, p.department_multiplier, p.total_pay, r.card.grain, p.pay_scheme,
         r.card.rounding.describe(), p.bonus_note, p.status, p.reason)
        for r in results
        for p in (r.payout,)
    ]  # fmt: skip
    write_outputs(
        con,
        {
            "marts.kpi_achievement": achievement,
            "marts.scorecard_results": scorecard,
            "payroll.payouts": payouts,
            "payroll.scorecard_warnings": warnings,
        },
    )
