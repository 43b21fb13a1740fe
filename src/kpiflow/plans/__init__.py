"""Plans are input data of a warehouse (raw.sales_plans, raw.store_plans), not project files.

`load_plans` fills them from a CSV; `kpiflow demo-data` writes the demo's own. See docs/scorecards.md.
"""

from __future__ import annotations

from kpiflow.plans.loading import PLAN_OWNER_COLUMNS, PlanLoad, load_plans

__all__ = ["PLAN_OWNER_COLUMNS", "PlanLoad", "load_plans"]
