"""The dbt test `unique_in_build_window` (macros/unique_in_build_window.sql), run by dbt on a tiny project with the
project's real macros: in an incremental build it judges the keys of the window's rows against the whole table;
a full build, --full-refresh or no recorded window judges every key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from incremental_helpers import tiny_dbt_project, tiny_inputs

pytestmark = pytest.mark.slow  # a few dbt processes: ~10 s each

WINDOW = date(2024, 1, 5)
FILES = {
    "dbt_project.yml": """
        name: tiny_window
        version: "0.1.0"
        config-version: 2
        profile: kpiflow
        models:
          tiny_window:
            +materialized: table
    """,
    "models/events.sql": "select id, cast(event_date as date) as event_date from {{ ref('raw_events') }}",
    "models/schema.yml": """
        version: 2
        models:
          - name: events
            columns:
              - name: id
                data_tests: [{unique_in_build_window: {arguments: {window_column: event_date}}}]
    """,
}
OLD_DUPLICATE = "id,event_date\n1,2024-01-01\n1,2024-01-02\n2,2024-01-10\n"  # both copies before the window
NEW_DUPLICATE = "id,event_date\n1,2024-01-01\n2,2024-01-10\n1,2024-01-06\n"  # a window row repeats an old key
CLEAN = "id,event_date\n1,2024-01-01\n2,2024-01-10\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tiny_dbt_project(tmp_path, FILES)


def _build(project: Path, dbt_runner: Callable[..., str], rows: str, window: date | None, *flags: str) -> bool:
    """dbt build with `rows` as the table and `window` recorded as the build window; True when every test passed."""
    warehouse = tiny_inputs(project, rows, window)
    try:
        dbt_runner(project, warehouse, "build", *flags)
    except AssertionError as failed:
        assert "unique_in_build_window_events_id" in str(failed), failed
        return False
    return True


@pytest.mark.parametrize(
    ("rows", "window", "flags", "passes"),
    [
        (CLEAN, WINDOW, (), True),
        (OLD_DUPLICATE, WINDOW, (), True),  # both copies older than the window: judged when they were built
        (NEW_DUPLICATE, WINDOW, (), False),  # a window row repeats a key from before the window
        (OLD_DUPLICATE, None, (), False),  # a full build (window 1900-01-01) judges every key
        (OLD_DUPLICATE, WINDOW, ("--full-refresh",), False),
        (OLD_DUPLICATE, WINDOW, ("--vars", "{kpiflow_window_start: 2023-12-31}"), False),
    ],
    ids=["clean", "old-duplicate-windowed", "new-duplicate", "full-build", "full-refresh", "var-window"],
)
def test_unique_in_build_window(
    project: Path, dbt_runner: Callable[..., str], rows: str, window: date | None, flags: tuple[str, ...], passes: bool
) -> None:
    assert _build(project, dbt_runner, rows, window, *flags) is passes
