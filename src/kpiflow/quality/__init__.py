"""The input quality gate: declared checks on the raw warehouse, run by Great Expectations 1.x in DuckDB.

Public API: `run_gate(settings, run_date=None, *, data_docs=True, quarantine=True) -> GateReport`, with
`GateReport` and `CheckResult`. Imports are lazy so `kpiflow --help` does not load GE, sqlglot or pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpiflow.quality.gate import run_gate
    from kpiflow.quality.report import CheckResult, GateReport

__all__ = ["CheckResult", "GateReport", "run_gate"]

_LOCATIONS = {
    "run_gate": "kpiflow.quality.gate",
    "GateReport": "kpiflow.quality.report",
    "CheckResult": "kpiflow.quality.report",
}


def __getattr__(name: str) -> Any:
    if name not in _LOCATIONS:
        raise AttributeError(f"module 'kpiflow.quality' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(_LOCATIONS[name]), name)
