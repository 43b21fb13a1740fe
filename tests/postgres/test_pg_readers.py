"""The reading commands on a PostgreSQL target give what they give on DuckDB: `kpiflow query`, `scorecard`
(`--explain` too) and `dashboard` over the same demo published on both engines, the same message and exit code
where nothing is published, nothing changed by reading, and a BI user who may read only `marts`.

The published state is made without `kpiflow run` (not wired on PostgreSQL yet): the demo compiled and built with
dbt on each engine, the scorecards built on DuckDB and written to both, then each engine's own publish (on
PostgreSQL the build schemas fingerprinted and swapped in by `publish`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from pg_server import PostgresServer
from psycopg import sql

from kpiflow.compiler import compile_project
from kpiflow.config import PostgresConnection, Settings
from kpiflow.demo import generate_demo_warehouse
from kpiflow.demo.postgres import load_demo_into_postgres
from kpiflow.scorecards.build import build_scorecards
from kpiflow.scorecards.outputs import OUTPUT_TABLES
from kpiflow.warehouse import PUBLISHED_SCHEMAS, WarehouseError
from kpiflow.warehouse.duckdb import DuckDBWarehouse
from kpiflow.warehouse.fingerprints import fingerprint_schemas, quote_identifier
from kpiflow.warehouse.postgres import PostgresWarehouse

pytestmark = pytest.mark.slow

SEED, SCALE, START, END = 11, 0.02, date(2024, 1, 1), date(2024, 3, 31)
BUILD_PASSWORD = "Pw-rd7-BuilderSecret-41"
READER_PASSWORD = "Pw-rd7-ReaderSecret-86"
BUILDER, READER = "readers_builder", "readers_alice"
BUILD = {schema: f"{schema}__build" for schema in PUBLISHED_SCHEMAS}
QUERY = ("query", "--metrics", "net_revenue", "--group-by", "metric_time__month")


@dataclass(frozen=True)
class Published:
    """The same demo published on DuckDB and on PostgreSQL, and the environments that point kpiflow at each."""

    root: Path
    server: PostgresServer
    dbname: str
    duckdb_env: dict[str, str]
    pg_env: dict[str, str]
    bi_env: dict[str, str]


def kpiflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess; no password may appear in anything it prints."""
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    for password in (BUILD_PASSWORD, READER_PASSWORD):
        assert password not in done.stdout + done.stderr, args
    return done


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _publish_duckdb(warehouse: DuckDBWarehouse, project: Path) -> None:
    with warehouse.connect() as session:
        build_scorecards(session, project, END)
        audited = tuple(fingerprint_schemas(session).values())
    warehouse.publish(audited, run_id="readers-duckdb", run_date=END, published_at=datetime.now(UTC))


def _publish_postgres(warehouse: PostgresWarehouse, scorecards: DuckDBWarehouse, env: dict[str, str]) -> None:
    """Publish what dbt built, with the scorecard outputs computed on DuckDB (the same Decimals: the computation is
    Python, independent of the engine) written in by Session.write_table, as the scorecards stage writes them.

    dbt builds `marts` into `marts__build` once the nightly is wired on PostgreSQL; before that it builds `marts`,
    which is moved there. The fingerprints are taken under the published names, as the audit hands them to publish.
    `kpiflow grants --apply` runs before the publish, which grants the roles on the new schemas again; it creates
    `marts` and `payroll` empty, so the version before this publish is nothing published.
    """
    with scorecards.connect(read_only=True) as source:
        outputs = {table: source.execute(f"select * from {table}").fetchall() for table in OUTPUT_TABLES}
    with warehouse.connect() as session:
        if session.has_relation("marts.kpi_values") and not session.relations([BUILD["marts"]]):
            session.native(f"alter schema marts rename to {quote_identifier(BUILD['marts'])}")
        for table, rows in outputs.items():
            schema, name = table.split(".")
            session.write_table(f"{BUILD[schema]}.{name}", OUTPUT_TABLES[table], rows)
        prints = fingerprint_schemas(session, tuple(BUILD.values())).values()
    ok(kpiflow(env, "grants", "--apply"))
    audited = tuple(replace(fp, schema=fp.schema.removesuffix("__build")) for fp in prints)
    warehouse.publish(audited, run_id="readers-pg", run_date=END, published_at=datetime.now(UTC))


