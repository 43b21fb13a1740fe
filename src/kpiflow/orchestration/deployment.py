"""The nightly deployment (cron + time zone) and the local Prefect server that `kpiflow serve` needs.

Prefect's temporary API has no scheduler: schedules only fire against a real server. `kpiflow serve`
therefore starts `prefect server start` on 127.0.0.1 (state in the same PREFECT_HOME as `kpiflow run`)
unless PREFECT_API_URL already points at one, and stops it when serving stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kpiflow.config import Settings
from kpiflow.errors import RunFailed, UserInputError

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEPLOYMENT_NAME = "nightly"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/Warsaw"
SERVER_START_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class NightlySchedule:
    """When the nightly run fires: a cron expression read in an IANA time zone (DST handled by Prefect)."""

    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE

    def validate(self) -> NightlySchedule:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserInputError(
                f"--timezone {self.timezone!r} is not an IANA time zone; use e.g. Europe/Warsaw or UTC"
            ) from None
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=self.cron, timezone=self.timezone)
        except ValueError:
            raise UserInputError(
                f"--cron {self.cron!r} is not a cron expression; the nightly default is '{DEFAULT_CRON}' "
                "(minute hour day-of-month month day-of-week)"
            ) from None
        return self


def nightly_deployment(
    schedule: NightlySchedule, *, name: str = DEPLOYMENT_NAME, ensure_demo_data: bool = False
) -> RunnerDeployment:
    """The flow as a deployment: one run at a time, run date resolved in the schedule's time zone."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from kpiflow.orchestration.flow import nightly

    schedule.validate()
    return nightly.to_deployment(
        name=name,
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        parameters={"options": {"timezone": schedule.timezone, "ensure_demo_data": ensure_demo_data}},
        concurrency_limit=1,
        description=f"kpiflow nightly KPI build and publish, {schedule.cron} ({schedule.timezone}).",
        tags=["kpiflow"],
        # A module path works wherever kpiflow is installed (served process or worker), unlike a file path.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


@contextmanager
def prefect_api_server(settings: Settings, port: int) -> Iterator[str]:
    """Yield the API URL to use: the user's PREFECT_API_URL, or a local server started for the duration."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    log_path = settings.state_dir / "prefect" / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}/api"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(log_path.parent))},
        )
    try:
        _wait_until_healthy(server, url, log_path)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_healthy(server: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    import urllib.error  # here, not at the top: `kpiflow query` imports this module for its defaults
    import urllib.request

    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RunFailed(
                f"the local Prefect server exited with code {server.returncode} before it was ready "
                f"(is the port in use? try --port); its log: {log_path}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    server.terminate()
    raise RunFailed(
        f"the local Prefect server did not answer on {url} within {SERVER_START_TIMEOUT_SECONDS:g} s; "
        f"its log: {log_path}"
    )
