"""The gate's verdict: one CheckResult per declared check, a plain-text summary and a JSON form."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MAX_EXAMPLE_KEYS = 5
NOT_RUN = "not run:"


@dataclass(frozen=True)
class CheckResult:
    """What one check found. `failing_rows` is None for table-level checks (schema, freshness, volume...)."""

    name: str
    table: str
    column: str | None
    severity: str
    success: bool
    failing_rows: int | None
    example_keys: list[str]
    message: str
    quarantined_rows: int = 0

    @property
    def blocks_publishing(self) -> bool:
        return not self.success and self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "column": self.column,
            "severity": self.severity,
            "success": self.success,
            "failing_rows": self.failing_rows,
            "example_keys": list(self.example_keys),
            "message": self.message,
            "quarantined_rows": self.quarantined_rows,
        }


@dataclass(frozen=True)
class GateReport:
    """All results of one gate run. `passed` is False when any error-severity check failed."""

    run_date: date
    warehouse: str  # where it ran, as the warehouse names itself (a path, or postgresql://user@host:port/db)
    results: list[CheckResult]
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    data_docs_path: Path | None = None
    elapsed_seconds: float = 0.0
    window_start: date | None = None  # row checks of dated tables judged rows from this day on (None: all rows)
    # Latest day of `settings.run_date_from` (orders) through the run date, and after it, once quarantine is done.
    inputs_through: date | None = None
    later_rows_through: date | None = None

    @property
    def passed(self) -> bool:
        return not any(result.blocks_publishing for result in self.results)

    @property
    def quarantined_by_check(self) -> dict[str, int]:
        """Rows each check moved to quarantine in this run (checks that moved none are left out)."""
        return {r.name: r.quarantined_rows for r in self.results if r.quarantined_rows}

    def _headline_extras(self) -> str:
        """Quarantined rows per check and the input range, for the summary's first line (the run's progress
        line shows only that line, so nothing that changed the inputs may hide below it)."""
        parts = []
        moved = self.quarantined_by_check
        if moved:
            per_check = ", ".join(f"{name} {rows}" for name, rows in moved.items())
            parts.append(f"{sum(moved.values())} row(s) quarantined ({per_check})")
        if self.inputs_through is not None:
            parts.append(f"inputs through {self.inputs_through}")
        if self.later_rows_through is not None:
            parts.append(f"rows after {self.run_date} (through {self.later_rows_through}) not counted")
        return "".join(f"; {part}" for part in parts)

    @property
    def failures(self) -> list[CheckResult]:
        """Failed checks, blocking ones first, then by table and name."""
        failed = [r for r in self.results if not r.success]
        return sorted(failed, key=lambda r: (not r.blocks_publishing, r.table, r.name))

    def summary_text(self) -> str:
        """A few lines a person can act on: verdict, then every failed check with rows and example keys."""
        verdict = "PASSED" if self.passed else "FAILED"
        blocking = sum(r.blocks_publishing for r in self.results)
        warnings = sum(not r.success and not r.blocks_publishing for r in self.results)
        scope = f"; row checks of dated tables over rows from {self.window_start}" if self.window_start else ""
        lines = [
            f"Quality gate {verdict} for {self.run_date.isoformat()}: {len(self.results)} checks, "
            f"{blocking} blocking failure(s), {warnings} warning(s){self._headline_extras()} "
            f"({self.elapsed_seconds:.1f}s){scope}"
        ]
        not_run: dict[tuple[str, str], int] = {}
        for result in self.failures:
            if result.message.startswith(NOT_RUN):
                reason = (result.table, result.message.removeprefix(NOT_RUN).strip())
                not_run[reason] = not_run.get(reason, 0) + 1
                continue
            label = "FAIL" if result.blocks_publishing else "WARN"
            where = f"{result.table}.{result.column}" if result.column else result.table
            rows = f", {result.failing_rows} failing row(s)" if result.failing_rows is not None else ""
            lines.append(f"  {label} {result.name} [{where}{rows}]: {result.message}")
            if result.example_keys:
                lines.append(f"       e.g. {'; '.join(result.example_keys)}")
        for (table, reason), count in not_run.items():
            lines.append(f"  NOT RUN {count} more check(s) on {table}: {reason}")
        for result in self.results:
            if result.quarantined_rows and result.success:
                lines.append(
                    f"  QUARANTINED {result.name} [{result.table}]: {result.quarantined_rows} row(s) moved to "
                    f"quarantine.{result.table}"
                )
                if result.example_keys:
                    lines.append(f"       e.g. {'; '.join(result.example_keys)}")
        if self.data_docs_path:
            lines.append(f"Data Docs: {self.data_docs_path}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_date": self.run_date.isoformat(),
            "warehouse": str(self.warehouse),
            "passed": self.passed,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "quarantined_rows": dict(self.quarantined_rows),
            "quarantined_by_check": self.quarantined_by_check,
            "inputs_through": self.inputs_through.isoformat() if self.inputs_through else None,
            "later_rows_through": self.later_rows_through.isoformat() if self.later_rows_through else None,
            "data_docs_path": str(self.data_docs_path) if self.data_docs_path else None,
            "results": [result.to_dict() for result in self.results],
        }

    def save(self, folder: Path) -> Path:
        """Write `<folder>/<run_date>.json` atomically (a reader never sees half a report)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.run_date.isoformat()}.json"
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.to_dict(), out, indent=2)
            out.write("\n")
        os.replace(tmp, target)
        return target
