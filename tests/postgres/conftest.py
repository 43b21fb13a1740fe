"""The PostgreSQL suites' one expensive warehouse, built once per session: the demo at scale 0.1 after a full run and
a nightly on both engines (tests/pg_cli.py `full_run_then_nightly`). test_pg_run.py and test_pg_build.py check it; the
kill -9 test and test_pg_readers.py work on copies of it (`copy_sides`), so no test sees another's changes."""

from __future__ import annotations

import pytest
from pg_cli import Nightly, full_run_then_nightly
from pg_server import PostgresServer


@pytest.fixture(scope="session")
def nightly(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Nightly:
    return full_run_then_nightly(pg_server, tmp_path_factory.mktemp("pg_nightly_shared"))
