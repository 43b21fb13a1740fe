"""Targets, achievement, scorecards and pay, computed in Decimal (DECISIONS rules 15-21).

Public API: `build_scorecards(con, project_dir)` (the pipeline step after dbt) and
`load_scorecards(directory, known_kpis)` (validate card YAML, returning issues).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpiflow.lazy import lazy_attributes

if TYPE_CHECKING:
    from kpiflow.scorecards.build import ScorecardBuildSummary, build_scorecards
    from kpiflow.scorecards.loader import load_scorecards
    from kpiflow.scorecards.model import Scorecard
    from kpiflow.scorecards.validation import ValidationIssue

__all__ = ["Scorecard", "ScorecardBuildSummary", "ValidationIssue", "build_scorecards", "load_scorecards"]
__getattr__ = lazy_attributes(
    __name__,
    {
        "Scorecard": "kpiflow.scorecards.model",
        "ScorecardBuildSummary": "kpiflow.scorecards.build",
        "ValidationIssue": "kpiflow.scorecards.validation",
        "build_scorecards": "kpiflow.scorecards.build",
        "load_scorecards": "kpiflow.scorecards.loader",
    },
)
