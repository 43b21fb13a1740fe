"""Reader roles on PostgreSQL: people connected through the BI role read marts only, through the payroll role
payroll only; raw, staging, intermediate and kpi are refused to both, and neither can write.

A non-superuser build user (CREATEROLE, owner of the database) builds the schemas and runs `kpiflow grants --apply`,
as a deployment would; the readers are login users made members of the roles, as docs/postgres.md says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pg_server import PostgresServer
from psycopg import sql

from kpiflow.warehouse_roles import ReaderRoles, render_grants

REPO = Path(__file__).resolve().parents[2]
BUILD_PASSWORD = "Pw-gr4-BuilderSecret-73"
READER_PASSWORD = "Pw-gr4-ReaderSecret-19"
SCHEMAS = ("raw", "staging", "intermediate", "kpi", "marts", "payroll")
TABLE = {schema: f"{schema}_rows" for schema in SCHEMAS}
# BI and payroll readers are members of roles with names that include a quote and a space: identifiers, not text.
BI_ROLE, PAYROLL_ROLE = 'grants bi "readers"', "grants_payroll"


def kpiflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True, check=False)


def build_env(server: PostgresServer, dbname: str, builder: str) -> dict[str, str]:
    env = {**server.env(dbname), "KPIFLOW_PG_USER": builder, "KPIFLOW_PG_PASSWORD": BUILD_PASSWORD}
    return env | {"KPIFLOW_TARGET": "pg", "KPIFLOW_PG_BI_ROLE": BI_ROLE, "KPIFLOW_PG_PAYROLL_ROLE": PAYROLL_ROLE}


def new_warehouse(server: PostgresServer, dbname: str, builder: str) -> None:
    """A database owned by a build user with one table in each schema, built by that user as dbt would."""
    server.create_database(dbname)
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        exists = admin.execute("select 1 from pg_roles where rolname = %s", [builder]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(builder)))
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(builder), sql.Literal(BUILD_PASSWORD)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(builder)))
    with psycopg.connect(server.conninfo(dbname, builder, BUILD_PASSWORD), autocommit=True) as build:
        for schema in SCHEMAS:
            build.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            build.execute(
                sql.SQL("CREATE TABLE {} AS SELECT 1 AS id, {} AS source").format(
                    sql.Identifier(schema, TABLE[schema]), sql.Literal(schema)
                )
            )
        # someone once opened raw to everybody: the grants must close it again
        build.execute("GRANT USAGE ON SCHEMA raw TO PUBLIC")
        build.execute("GRANT SELECT ON ALL TABLES IN SCHEMA raw TO PUBLIC")


def add_reader(server: PostgresServer, user: str, role: str) -> None:
    """A person's login role, made a member of a reader role (what an administrator does: GRANT role TO user)."""
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(READER_PASSWORD))
        )
        admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(user)))


def read(server: PostgresServer, dbname: str, user: str, schema: str, table: str | None = None) -> list[tuple]:
    with psycopg.connect(server.conninfo(dbname, user, READER_PASSWORD)) as reader:
        query = sql.SQL("SELECT id, source FROM {}").format(sql.Identifier(schema, table or TABLE[schema]))
        return reader.execute(query).fetchall()


