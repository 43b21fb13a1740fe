"""Which failures are worth a retry: passing trouble (a locked file, a slow disk), never bad data.

Retrying a failed data test only burns time and hides the report; retrying a DuckDB lock conflict
(a BI tool or an analyst briefly holding the warehouse) usually succeeds a minute later.
"""

from __future__ import annotations

from kpiflow.errors import RunFailed, WarehouseBusy

# DuckDB's messages when another process holds the file it needs.
_LOCK_CONFLICT_MARKERS = ("Could not set lock on file", "Conflicting lock is held")


class TransientRunError(RunFailed):
    """A stage failed for a reason that may pass on its own; the flow retries it with backoff."""


def mentions_lock_conflict(text: str) -> bool:
    return any(marker in text for marker in _LOCK_CONFLICT_MARKERS)


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry can fix: our TransientRunError, a busy warehouse, file-system trouble,
    DuckDB lock conflicts."""
    if isinstance(exc, (TransientRunError, WarehouseBusy)):
        return True
    if isinstance(exc, RunFailed):
        return False  # a data or build verdict, already explained to the user
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    return mentions_lock_conflict(str(exc))
