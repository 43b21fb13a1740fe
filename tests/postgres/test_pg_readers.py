"""The reading commands on a PostgreSQL target give what they give on DuckDB: `kpiflow query`, `scorecard`
(`--explain` too) and `dashboard` over the same demo published on both engines, the same message and exit code
where nothing is published, nothing changed by reading, and a BI user who may read only `marts`.

The published state is a copy of the session's full run + nightly on both engines (tests/pg_cli.py
`full_run_then_nightly`, demo February and March 2024): its database made by `CREATE DATABASE ... TEMPLATE`, its
DuckDB files and state folders copied, then `kpiflow grants --apply` as a deployment runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from pg_cli import NIGHTLY_PASSWORD, NIGHTLY_USER, Nightly, copy_sides, published_fingerprints
from pg_cli import Side as CliSide
from pg_server import PostgresServer
from psycopg import sql

from kpiflow.config import PostgresConnection
from kpiflow.warehouse import WarehouseError
from kpiflow.warehouse.duckdb import DuckDBWarehouse
from kpiflow.warehouse.fingerprints import fingerprint_schemas
from kpiflow.warehouse.postgres import PostgresWarehouse

pytestmark = pytest.mark.slow

BUILDER, BUILD_PASSWORD = NIGHTLY_USER, NIGHTLY_PASSWORD
READER, READER_PASSWORD = "readers_alice", "Pw-rd7-ReaderSecret-86"
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
    pg_side: CliSide
    nightly: Nightly


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


def _new_database(server: PostgresServer, dbname: str) -> None:
    server.create_database(dbname)
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(BUILDER)))


@pytest.fixture(scope="module")
def published(nightly: Nightly, pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("pg_readers")
    dbname = "kpiflow_readers"
    duck, pg = copy_sides(pg_server, nightly, root, dbname=dbname)
    ok(kpiflow(pg.env, "grants", "--apply"))
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(READER)))
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(READER), sql.Literal(READER_PASSWORD))
        )
        admin.execute(sql.SQL("GRANT kpiflow_bi TO {}").format(sql.Identifier(READER)))
    bi_env = pg.env | {"KPIFLOW_PG_USER": READER, "KPIFLOW_PG_PASSWORD": READER_PASSWORD}
    return Published(root, pg_server, dbname, duck.env, pg.env, bi_env, pg, nightly)


def test_query_on_postgres_prints_what_duckdb_prints(published: Published) -> None:
    for output_format in ("table", "csv", "json"):
        duckdb_out = ok(kpiflow(published.duckdb_env, *QUERY, "--format", output_format))
        pg_out = ok(kpiflow(published.pg_env, *QUERY, "--format", output_format))
        assert pg_out == duckdb_out, output_format
    rows = json.loads(ok(kpiflow(published.pg_env, *QUERY, "--format", "json")))
    assert [row["metric_time__month"] for row in rows] == ["2024-02-01", "2024-03-01"]
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
    """Last: the version before the nightly's publish is the full run's, which the rollback brings back whole and the
    readers then read."""
    done = kpiflow(published.pg_env, "rollback")
    assert done.returncode == 0, done.stderr
    location = f"postgresql://{BUILDER}@127.0.0.1:{published.server.port}/{published.dbname} (schemas marts, payroll)"
    assert f"rolled back: {location} holds the previously published marts again" in " ".join(done.stderr.split())
    assert published_fingerprints(published.pg_side) == published.nightly.published_after_full_run
    after = ok(
        kpiflow(published.pg_env, "scorecard", "--card", "store_manager", "--period", "2024-03", "--format", "json")
    )
    assert json.loads(after)