def assert_refused(server: PostgresServer, dbname: str, user: str, schema: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        read(server, dbname, user, schema)


def assert_cannot_write(server: PostgresServer, dbname: str, user: str, schema: str) -> None:
    with psycopg.connect(server.conninfo(dbname, user, READER_PASSWORD)) as reader:
        insert = sql.SQL("INSERT INTO {} VALUES (2, 'written')").format(sql.Identifier(schema, TABLE[schema]))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            reader.execute(insert)


@pytest.fixture(scope="module")
def granted(pg_server: PostgresServer) -> Iterator[tuple[PostgresServer, str, str]]:
    """The warehouse after `kpiflow grants --apply`, with alice in the BI role and paula in the payroll role."""
    dbname, builder = "grants_wh", "grants_builder"
    new_warehouse(pg_server, dbname, builder)
    done = kpiflow(["grants", "--apply"], build_env(pg_server, dbname, builder))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert BUILD_PASSWORD not in output
    add_reader(pg_server, "grants_alice", BI_ROLE)
    add_reader(pg_server, "grants_paula", PAYROLL_ROLE)
    yield pg_server, dbname, output


def test_the_bi_role_reads_marts_and_nothing_else(granted) -> None:
    server, dbname, _ = granted
    assert read(server, dbname, "grants_alice", "marts") == [(1, "marts")]
    for schema in ("payroll", "raw", "staging", "intermediate", "kpi"):
        assert_refused(server, dbname, "grants_alice", schema)


def test_the_payroll_role_reads_payroll_and_nothing_else(granted) -> None:
    server, dbname, _ = granted
    assert read(server, dbname, "grants_paula", "payroll") == [(1, "payroll")]
    for schema in ("marts", "raw", "staging", "intermediate", "kpi"):
        assert_refused(server, dbname, "grants_paula", schema)


def test_neither_role_can_write(granted) -> None:
    server, dbname, _ = granted
    assert_cannot_write(server, dbname, "grants_alice", "marts")
    assert_cannot_write(server, dbname, "grants_paula", "payroll")


def test_tables_the_publish_recreates_later_stay_readable(granted) -> None:
    """Default privileges FOR ROLE the build user: a table swapped in after the grants is readable at once."""
    server, dbname, _ = granted
    with psycopg.connect(server.conninfo(dbname, "grants_builder", BUILD_PASSWORD)) as build:
        for schema in ("marts", "payroll"):
            table = sql.Identifier(schema, TABLE[schema])
            build.execute(
                sql.SQL("CREATE TABLE {} AS SELECT 7 AS id, 'republished' AS source").format(
                    sql.Identifier(schema, "next_rows")
                )
            )
            build.execute(sql.SQL("DROP TABLE {}").format(table))
            build.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(schema, "next_rows"), sql.Identifier(TABLE[schema])
                )
            )
    assert read(server, dbname, "grants_alice", "marts") == [(7, "republished")]
    assert read(server, dbname, "grants_paula", "payroll") == [(7, "republished")]
    assert_refused(server, dbname, "grants_alice", "payroll")
    assert_refused(server, dbname, "grants_paula", "marts")


def test_applying_again_changes_nothing_and_keeps_access(granted) -> None:
    server, dbname, _ = granted
    done = kpiflow(["grants", "--apply"], build_env(server, dbname, "grants_builder"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(server, dbname, "grants_alice", "marts")
    assert_refused(server, dbname, "grants_alice", "raw")


def test_the_roles_cannot_log_in_and_the_output_names_no_password(granted) -> None:
    server, dbname, output = granted
    with psycopg.connect(server.conninfo(dbname)) as admin:
        rows = admin.execute(
            "select rolname, rolcanlogin from pg_roles where rolname = any(%s) order by rolname",
            [[BI_ROLE, PAYROLL_ROLE]],
        ).fetchall()
    assert rows == sorted([(BI_ROLE, False), (PAYROLL_ROLE, False)])
    assert "statements applied on grants_builder@" in output and BUILD_PASSWORD not in output


def test_without_the_grants_a_reader_is_refused_on_marts(pg_server: PostgresServer) -> None:
    """The same warehouse and reader membership, grants not applied: nothing is readable (the grants do the work)."""
    dbname, builder = "grants_none", "grants_builder"
    new_warehouse(pg_server, dbname, builder)
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier("grants_none_bi")))
        admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier("grants_none_bi")))
    add_reader(pg_server, "grants_none_alice", "grants_none_bi")
    assert_refused(pg_server, dbname, "grants_none_alice", "marts")


def test_printing_the_grants_changes_nothing(pg_server: PostgresServer) -> None:
    dbname, builder = "grants_print", "grants_print_builder"
    new_warehouse(pg_server, dbname, builder)
    env = build_env(pg_server, dbname, builder) | {
        "KPIFLOW_PG_BI_ROLE": "print_bi",
        "KPIFLOW_PG_PAYROLL_ROLE": "print_pay",
    }

    def acl_state() -> list[tuple]:
        with psycopg.connect(pg_server.conninfo(dbname)) as admin:
            roles = admin.execute("select rolname from pg_roles where rolname like 'print_%' order by 1").fetchall()
            schemas = admin.execute("select nspname, nspacl::text from pg_namespace order by 1").fetchall()
            tables = admin.execute("select oid::regclass::text, relacl::text from pg_class order by 1").fetchall()
            defaults = admin.execute("select defaclacl::text from pg_default_acl order by 1").fetchall()
        return [*roles, *schemas, *tables, *defaults]

    before = acl_state()
    done = kpiflow(["grants"], env)
    assert done.returncode == 0, done.stderr
    assert acl_state() == before
    for statement in (
        'CREATE ROLE "print_bi" NOLOGIN;',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "marts" TO "print_bi";',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "grants_print_builder" IN SCHEMA "payroll" '
        'GRANT SELECT ON TABLES TO "print_pay";',
    ):
        assert statement in done.stdout
    assert BUILD_PASSWORD not in done.stdout + done.stderr


