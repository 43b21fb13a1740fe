"""`kpiflow backfill`, `kpiflow serve` and a BI reader during `kpiflow run`, on a real PostgreSQL 15 server.

The backfill of past days publishes what DuckDB's backfill of the same days publishes; a member of the BI role polling
the published marts while a real run publishes sees the old version or the new one, whole, never a mix or an error
(a wait for the swap's lock is allowed), and is refused on payroll and raw; `kpiflow serve` serves the nightly for a
postgres target.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from pg_cli import (
    KPIFLOW,
    Side,
    assert_published_equal,
    build_stage_headline,
    connect,
    demo_sides,
    kpiflow,
    published_days,
)
from pg_server import PostgresServer
from psycopg import sql

pytestmark = pytest.mark.slow

SEED, SCALE, START, END = 7, 0.03, date(2024, 2, 1), date(2024, 3, 31)
BACKFILL = (date(2024, 3, 29), date(2024, 3, 30))
PASSWORD = "Pw-nightly-Builder-27"
BI_USER, BI_PASSWORD = "nightly_bi_reader", "Pw-nightly-Reader-58"


@pytest.fixture(scope="module")
def sides(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    demo = {"scale": SCALE, "start": START, "end": END, "seed": SEED}
    root = tmp_path_factory.mktemp("pg_nightly")
    return demo_sides(pg_server, root, dbname="kpiflow_nightly", user="nightly_builder", password=PASSWORD, demo=demo)


def test_a_backfill_of_past_days_publishes_what_the_duckdb_backfill_publishes(sides: tuple[Side, Side]) -> None:
    """Two past days (the data reaches END): the first a full build, the second incremental, each published."""
    duck, pg = sides
    first, last = BACKFILL
    for side in (duck, pg):
        result = kpiflow(side, "backfill", "--start", str(first), "--end", str(last), "--json", "--quiet")
        assert isinstance(result, dict) and result["status"] == "completed", result
        assert result["completed"] == [str(first), str(last)]
        headlines = [build_stage_headline(run) for run in result["runs"]]
        assert "full rebuild" in headlines[0] and "incremental from" in headlines[1], headlines
    assert_published_equal(pg, duck)
    with connect(pg) as con:
        builds = con.execute(
            "select run_date, full_refresh from kpiflow_state.runs where fingerprint is not null order by built_at"
        ).fetchall()
    assert builds == [(first, True), (last, False)]
    assert published_days(pg) == [first, last]


def _bi_member(server: PostgresServer, pg: Side) -> psycopg.Connection[tuple[object, ...]]:
    """A login role that is only a member of kpiflow_bi, connected (each statement its own transaction)."""
    kpiflow(pg, "grants", "--apply")
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        if not admin.execute("select 1 from pg_roles where rolname = %s", [BI_USER]).fetchone():
            admin.execute(sql.SQL("create role {} login").format(sql.Identifier(BI_USER)))
        admin.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(BI_USER), sql.Literal(BI_PASSWORD)))
        admin.execute(sql.SQL("grant kpiflow_bi to {}").format(sql.Identifier(BI_USER)))
    dbname = pg.env["KPIFLOW_PG_DBNAME"]
    return psycopg.connect(server.conninfo(dbname, BI_USER, BI_PASSWORD), autocommit=True)


def _version_query(bi: psycopg.Connection[tuple[object, ...]]) -> sql.Composed:
    """ONE statement giving every published mart's row count and checksum: a reader whose statement saw
    marts.kpi_values of one publish and a wide mart of another gets a combination no publish made."""
    tables = [name for (name,) in bi.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
    ).fetchall()]  # fmt: skip
    assert "kpi_values" in tables and any(name.startswith("mart_") for name in tables), tables
    fingerprint = sql.SQL(
        "(select count(*) || ':' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0) "
        "from marts.{} as t)"
    )
    return sql.SQL("select ") + sql.SQL(", ").join(fingerprint.format(sql.Identifier(name)) for name in tables)


def test_a_bi_reader_polling_during_a_run_sees_only_whole_versions(
    sides: tuple[Side, Side], pg_server: PostgresServer
) -> None:
    _, pg = sides
    with connect(pg) as con:
        if con.execute("select to_regclass('marts.kpi_values')").fetchone() == (None,):
            kpiflow(pg, "run", "--date", str(BACKFILL[-1]), "--quiet")  # something published to read during the run
    with _bi_member(pg_server, pg) as bi:
        query = _version_query(bi)
        old = bi.execute(query).fetchone()
        run = subprocess.Popen(
            [KPIFLOW, "run", "--date", str(END), "--quiet"], env={**os.environ, **pg.env}, cwd=pg.state_dir,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        seen, errors, longest = [], [], 0.0
        while run.poll() is None:
            started = time.monotonic()
            try:
                seen.append(bi.execute(query).fetchone())
            except psycopg.Error as error:
                errors.append(str(error))
            longest = max(longest, time.monotonic() - started)
            time.sleep(0.02)
        output = run.stdout.read() if run.stdout else ""
        assert run.returncode == 0, output[-5000:]
        new = bi.execute(query).fetchone()
        assert errors == []
        assert new != old and old is not None
        assert set(seen) <= {old, new}, "a poll saw marts that no publish made (a mix of two versions)"
        switched = seen.index(new)  # the report follows the publish, so the run was still running after the swap
        assert old in seen[:switched] and set(seen[switched:]) == {new}, "a reader went back to the old version"
        for relation in ("payroll.payouts", "raw.orders"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(sql.SQL("select 1 from {} limit 1").format(sql.Identifier(*relation.split("."))))
    assert published_days(pg)[-1] == END
    print(f"{len(seen)} polls during the run, {switched} of the old version; longest poll {longest:.2f}s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_serves_the_nightly_for_a_postgres_target(sides: tuple[Side, Side]) -> None:
    """`kpiflow serve` on the pg target starts its local Prefect server and serves the deployment (then stopped with
    Ctrl-C); --ensure-demo-data, which makes a DuckDB demo file, is refused before anything starts."""
    _, pg = sides
    refused = pg.command("serve", "--ensure-demo-data")
    assert refused.returncode == 2 and "--ensure-demo-data creates and extends a DuckDB demo file" in refused.stderr
    env = {key: value for key, value in {**os.environ, **pg.env}.items() if key != "PREFECT_API_URL"}
    serve = subprocess.Popen(
        [KPIFLOW, "serve", "--port", str(_free_port())], env=env, cwd=pg.state_dir, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines = []
    try:
        assert serve.stdout is not None
        for line in serve.stdout:
            lines.append(line)
            if "Serving kpiflow-nightly/nightly" in line:
                break
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert any("Serving kpiflow-nightly/nightly" in line for line in lines), "".join(lines)[-5000:]
    assert PASSWORD not in "".join(lines)
    assert not Path(pg.env["KPIFLOW_WAREHOUSE"]).exists()  # serving a postgres target made no DuckDB file
