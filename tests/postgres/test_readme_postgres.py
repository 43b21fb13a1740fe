"""README's "Run on PostgreSQL" commands, run as written on a real PostgreSQL 15 server: the demo loaded, the grants
applied, a full run published, the marts read as the BI role with psql, then the next day landed and the nightly
published it.

Only the block's `export` lines are replaced (checked to name the target and every KPIFLOW_PG_* variable): the test
gives them its own server's values, so the other commands run verbatim.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from pg_server import PostgresServer
from psycopg import sql
from readme_commands import readme_block

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- readme-postgres"
BUILDER, PASSWORD = "readme_builder", "Pw-readme-Builder-61"
READER = "alice"  # the README's BI reader; roles are per server, so the test drops it first
EXPORTED = {"KPIFLOW_TARGET", "KPIFLOW_PG_HOST", "KPIFLOW_PG_PORT", "KPIFLOW_PG_DBNAME", "KPIFLOW_PG_USER"}
EXPORTED |= {"KPIFLOW_PG_PASSWORD"}


def commands_without_exports(block: str) -> tuple[str, set[str]]:
    """The block minus its `export` lines, and the names those lines set."""
    kept, exported = [], set()
    for line in block.splitlines():
        if line.startswith("export "):
            exported |= {word.split("=", 1)[0] for word in line.split()[1:] if "=" in word}
        else:
            kept.append(line)
    return "\n".join(kept) + "\n", exported


def test_the_block_sets_the_target_and_every_connection_variable() -> None:
    _, exported = commands_without_exports(readme_block(MARKER))
    assert exported == EXPORTED


def _fresh_database(server: PostgresServer) -> str:
    dbname = server.create_database("kpiflow_readme")
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(READER)))
        if not admin.execute("select 1 from pg_roles where rolname = %s", [BUILDER]).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(BUILDER)))
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(BUILDER), sql.Literal(PASSWORD)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(BUILDER)))
    return dbname


def test_the_readme_commands_publish_the_marts_and_the_next_nightly(pg_server: PostgresServer, tmp_path: Path) -> None:
    commands, _ = commands_without_exports(readme_block(MARKER))
    last_day = max(date.fromisoformat(day) for day in re.findall(r"kpiflow run --date (\S+)", commands))
    dbname = _fresh_database(pg_server)
    env = {
        **os.environ,
        **pg_server.env(dbname),
        "KPIFLOW_TARGET": "pg",
        "KPIFLOW_PG_USER": BUILDER,
        "KPIFLOW_PG_PASSWORD": PASSWORD,
        "KPIFLOW_PROJECT_DIR": str(REPO),
        "KPIFLOW_WAREHOUSE": str(tmp_path / "state" / "kpiflow.duckdb"),  # run state only, on a postgres target
        "KPIFLOW_MARTS": str(tmp_path / "state" / "marts.duckdb"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"README's Run on PostgreSQL block failed:\n{output[-8000:]}"
    assert PASSWORD not in output
    assert re.search(r"^\s*day\s*\|\s*[1-9]", done.stdout, re.MULTILINE), f"alice read no daily KPIs:\n{done.stdout}"
    with psycopg.connect(pg_server.conninfo(dbname)) as admin:
        published_through = admin.execute("select max(period_start) from marts.kpi_values where grain = 'day'")
        assert published_through.fetchone() == (last_day,)
        assert admin.execute("select count(*) from payroll.payouts").fetchone()[0] > 0
        left_over = admin.execute(
            "select nspname from pg_namespace where nspname in ('marts__build', 'payroll__build') order by 1"
        ).fetchall()
        assert left_over == []