def _new_database(server: PostgresServer, dbname: str) -> None:
    server.create_database(dbname)
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        if not admin.execute("select 1 from pg_roles where rolname = %s", [BUILDER]).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(BUILDER)))
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(BUILDER), sql.Literal(BUILD_PASSWORD)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(BUILDER)))


def _pg_env(server: PostgresServer, dbname: str, user: str = BUILDER, password: str = BUILD_PASSWORD) -> dict[str, str]:
    env = {**server.env(dbname), "KPIFLOW_PG_USER": user, "KPIFLOW_PG_PASSWORD": password, "KPIFLOW_TARGET": "pg"}
    return env


@pytest.fixture(scope="module")
def published(
    pg_server: PostgresServer,
    project_copier: Callable[[Path], Path],
    dbt_runner: Callable[..., str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Published:
    root = tmp_path_factory.mktemp("pg_readers")
    duckdb_project = project_copier(root / "duckdb_project")
    duckdb_file = root / "duckdb" / "kpiflow.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
    dbt_runner(duckdb_project, duckdb_file, "seed")
    dbt_runner(duckdb_project, duckdb_file, "run")
    _publish_duckdb(DuckDBWarehouse.for_file(duckdb_file), duckdb_project)
    duckdb_env = {
        "KPIFLOW_TARGET": "dev",
        "KPIFLOW_PROJECT_DIR": str(duckdb_project),
        "KPIFLOW_WAREHOUSE": str(duckdb_file),
        "KPIFLOW_MARTS": str(duckdb_file.with_name("marts.duckdb")),
    }

    dbname = "kpiflow_readers"
    _new_database(pg_server, dbname)
    connection = PostgresConnection("127.0.0.1", pg_server.port, BUILDER, dbname, BUILD_PASSWORD)
    load_demo_into_postgres(connection, scale=SCALE, start=START, end=END, seed=SEED)
    pg_project = project_copier(root / "pg_project")
    no_duckdb = {
        "KPIFLOW_WAREHOUSE": str(root / "pg" / "none.duckdb"),
        "KPIFLOW_MARTS": str(root / "pg" / "none.duckdb"),
    }
    pg_env = _pg_env(pg_server, dbname) | no_duckdb | {"KPIFLOW_PROJECT_DIR": str(pg_project)}
    compile_project(Settings(pg_project, root / "pg" / "none.duckdb", root / "pg" / "none.duckdb", "pg"))
    dbt_runner(pg_project, root / "pg" / "none.duckdb", "seed", env=pg_env)
    dbt_runner(pg_project, root / "pg" / "none.duckdb", "run", env=pg_env)
    _publish_postgres(PostgresWarehouse(connection), DuckDBWarehouse.for_file(duckdb_file), pg_env)
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(READER)))
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(READER), sql.Literal(READER_PASSWORD))
        )
        admin.execute(sql.SQL("GRANT kpiflow_bi TO {}").format(sql.Identifier(READER)))
    bi_env = pg_env | {"KPIFLOW_PG_USER": READER, "KPIFLOW_PG_PASSWORD": READER_PASSWORD}
    return Published(root, pg_server, dbname, duckdb_env, pg_env, bi_env)


def test_query_on_postgres_prints_what_duckdb_prints(published: Published) -> None:
    for output_format in ("table", "csv", "json"):
        duckdb_out = ok(kpiflow(published.duckdb_env, *QUERY, "--format", output_format))
        pg_out = ok(kpiflow(published.pg_env, *QUERY, "--format", output_format))
        assert pg_out == duckdb_out, output_format
    rows = json.loads(ok(kpiflow(published.pg_env, *QUERY, "--format", "json")))
    assert [row["metric_time__month"] for row in rows] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert all(row["net_revenue"] > 0 for row in rows)


