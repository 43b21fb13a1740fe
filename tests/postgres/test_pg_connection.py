"""kpiflow's view of the `pg` target's connection: the KPIFLOW_PG_* variables, with the password kept out of sight."""

from __future__ import annotations

import pytest

from kpiflow.config import PostgresConnection
from kpiflow.errors import UserInputError

PASSWORD = "Pw-mv8-NeverShown-40"


def test_defaults_and_required_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KPIFLOW_PG_HOST", "KPIFLOW_PG_PORT", "KPIFLOW_PG_DBNAME", "KPIFLOW_PG_USER", "KPIFLOW_PG_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KPIFLOW_PG_USER", "analyst")
    with pytest.raises(UserInputError, match="KPIFLOW_PG_PASSWORD is not set"):
        PostgresConnection.from_env()
    monkeypatch.setenv("KPIFLOW_PG_PASSWORD", PASSWORD)
    connection = PostgresConnection.from_env()
    assert (connection.host, connection.port, connection.dbname) == ("127.0.0.1", 5432, "kpiflow")
    assert connection.address == "analyst@127.0.0.1:5432/kpiflow"
    assert PASSWORD not in repr(connection) and PASSWORD not in connection.address


def test_a_port_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIFLOW_PG_USER", "analyst")
    monkeypatch.setenv("KPIFLOW_PG_PASSWORD", PASSWORD)
    monkeypatch.setenv("KPIFLOW_PG_PORT", "54x2")
    with pytest.raises(UserInputError, match="KPIFLOW_PG_PORT='54x2': use a port number"):
        PostgresConnection.from_env()