def test_apply_on_a_duckdb_target_is_refused_with_exit_2() -> None:
    done = kpiflow(["grants", "--apply"], {"KPIFLOW_TARGET": "dev", "KPIFLOW_PG_USER": "builder"})
    assert done.returncode == 2
    assert "needs a PostgreSQL target: KPIFLOW_TARGET=dev is a duckdb target" in done.stderr


def test_the_docs_show_exactly_what_kpiflow_grants_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/postgres.md's SQL block is the output for the documented defaults (KPIFLOW_PG_USER=kpiflow)."""
    env = {"KPIFLOW_PG_USER": "kpiflow"}
    for var in ("KPIFLOW_PG_BI_ROLE", "KPIFLOW_PG_PAYROLL_ROLE", "KPIFLOW_PG_DBNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KPIFLOW_PG_USER", "kpiflow")
    docs = (REPO / "docs" / "postgres.md").read_text()
    assert "## Roles for BI tools and payroll" in docs, "docs/postgres.md lost its roles section"
    section = docs.split("## Roles for BI tools and payroll", 1)[1]
    shown = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert shown is not None, "docs/postgres.md: the roles section has no ```sql block"
    printed = kpiflow(["grants"], env)
    assert printed.returncode == 0, printed.stderr
    assert shown.group(1) == printed.stdout == render_grants(ReaderRoles.from_env())


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"KPIFLOW_PG_BI_ROLE": "readers", "KPIFLOW_PG_PAYROLL_ROLE": "readers"}, "must be three different roles"),
        ({"KPIFLOW_PG_BI_ROLE": "x" * 64}, "at most 63 bytes"),
        ({"KPIFLOW_PG_PAYROLL_ROLE": "pay$kpiflow_grants$; DROP SCHEMA marts; --"}, "contains '\\$kpiflow_grants\\$'"),
    ],
)
def test_role_names_that_cannot_work_are_refused_before_any_sql(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("KPIFLOW_PG_USER", "kpiflow")
    for var, value in variables.items():
        monkeypatch.setenv(var, value)
    done = kpiflow(["grants"], {})
    assert done.returncode == 2 and done.stdout == ""
    assert re.search(message, done.stderr), done.stderr


def test_the_printed_script_run_by_psql_keeps_a_hostile_role_name_inert(pg_server: PostgresServer) -> None:
    """What an administrator does with the output: run it as one script. A name with a line break, quotes and SQL
    becomes exactly that role, and the SQL in it never runs."""
    dbname, builder = "grants_script", "grants_script_builder"
    new_warehouse(pg_server, dbname, builder)
    hostile = 'bi"\nDROP SCHEMA marts CASCADE;--'
    env = build_env(pg_server, dbname, builder) | {
        "KPIFLOW_PG_BI_ROLE": hostile,
        "KPIFLOW_PG_PAYROLL_ROLE": "script_pay",
    }
    done = kpiflow(["grants"], env)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_server.conninfo(dbname, builder, BUILD_PASSWORD), autocommit=True) as build:
        build.execute(done.stdout)
        assert build.execute("select to_regclass('marts.marts_rows') is not null").fetchone() == (True,)
        assert build.execute("select count(*) from pg_roles where rolname = %s", [hostile]).fetchone() == (1,)
    add_reader(pg_server, "grants_script_alice", hostile)
    assert read(pg_server, dbname, "grants_script_alice", "marts") == [(1, "marts")]


def test_a_build_user_who_may_not_create_roles_gets_a_clear_error_and_nothing_changes(
    pg_server: PostgresServer,
) -> None:
    dbname, builder = "grants_norole", "grants_plain_builder"
    new_warehouse(pg_server, dbname, builder)
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER ROLE {} NOCREATEROLE").format(sql.Identifier(builder)))
    env = build_env(pg_server, dbname, builder) | {
        "KPIFLOW_PG_BI_ROLE": "norole_bi",
        "KPIFLOW_PG_PAYROLL_ROLE": "norole_pay",
    }
    done = kpiflow(["grants", "--apply"], env)
    assert done.returncode == 1
    assert "needs CREATEROLE" in done.stderr and BUILD_PASSWORD not in done.stdout + done.stderr
    with psycopg.connect(pg_server.conninfo(dbname)) as admin:
        assert admin.execute("select count(*) from pg_roles where rolname like 'norole_%'").fetchone() == (0,)
        assert admin.execute("select count(*) from pg_default_acl").fetchone() == (0,)
