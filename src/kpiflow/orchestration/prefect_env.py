"""Prefect settings kpiflow needs, applied before Prefect is first imported (Prefect reads them once).

Prefect's local API keeps its SQLite database in PREFECT_HOME; by default that is the warehouse's state
folder, so runs never write into ~/.prefect and deleting `warehouse/` resets everything. The temporary
API server and Prefect's console logs are quiet: kpiflow prints its own progress, and every log line
still reaches the Prefect database (`prefect flow-run logs <id>`). Anything the user set wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kpiflow.config import Settings

QUIET_DEFAULTS = {
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    # Failed runs are explained by kpiflow's own message; Prefect's console handler would add a traceback.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def configure_prefect(settings: Settings) -> None:
    """Point Prefect at the warehouse's state folder and quiet it, unless the environment says otherwise."""
    if "prefect" in sys.modules:
        return  # too late to change anything, and the importer chose its settings on purpose (tests)
    home = Path(os.environ.setdefault("PREFECT_HOME", str(settings.state_dir / "prefect"))).expanduser()
    # The temporary API server cannot create its database in a missing folder, and then only times out.
    home.mkdir(parents=True, exist_ok=True)
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
