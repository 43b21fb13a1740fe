"""`kpiflow` with the stand-in stages, for tests that must run (and kill) a real CLI process.

Usage: python standin_cli.py run --date 2025-03-01 ...   (same arguments as `kpiflow`)
Environment: see orchestration_standins.py (bad dates, build marker, build sleep) and
KPIFLOW_TEST_PUBLISH_SLEEP (pause inside publish, after the temp file is written).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kpiflow.config import Settings
from kpiflow.orchestration.prefect_env import configure_prefect
from kpiflow.warehouse import duckdb_publish as publish

PUBLISH_SLEEP_ENV = "KPIFLOW_TEST_PUBLISH_SLEEP"
PUBLISH_MARKER_ENV = "KPIFLOW_TEST_PUBLISH_MARKER"


def _slow_fsync(real_fsync: Callable[[Path], None]) -> Callable[[Path], None]:
    """Pause after the temp file is written, before the swap: the moment a kill hurts most."""

    def fsync(path: Path) -> None:
        if path.is_file() and ".tmp-" in path.name:
            Path(os.environ[PUBLISH_MARKER_ENV]).write_text(str(path))
            time.sleep(float(os.environ[PUBLISH_SLEEP_ENV]))
        real_fsync(path)

    return fsync


if __name__ == "__main__":
    configure_prefect(Settings.from_env())  # as `kpiflow` does, before Prefect is imported
    sys.path.insert(0, str(Path(__file__).parent))
    from orchestration_standins import stages_from_env

    from kpiflow.cli import main

    if os.environ.get(PUBLISH_SLEEP_ENV):
        publish._fsync = _slow_fsync(publish._fsync)
    sys.argv[0] = "kpiflow"
    with stages_from_env().installed():
        main()