def _cards(published: Published) -> list[str]:
    with DuckDBWarehouse.for_file(Path(published.duckdb_env["KPIFLOW_WAREHOUSE"])).read_published() as session:
        return [card for (card,) in session.execute("select distinct card from payroll.payouts order by 1").fetchall()]


def test_scorecard_on_postgres_prints_what_duckdb_prints(published: Published) -> None:
    cards = _cards(published)
    assert cards == ["sales_manager", "store_manager"]
    for card in cards:
        for output_format in ("table", "csv", "json"):
            args = ("scorecard", "--card", card, "--period", "2024-02", "--format", output_format)
            assert ok(kpiflow(published.pg_env, *args)) == ok(kpiflow(published.duckdb_env, *args)), args
    args = ("scorecard", "--card", cards[0], "--period", "2024-02", "--explain")
    explained = ok(kpiflow(published.pg_env, *args))
    assert explained == ok(kpiflow(published.duckdb_env, *args))
    assert "index = " in explained and "pay = " in explained


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _page_data(site: Path) -> dict[str, tuple[str, list[float]]]:
    """Each page as its text with plotly's random element ids blanked and its numbers taken out (compared apart:
    doubles summed by two engines may differ in the last bits)."""
    pages = {}
    for path in sorted(site.rglob("*.html")):
        text = _UUID.sub("<id>", path.read_text(encoding="utf-8"))
        pages[str(path.relative_to(site))] = (_NUMBER.sub("<n>", text), [float(n) for n in _NUMBER.findall(text)])
    return pages


def _same_pages(one: Path, other: Path) -> None:
    pages, others = _page_data(one), _page_data(other)
    assert list(pages) == list(others)
    for name, (skeleton, numbers) in pages.items():
        other_skeleton, other_numbers = others[name]
        assert skeleton == other_skeleton, name
        assert numbers == pytest.approx(other_numbers, rel=1e-9, abs=1e-9), name


def test_the_dashboard_on_postgres_shows_the_numbers_of_the_duckdb_dashboard(published: Published) -> None:
    duckdb_site, pg_site = published.root / "site-duckdb", published.root / "site-pg"
    ok(kpiflow(published.duckdb_env, "dashboard", "--out", str(duckdb_site), "--include-pay"))
    ok(kpiflow(published.pg_env, "dashboard", "--out", str(pg_site), "--include-pay"))
    _same_pages(pg_site, duckdb_site)
    assert {"index.html", "catalog.html", "sales.html", "pay/index.html"} <= set(_page_data(pg_site))
    assert len(_page_data(pg_site)["sales.html"][1]) > 100  # the numbers are there to compare
    for path in pg_site.rglob("*"):
        if path.is_file():
            assert BUILD_PASSWORD.encode() not in path.read_bytes(), path


def _everything(server: PostgresServer, dbname: str) -> dict[str, object]:
    """Every relation of every schema with its fingerprint, and the schemas: what reading must leave as it was."""
    warehouse = PostgresWarehouse(PostgresConnection("127.0.0.1", server.port, BUILDER, dbname, BUILD_PASSWORD))
    with warehouse.connect(read_only=True) as session:
        schemas = tuple(
            name
            for (name,) in session.native(
                "select nspname from pg_namespace where nspname not like 'pg\\_%' "
                "and nspname <> 'information_schema' order by 1"
            ).fetchall()
        )
        return {"schemas": schemas, **fingerprint_schemas(session, schemas)}


def test_reading_commands_change_nothing_and_their_sessions_cannot_write(published: Published) -> None:
    before = _everything(published.server, published.dbname)
    assert "marts.kpi_values" in before and "payroll.payouts" in before
    ok(kpiflow(published.pg_env, *QUERY))
    ok(kpiflow(published.pg_env, "scorecard", "--card", "store_manager", "--period", "2024-03", "--explain"))
    ok(kpiflow(published.pg_env, "dashboard", "--out", str(published.root / "site-read-only"), "--include-pay"))
    assert _everything(published.server, published.dbname) == before
    connection = PostgresConnection("127.0.0.1", published.server.port, BUILDER, published.dbname, BUILD_PASSWORD)
    with PostgresWarehouse(connection).read_published() as session, pytest.raises(WarehouseError, match="read-only"):
        session.execute("create table marts.written_by_a_reader (id integer)")


