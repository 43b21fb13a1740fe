"""Publish: make the audited marts what BI tools read, in one atomic step of the warehouse (see its `publish`).

A reader sees yesterday's marts or today's, never a mix; a run that dies at any point leaves the published
marts as they were. The previous version is kept for `Warehouse.rollback`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from kpiflow.warehouse import TableFingerprint, Warehouse


@dataclass(frozen=True)
class PublishReceipt:
    """What is now published: what the warehouse records with it (`kpiflow_state.runs` and `run_tables`)."""

    run_id: str
    run_date: date
    published_at: datetime
    location: str
    tables: tuple[TableFingerprint, ...]
    seconds: float

    def headline(self) -> str:
        return f"{len(self.tables)} tables -> {self.location} in {self.seconds:.1f} s"


def publish_marts(
    warehouse: Warehouse, *, audited: tuple[TableFingerprint, ...], run_id: str, run_date: date
) -> PublishReceipt:
    """Publish exactly the audited relations of the warehouse."""
    started = time.perf_counter()
    published_at = datetime.now(UTC)
    version = warehouse.publish(audited, run_id=run_id, run_date=run_date, published_at=published_at)
    return PublishReceipt(
        run_id=run_id,
        run_date=run_date,
        published_at=published_at,
        location=version.location,
        tables=audited,
        seconds=time.perf_counter() - started,
    )
