"""Plans are input data of a warehouse (raw.sales_plans, raw.store_plans), not project files.

`load_plans` fills them from a CSV; `kpiflow demo-data` writes the demo's own. See docs/scorecards.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpiflow.lazy import lazy_attributes

if TYPE_CHECKING:
    from kpiflow.plans.loading import PLAN_OWNER_COLUMNS, PlanLoad, load_plans

__all__ = ["PLAN_OWNER_COLUMNS", "PlanLoad", "load_plans"]
__getattr__ = lazy_attributes(__name__, dict.fromkeys(__all__, "kpiflow.plans.loading"))
