"""kpiflow: KPI definitions in YAML, compiled to dialect-portable SQL, built by dbt, gated and published."""

from __future__ import annotations

from kpiflow.config import disable_telemetry

disable_telemetry()

__version__ = "0.1.0"
