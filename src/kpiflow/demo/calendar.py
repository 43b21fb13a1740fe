"""The days a build replays (work_start..last_day): the spine that daily event tables hang from."""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

WORK_DAYS = Step(
    "t_work_days",
    """
select d::date as dt
from range($work_start, $last_day + interval 1 day, interval 1 day) t(d)
""",
)

STEPS = (WORK_DAYS,)
