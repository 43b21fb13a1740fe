"""The demo is how a newcomer judges kpiflow: on the demo cards, statuses spread the way a real sales team's do (some
above target, most near it, a few below minimum), for every KPI. A target nobody can reach (follow_ups_per_lead at
4 when every demo manager does about 1) shows the same status on every card and says nothing."""

from __future__ import annotations

import shutil
from collections import Counter

import duckdb
import pytest

from kpiflow.scorecards.build import build_scorecards
from kpiflow.warehouse.duckdb import DuckDBSession

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def statuses(demo_build, tmp_path_factory) -> dict[str, Counter]:
    """KPI -> how many person-months of the demo cards have each status (rows with a value and a target)."""
    warehouse = tmp_path_factory.mktemp("spread") / "kpiflow.duckdb"
    shutil.copy(demo_build.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        build_scorecards(DuckDBSession(con), demo_build.project)
        rows = con.execute(
            "select kpi, status, count(*) from marts.scorecard_results where status <> 'no_data' group by all"
        ).fetchall()
    found: dict[str, Counter] = {}
    for kpi, status, count in rows:
        found.setdefault(kpi, Counter())[status] = count
    return found


def test_every_card_kpi_is_judged(statuses):
    assert set(statuses) == {
        "plan_attainment",
        "new_customers",
        "avg_first_response_minutes",
        "follow_ups_per_lead",
        "average_deal_size",
        "store_plan_attainment",
        "conversion_rate",
        "shrinkage_rate",
        "employee_turnover_rate",
    }


def test_no_kpi_gives_everyone_the_same_status(statuses):
    same = {kpi: dict(counts) for kpi, counts in statuses.items() if len(counts) < 2}
    assert same == {}


def test_below_minimum_is_never_the_rule(statuses):
    """At most a minority below minimum per KPI. The bound leaves room for the toy scale's noise: a demo manager
    closes one to three deals a month, so a month's average deal size swings widely."""
    shares = {kpi: counts["below_minimum"] / sum(counts.values()) for kpi, counts in statuses.items()}
    assert {kpi: round(share, 2) for kpi, share in shares.items() if share > 0.6} == {}


def test_the_team_has_stars_and_strugglers(statuses):
    total = sum(statuses.values(), Counter())
    assert set(total) == {"below_minimum", "below_target", "on_target", "above_stretch"}
    assert max(total.values()) / sum(total.values()) <= 0.5
