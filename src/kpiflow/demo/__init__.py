"""A deterministic demo warehouse for a fictional retailer: sales, inventory, HR and CRM in schema `raw`.

`generate_demo_warehouse(path, scale=..., start=..., end=..., seed=...)` builds or replaces it;
`append_demo_days(path, through)` lands more days exactly as a bulk build of the longer range would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpiflow.lazy import lazy_attributes

if TYPE_CHECKING:
    from kpiflow.demo.spec import DemoSpec
    from kpiflow.demo.warehouse import DemoSummary, append_demo_days, generate_demo_warehouse, read_demo_spec

__all__ = ["DemoSpec", "DemoSummary", "append_demo_days", "generate_demo_warehouse", "read_demo_spec"]
__getattr__ = lazy_attributes(
    __name__,
    {"DemoSpec": "kpiflow.demo.spec"}
    | dict.fromkeys(
        ("DemoSummary", "append_demo_days", "generate_demo_warehouse", "read_demo_spec"), "kpiflow.demo.warehouse"
    ),
)
