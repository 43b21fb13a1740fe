"""The `pg` dbt target: connects from the KPIFLOW_PG_* variables and never writes the password anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from pg_server import PostgresServer

PASSWORD = "Pw-kq4-Distinctive-73"


def test_dbt_debug_connects_on_the_pg_target_without_showing_the_password(
    pg_server: PostgresServer, project_copier, tmp_path: Path
) -> None:
    dbname = pg_server.create_database("profile_check")
    with psycopg.connect(pg_server.conninfo(dbname), autocommit=True) as connection:
        connection.execute(f"create role profile_user login password '{PASSWORD}'")
    project = project_copier(tmp_path / "project")
    env = {**os.environ, **pg_server.env(dbname), "KPIFLOW_PG_USER": "profile_user", "KPIFLOW_PG_PASSWORD": PASSWORD}
    env |= {"KPIFLOW_TARGET": "pg", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    command = [str(Path(sys.executable).parent / "dbt"), "debug", "--project-dir", str(project)]
    command += ["--profiles-dir", str(project / "profiles"), "--log-level-file", "debug", "--no-use-colors"]
    done = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Connection test: [OK connection ok]" in output
    assert "type: postgres" in output or "postgres adapter" in output
    written = [path for path in project.rglob("*") if path.is_file() and path.suffix in {".log", ".json", ".txt"}]
    assert any(path.parent.name == "logs" for path in written)  # dbt wrote its debug log: it was looked at
    assert PASSWORD not in output
    for path in written:
        assert PASSWORD not in path.read_text(errors="replace"), path
