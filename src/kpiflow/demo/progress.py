"""A rich progress bar per raw table (on stderr, so `--json` output on stdout stays clean)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from kpiflow.demo.pipeline import STEPS, StepListener
from kpiflow.demo.sqlkit import Step


def _owner_tables() -> dict[str, str]:
    """Attribute each work step to the next raw table it helps to build."""
    owners: dict[str, str] = {}
    pending: list[str] = []
    for step in STEPS:
        pending.append(step.table)
        if step.emitted:
            for name in pending:
                owners[name] = step.table
            pending = []
    return owners


@contextmanager
def table_progress(enabled: bool) -> Iterator[StepListener | None]:
    """Yield a step listener that advances one bar per raw table, or None when disabled."""
    if not enabled:
        yield None
        return
    owners = _owner_tables()
    steps_per_table: dict[str, int] = {}
    for owner in owners.values():
        steps_per_table[owner] = steps_per_table.get(owner, 0) + 1
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, TaskID] = {}
    with progress:
        for table, total in steps_per_table.items():
            tasks[table] = progress.add_task(table, total=total, start=False)

        def on_step(step: Step, done: bool) -> None:
            task = tasks[owners[step.table]]
            if done:
                progress.advance(task)
            else:
                progress.start_task(task)

        yield on_step
