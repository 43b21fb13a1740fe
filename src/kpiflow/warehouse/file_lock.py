"""One pipeline run at a time per warehouse: an advisory `flock` on a file in the state directory.

DuckDB allows one writer per file, and two builds interleaving into one warehouse would publish a
mix. The lock is held for the whole run (land -> publish). The kernel drops it when the holder exits,
even on SIGKILL, so a crashed run never leaves a stale lock behind; the holder's pid and start time
are written into the file only so that a refused run can say who is in the way.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from kpiflow.errors import UserInputError, WarehouseBusy

LOCK_FILE_NAME = "run.lock"
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class LockHolder:
    """Who holds the run lock: enough for a person to find the process."""

    pid: int
    started_at: str
    run_id: str
    run_date: str

    def describe(self) -> str:
        return f"pid {self.pid}, started {self.started_at}, run {self.run_id} for {self.run_date}"


def lock_path(state_dir: Path) -> Path:
    return state_dir / LOCK_FILE_NAME


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in the lock file, or None when it is empty or being rewritten."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
        return LockHolder(**data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


@contextmanager
def run_lock(state_dir: Path, *, run_id: str, run_date: str, wait_seconds: float = 0.0) -> Iterator[LockHolder]:
    """Hold the warehouse's run lock for the body; wait up to `wait_seconds`, then raise WarehouseBusy."""
    if wait_seconds < 0:
        raise UserInputError(f"--wait must be 0 or more seconds, got {wait_seconds}")
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait_seconds)
        holder = LockHolder(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            run_id=run_id,
            run_date=run_date,
        )
        _write_holder(fd, holder)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = read_holder(path)
                who = holder.describe() if holder else "a process that has not recorded itself yet"
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise WarehouseBusy(
                    f"another kpiflow run holds the warehouse lock {path} ({who}){waited}. "
                    "Wait for it to finish, or pass --wait SECONDS to queue behind it."
                ) from None
            time.sleep(_POLL_SECONDS)


def _write_holder(fd: int, holder: LockHolder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(holder)).encode("utf-8"), 0)
