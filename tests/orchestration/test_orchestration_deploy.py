"""The nightly deployment: 02:00 in a configurable time zone, and the run date each firing closes."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from orchestration_helpers import PROJECT_DIR, CliResult, Warehouse

from kpiflow.errors import UserInputError
from kpiflow.orchestration.deployment import NightlySchedule
from kpiflow.orchestration.pipeline import run_date_for


def _read_deployment(deployment_id: UUID | None = None, name: str | None = None):  # type: ignore[no-untyped-def]
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment(deployment_id) if deployment_id else client.read_deployment_by_name(name)


@pytest.mark.parametrize(
    ("scheduled_utc", "timezone", "run_date"),
    [
        (datetime(2025, 3, 31, 0, 0, tzinfo=UTC), "Europe/Warsaw", date(2025, 3, 30)),  # 02:00 CEST
        (datetime(2025, 1, 15, 1, 0, tzinfo=UTC), "Europe/Warsaw", date(2025, 1, 14)),  # 02:00 CET
        (datetime(2025, 3, 30, 17, 0, tzinfo=UTC), "Asia/Tokyo", date(2025, 3, 30)),  # 02:00 on the 31st in Tokyo
        (datetime(2025, 3, 31, 9, 0, tzinfo=UTC), "America/Los_Angeles", date(2025, 3, 30)),
        (datetime(2025, 1, 1, 2, 0, tzinfo=UTC), "UTC", date(2024, 12, 31)),
    ],
)
def test_run_closes_the_day_before_the_schedule_fired_in_its_time_zone(
    scheduled_utc: datetime, timezone: str, run_date: date
) -> None:
    assert run_date_for(scheduled_utc, timezone) == run_date


@pytest.mark.parametrize(
    ("cron", "timezone", "problem"),
    [
        ("0 2 * * *", "Europe/Warszawa", "not an IANA time zone"),
        ("0 25 * * *", "Europe/Warsaw", "is not a cron expression"),
        ("nightly", "UTC", "is not a cron expression"),
    ],
)
def test_bad_schedules_are_rejected(cron: str, timezone: str, problem: str) -> None:
    with pytest.raises(UserInputError, match=problem):
        NightlySchedule(cron, timezone).validate()


@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize(
    ("schedule", "cron", "timezone"),
    [
        (NightlySchedule(), "0 2 * * *", "Europe/Warsaw"),
        (NightlySchedule("30 1 * * 1-5", "America/New_York"), "30 1 * * 1-5", "America/New_York"),
    ],
)
def test_deployment_carries_the_schedule_to_the_api(schedule: NightlySchedule, cron: str, timezone: str) -> None:
    from kpiflow.orchestration.deployment import nightly_deployment

    deployment = nightly_deployment(schedule, name=f"test-{timezone.replace('/', '-').lower()}")
    assert deployment.entrypoint == "kpiflow.orchestration.flow.nightly"
    stored = _read_deployment(deployment.apply())
    assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [(cron, timezone)]
    assert stored.parameters == {"options": {"timezone": timezone, "ensure_demo_data": False}}
    from kpiflow.orchestration.flow import nightly
    from kpiflow.orchestration.pipeline import RunOptions

    # A scheduled run gets the same typed options as `kpiflow run` (one RunOptions, issue 17).
    assert nightly.validate_parameters(stored.parameters) == {"options": RunOptions(timezone=timezone)}
    assert stored.global_concurrency_limit is not None and stored.global_concurrency_limit.limit == 1


def test_deploy_command_registers_the_nightly_deployment(kpiflow_cli: Callable[..., CliResult]) -> None:
    done = kpiflow_cli("deploy", "--timezone", "Europe/Warsaw", "--name", "cli-nightly")
    assert done.returncode == 0, done.stderr
    assert "runs '0 2 * * *' in Europe/Warsaw" in done.stdout.replace("\n", "")
    stored = _read_deployment(name="kpiflow-nightly/cli-nightly")
    assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [("0 2 * * *", "Europe/Warsaw")]


def test_prefect_yaml_deploys_the_same_flow_on_the_same_schedule() -> None:
    """flows/prefect.yaml (for workers) must not drift from `kpiflow deploy`."""
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    from kpiflow.orchestration.deployment import DEFAULT_CRON, DEFAULT_TIMEZONE, DEPLOYMENT_NAME
    from kpiflow.orchestration.flow import FLOW_NAME
    from kpiflow.orchestration.pipeline import RunOptions

    spec = yaml.safe_load((PROJECT_DIR / "flows" / "prefect.yaml").read_text())
    (deployment,) = spec["deployments"]
    assert deployment["name"] == DEPLOYMENT_NAME
    assert deployment["schedules"] == [{"cron": DEFAULT_CRON, "timezone": DEFAULT_TIMEZONE}]
    assert deployment["parameters"] == {"options": {"timezone": DEFAULT_TIMEZONE}}
    assert deployment["concurrency_limit"] == 1
    flow = load_flow_from_entrypoint(str(PROJECT_DIR / deployment["entrypoint"]))
    assert flow.name == FLOW_NAME
    assert flow.validate_parameters(deployment["parameters"]) == {"options": RunOptions(timezone=DEFAULT_TIMEZONE)}


def test_deploy_to_an_unknown_work_pool_says_how_to_create_it(kpiflow_cli: Callable[..., CliResult]) -> None:
    done = kpiflow_cli("deploy", "--work-pool", "no-such-pool", "--name", "pooled")
    assert done.returncode == 1, done.stdout
    assert "could not register the deployment" in done.stderr
    assert "prefect work-pool create no-such-pool" in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr


def test_serve_uses_the_api_the_user_configured(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpiflow.orchestration.deployment import prefect_api_server

    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    with prefect_api_server(warehouse.settings, port=1) as url:
        assert url == "http://prefect.example:4200/api"
    assert not (warehouse.settings.state_dir / "prefect" / "server.log").exists()


@pytest.mark.slow
def test_serve_starts_a_local_prefect_server_and_stops_it(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary API has no scheduler; `kpiflow serve` needs a real server, and must not leave it behind."""
    from kpiflow.orchestration.deployment import prefect_api_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with prefect_api_server(warehouse.settings, port) as url:
        assert url == f"http://127.0.0.1:{port}/api"
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            assert response.status == 200
        assert os.environ["PREFECT_API_URL"] == url
    assert "PREFECT_API_URL" not in os.environ
    with pytest.raises(OSError), urllib.request.urlopen(f"{url}/health", timeout=2):
        pass
