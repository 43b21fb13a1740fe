"""What `kpiflow run` shows a person: one line per stage while it runs, then the KPIs and where they went.

Progress goes to stderr (so `--json` output on stdout stays clean); the summary table to stdout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kpiflow.orchestration.journal import progress_log


class _ProgressHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        self._console.print(f"  {record.getMessage()}", highlight=False, soft_wrap=True)


@contextmanager
def show_progress(enabled: bool) -> Iterator[None]:
    """Print each stage's start and one-line result to stderr while the body runs."""
    if not enabled:
        yield
        return
    handler = _ProgressHandler(Console(stderr=True))
    previous_level = progress_log.level
    progress_log.addHandler(handler)
    progress_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        progress_log.removeHandler(handler)
        progress_log.setLevel(previous_level)


def print_json(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2, default=str))


def print_summary(result: dict[str, Any]) -> None:
    """The headline KPI table and the published path, after a successful run."""
    console = Console()
    rows: list[dict[str, str]] = result.get("headline_kpis") or []
    if rows:
        table = Table(title=f"Headline KPIs for {result.get('run_date')}", title_justify="left")
        for position, column in enumerate(rows[0]):
            table.add_column(column, justify="left" if position == 0 else "right")
        for row in rows:
            table.add_row(*row.values())
        console.print(table)
    else:
        console.print("No KPI values were published (no metrics compiled yet?).")
    quarantined: dict[str, int] = result.get("quality", {}).get("quarantined_by_check") or {}
    if quarantined:
        per_check = ", ".join(f"{name} {rows}" for name, rows in quarantined.items())
        console.print(
            f"Quarantined {sum(quarantined.values())} input row(s) ({per_check}): see the quarantine schema.",
            highlight=False,
            soft_wrap=True,
        )
    warnings = [(stage["name"], text) for stage in result.get("stages", []) for text in stage.get("warnings") or []]
    for stage, text in warnings:
        console.print(f"warning ({stage}): {text}", highlight=False, soft_wrap=True, markup=False)
    index = (result.get("dashboard") or {}).get("index")
    if index:
        console.print(f"Dashboard: {Path(index).as_uri()}", highlight=False, soft_wrap=True, markup=False)
    published = result.get("published", {})
    tables = published.get("tables", {})
    console.print(
        f"Published {len(tables)} tables to [bold]{published.get('marts_path')}[/] (open it read-only).",
        highlight=False,
        soft_wrap=True,
    )
