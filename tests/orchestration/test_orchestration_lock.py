"""The run lock: one run per warehouse, a clear refusal naming the holder, optional waiting, crash-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kpiflow.errors import UserInputError, WarehouseBusy
from kpiflow.warehouse.file_lock import lock_path, read_holder, run_lock


def test_second_run_is_refused_with_holders_pid_and_start_time(tmp_path: Path) -> None:
    with (
        run_lock(tmp_path, run_id="first", run_date="2025-03-31") as holder,
        pytest.raises(WarehouseBusy) as refused,
        run_lock(tmp_path, run_id="second", run_date="2025-04-01"),
    ):
        pass
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message
    assert holder.started_at in message
    assert "run first for 2025-03-31" in message
    assert "--wait" in message


def test_lock_is_free_again_and_holder_cleared_after_the_run(tmp_path: Path) -> None:
    with run_lock(tmp_path, run_id="first", run_date="2025-03-31"):
        assert read_holder(lock_path(tmp_path)).run_id == "first"
    assert read_holder(lock_path(tmp_path)) is None
    with run_lock(tmp_path, run_id="second", run_date="2025-04-01") as holder:
        assert holder.run_id == "second"


def test_waiting_run_gets_the_lock_when_the_holder_finishes(tmp_path: Path) -> None:
    released = threading.Event()

    def hold_briefly() -> None:
        with run_lock(tmp_path, run_id="first", run_date="2025-03-31"):
            started.set()
            time.sleep(0.6)
        released.set()

    started = threading.Event()
    holder_thread = threading.Thread(target=hold_briefly)
    holder_thread.start()
    started.wait(5)
    begun = time.monotonic()
    with run_lock(tmp_path, run_id="second", run_date="2025-04-01", wait_seconds=10) as holder:
        waited = time.monotonic() - begun
        assert released.is_set()
        assert holder.run_id == "second"
    holder_thread.join()
    assert 0.3 < waited < 5


def test_waiting_gives_up_after_the_given_seconds(tmp_path: Path) -> None:
    with run_lock(tmp_path, run_id="first", run_date="2025-03-31"):
        begun = time.monotonic()
        with (
            pytest.raises(WarehouseBusy, match=r"after waiting 0\.5 s"),
            run_lock(tmp_path, run_id="second", run_date="2025-04-01", wait_seconds=0.5),
        ):
            pass
        assert 0.5 <= time.monotonic() - begun < 3


def test_negative_wait_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="--wait"), run_lock(tmp_path, run_id="x", run_date="d", wait_seconds=-1):
        pass


def test_lock_held_by_a_killed_process_is_released_by_the_kernel(tmp_path: Path) -> None:
    """A run killed with SIGKILL cannot clean up; the lock must not outlive it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from kpiflow.warehouse.file_lock import run_lock\n"
            "with run_lock(Path(sys.argv[1]), run_id='doomed', run_date='2025-03-31'):\n"
            "    print('locked', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(WarehouseBusy, match=f"pid {holder.pid}"), run_lock(tmp_path, run_id="x", run_date="d"):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    with run_lock(tmp_path, run_id="next", run_date="2025-04-01") as lock_holder:
        assert lock_holder.run_id == "next"
