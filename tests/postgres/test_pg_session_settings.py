"""Models on PostgreSQL are built in a session without JIT compilation (macros/kpiflow_session.sql): JIT spent 49 of
the 50 s `kpi_values` took at demo scale 0.2, every night alike (docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from dbt_process import dbt
from pg_server import PostgresServer

# A table, so it keeps the setting of the session that built it.
PROBE = "{{ config(materialized='table') }}\nselect current_setting('jit') as jit"


def test_a_model_is_built_with_jit_off_on_postgres(
    pg_server: PostgresServer, project_copier: Callable[[Path], Path], tmp_path: Path
) -> None:
    project = project_copier(tmp_path / "project")
    (project / "models" / "probe_session.sql").write_text(PROBE + "\n")
    with psycopg.connect(pg_server.conninfo()) as connection:
        assert connection.execute("show jit").fetchone() == ("on",)  # the server's default, which the build changes
    dbname = pg_server.create_database("session_settings")
    dbt(project, {**pg_server.env(dbname), "KPIFLOW_TARGET": "pg"}, "run", "--select", "probe_session")
    with psycopg.connect(pg_server.conninfo(dbname)) as connection:
        assert connection.execute("select jit from main.probe_session").fetchall() == [("off",)]