def test_a_bi_user_reads_the_dashboard_and_is_told_what_query_needs(published: Published) -> None:
    bi_site, pg_site = published.root / "site-bi", published.root / "site-builder"
    ok(kpiflow(published.bi_env, "dashboard", "--out", str(bi_site)))
    ok(kpiflow(published.pg_env, "dashboard", "--out", str(pg_site)))
    _same_pages(bi_site, pg_site)
    pay = kpiflow(published.bi_env, "dashboard", "--out", str(published.root / "site-bi-pay"), "--include-pay")
    assert pay.returncode == 2, pay.stderr
    assert "permission denied for schema payroll" in pay.stderr and "reads schema marts (and payroll" in pay.stderr
    query = kpiflow(published.bi_env, *QUERY)
    assert query.returncode == 2 and "Traceback" not in query.stderr, query.stderr
    assert "permission denied for schema intermediate" in query.stderr and "kpiflow query reads" in query.stderr
    # what docs/postgres.md tells a query user to be granted: the built models of schema intermediate
    with psycopg.connect(published.server.conninfo(published.dbname, BUILDER, BUILD_PASSWORD), autocommit=True) as db:
        db.execute(sql.SQL("GRANT USAGE ON SCHEMA intermediate TO {}").format(sql.Identifier(READER)))
        db.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA intermediate TO {}").format(sql.Identifier(READER)))
    assert ok(kpiflow(published.bi_env, *QUERY)) == ok(kpiflow(published.duckdb_env, *QUERY))


def test_nothing_published_gives_the_message_and_exit_code_duckdb_gives(published: Published) -> None:
    dbname = "kpiflow_readers_empty"
    _new_database(published.server, dbname)
    pg_env = published.pg_env | {"KPIFLOW_PG_DBNAME": dbname}
    duckdb_env = published.duckdb_env | {"KPIFLOW_MARTS": str(published.root / "nothing" / "marts.duckdb")}
    pg_location = f"postgresql://{BUILDER}@127.0.0.1:{published.server.port}/{dbname} (schemas marts, payroll)"
    commands = [
        ("scorecard", "--card", "store_manager", "--period", "2024-03"),
        ("dashboard", "--out", str(published.root / "site-nothing")),
    ]
    for granted in (False, True):  # `kpiflow grants --apply` creates the schemas marts and payroll, empty
        if granted:
            ok(kpiflow(pg_env, "grants", "--apply"))
        for args in commands:
            on_duckdb, on_pg = kpiflow(duckdb_env, *args), kpiflow(pg_env, *args)
            assert on_pg.returncode == on_duckdb.returncode == 2, on_pg.stderr
            assert "no published marts at" in on_pg.stderr, on_pg.stderr
            assert on_pg.stderr.replace(pg_location, "<marts>") == on_duckdb.stderr.replace(
                duckdb_env["KPIFLOW_MARTS"], "<marts>"
            )
    assert not (published.root / "site-nothing").exists()


def test_rollback_on_postgres_reports_what_is_published_again(published: Published) -> None:
    """Last: the version before the publish is the empty schemas `kpiflow grants` made, so nothing is published
    after the rollback, which the readers then say."""
    done = kpiflow(published.pg_env, "rollback")
    assert done.returncode == 0, done.stderr
    location = f"postgresql://{BUILDER}@127.0.0.1:{published.server.port}/{published.dbname} (schemas marts, payroll)"
    assert f"rolled back: {location} holds the previously published marts again" in " ".join(done.stderr.split())
    after = kpiflow(published.pg_env, "scorecard", "--card", "store_manager", "--period", "2024-03")
    assert after.returncode == 2 and f"no published marts at {location}" in " ".join(after.stderr.split())
