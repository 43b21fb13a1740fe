"""The input quality gate: declared checks on the raw warehouse, run by Great Expectations 1.x in DuckDB.

Public API: `run_gate(settings, run_date=None, *, data_docs=True, quarantine=True) -> GateReport`, with
`GateReport` and `CheckResult`. Imports are lazy so `kpiflow --help` does not load GE, sqlglot or pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpiflow.lazy import lazy_attributes

if TYPE_CHECKING:
    from kpiflow.quality.gate import run_gate
    from kpiflow.quality.report import CheckResult, GateReport

__all__ = ["CheckResult", "GateReport", "run_gate"]

__getattr__ = lazy_attributes(
    __name__,
    {
        "run_gate": "kpiflow.quality.gate",
        "GateReport": "kpiflow.quality.report",
        "CheckResult": "kpiflow.quality.report",
    },
)
