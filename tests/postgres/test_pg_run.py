"""`kpiflow run` end to end on PostgreSQL 15 beside DuckDB, through the real CLI: the same demo in both, a full run and
then a nightly with one new day; every published row equal.

land/verify -> gate -> compile -> dbt build + tests -> scorecards and payouts -> audit -> publish -> report, all on the
pg target's database; the repository's models/generated stays the DuckDB rendering.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from pg_cli import (
    KPIFLOW,
    NEXT_DATE,
    NIGHTLY_USER,
    REPO,
    RUN_DATE,
    Nightly,
    Side,
    assert_tables_equal,
    build_stage_headline,
    connect,
    copy_sides,
    kpiflow,
    published_fingerprints,
)
from pg_server import PostgresServer

from kpiflow.digests import files_digest

pytestmark = pytest.mark.slow


def test_a_full_run_then_a_nightly_equal_duckdb_row_for_row(nightly: Nightly) -> None:
    """The runs are the session's `nightly` fixture (tests/pg_cli.py full_run_then_nightly, demo scale 0.1), which
    the other PostgreSQL suites copy: what each run returned and published after each day is checked here."""
    duck, pg = nightly.duck, nightly.pg
    for day, mode in ((RUN_DATE, "full rebuild"), (NEXT_DATE, "incremental from")):
        results = nightly.results[day]
        for result in results:
            assert isinstance(result, dict) and result["status"] == "completed", result
            assert not any(result["quality"]["quarantined_by_check"].values())  # the raw data stayed the same
            assert build_stage_headline(result).count(mode) == 1, build_stage_headline(result)
        pg_result = results[1]
        assert str(pg_result["published"]["marts_path"]).startswith(f"postgresql://{NIGHTLY_USER}@")
        assert_tables_equal(*nightly.published[day])
    # The pg run compiled PostgreSQL SQL into its own copy of the project; the repository kept DuckDB's rendering.
    generated = REPO / "models" / "generated"
    assert files_digest(sorted(generated.glob("*")), generated) == nightly.generated_before
    pg_generated = pg.state_dir / "projects" / "pg" / "models" / "generated" / "rollup__revenue_events.sql"
    assert re.search(r'as "order"', pg_generated.read_text(encoding="utf-8"), re.IGNORECASE)
    assert not Path(pg.env["KPIFLOW_WAREHOUSE"]).exists()  # nothing of the pg run went into a DuckDB file
    assert Path(duck.env["KPIFLOW_MARTS"]).exists()
    with connect(pg) as con:
        builds = con.execute(
            "select run_date, full_refresh from kpiflow_state.runs where fingerprint is not null order by built_at"
        ).fetchall()
        published = con.execute("select count(*) from kpiflow_state.runs where published_at is not null").fetchone()
        schemas = {name for (name,) in con.execute("select nspname from pg_namespace").fetchall()}
    assert builds == [(RUN_DATE, True), (NEXT_DATE, False)]
    assert published == (2,)
    assert {"marts", "payroll", "marts__previous", "payroll__previous"} <= schemas
    assert not {"marts__build", "payroll__build"} & schemas


def test_a_run_killed_during_the_build_leaves_the_published_marts_and_the_next_run_publishes(
    nightly: Nightly, pg_server: PostgresServer, tmp_path: Path
) -> None:
    """kill -9 of `kpiflow run` (the process and its children) while dbt builds: the published marts are the ones
    before, fingerprint for fingerprint; the rerun drops the dead run's build schemas and publishes."""
    _, pg = copy_sides(pg_server, nightly, tmp_path, dbname="kpiflow_run_killed")
    day = NEXT_DATE + timedelta(days=1)
    kpiflow(pg, "demo-data", "--append-through", str(day), "--quiet")
    before = published_fingerprints(pg)
    command = [KPIFLOW, "run", "--date", str(day), "--quiet"]
    run = subprocess.Popen(command, env={**os.environ, **pg.env}, cwd=pg.state_dir, start_new_session=True)
    journal = pg.state_dir / "last_run.json"
    deadline = time.monotonic() + 600
    try:
        while not _building(journal, day, pg):
            assert run.poll() is None, "the run ended before its build was under way"
            assert time.monotonic() < deadline, "the build did not start within 10 minutes"
            time.sleep(0.5)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert published_fingerprints(pg) == before
    killed = json.loads(journal.read_text(encoding="utf-8"))["run_id"]
    result = kpiflow(pg, "run", "--date", str(day), "--json", "--quiet")
    assert isinstance(result, dict) and result["status"] == "completed"
    assert published_fingerprints(pg) != before
    with connect(pg) as con:  # the record of runs: the killed run marked by the next, which published
        assert con.execute("select status from kpiflow_state.runs where run_id = %s", [killed]).fetchone() == (
            "killed",
        )
        assert con.execute(
            "select run_date from kpiflow_state.runs where published_at is not null order by published_at desc limit 1"
        ).fetchone() == (day,)


def _building(journal: Path, day: date, pg: Side) -> bool:
    """The run of `day` is in its build stage and dbt has begun writing the marts' build copy."""
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stages = {stage["name"]: stage["status"] for stage in record.get("stages", [])}
    if record.get("run_date") != str(day) or stages.get("build") != "running":
        return False
    with connect(pg) as con:
        return con.execute("select 1 from pg_namespace where nspname = 'marts__build'").fetchone() is not None
