"""dbt in-process: arguments, a passing build, failures named with their files, lock conflicts as transient."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.config import Settings
from kpiflow.errors import RunFailed
from kpiflow.orchestration.dbt import DbtPaths, NodeResult, build_args, dbt_build
from kpiflow.orchestration.transient import TransientRunError, is_transient

FAILING_TEST_DATE = date(2000, 1, 1)
BROKEN_MODEL_DATE = date(1999, 1, 1)

PROJECT_FILES = {
    "dbt_project.yml": """
        name: tiny
        version: "0.1.0"
        config-version: 2
        profile: tiny
        models:
          tiny:
            +materialized: table
    """,
    "profiles/profiles.yml": """
        tiny:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{{ env_var('KPIFLOW_WAREHOUSE') }}"
              threads: 1
    """,
    "seeds/plan.csv": "store_id,target\n1,100\n2,200\n",
    "models/daily.sql": (
        "select store_id, target, '{{ env_var(\"KPIFLOW_RUN_DATE\") }}' as run_date from {{ ref('plan') }}"
    ),
    "models/summary.sql": """
        select count(*) as stores from {{ ref('daily') }}
        {% if env_var('KPIFLOW_RUN_DATE') == '1999-01-01' %} where no_such_column = 1 {% endif %}
    """,
    "models/schema.yml": """
        version: 2
        models:
          - name: daily
            columns:
              - name: store_id
                data_tests: [not_null, unique]
    """,
    "tests/no_test_day.sql": "select * from {{ ref('daily') }} where run_date = '2000-01-01'",
}


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("tiny_dbt")
    for name, text in PROJECT_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).strip() + "\n")
    return Settings(
        project_dir=root,
        warehouse_path=root / "warehouse" / "tiny.duckdb",
        marts_path=root / "warehouse" / "marts.duckdb",
        target="dev",
    )


@pytest.mark.parametrize(
    ("full_refresh", "select", "exclude", "present", "absent"),
    [
        (False, None, None, [], ["--full-refresh", "--select", "--exclude"]),
        (True, None, None, ["--full-refresh"], ["--select", "--exclude"]),
        (False, "kpi_values+", None, ["--select", "kpi_values+"], ["--full-refresh", "--exclude"]),
        (False, None, "tag:restates_input_gate", ["--exclude", "tag:restates_input_gate"], ["--select"]),
    ],
)
def test_build_args_pass_options_through_and_no_nightly_changing_vars(
    tiny_project: Settings,
    full_refresh: bool,
    select: str | None,
    exclude: str | None,
    present: list[str],
    absent: list[str],
) -> None:
    args = build_args(tiny_project, full_refresh=full_refresh, select=select, exclude=exclude)
    assert args[0] == "build"
    assert "--vars" not in args  # a var that changes nightly would make dbt re-parse the whole project
    assert args[args.index("--project-dir") + 1] == str(tiny_project.project_dir)
    assert args[args.index("--profiles-dir") + 1] == str(tiny_project.profiles_dir)
    assert args[args.index("--target-path") + 1] == str(DbtPaths.for_settings(tiny_project).target_dir)
    assert all(flag in args for flag in present)
    assert not any(flag in args for flag in absent)


@pytest.mark.slow  # dbt import and parse: seconds
def test_passing_build_reports_nodes_and_releases_the_warehouse(tiny_project: Settings) -> None:
    finished: list[NodeResult] = []
    summary = dbt_build(tiny_project, run_date=date(2025, 3, 31), on_node=finished.append)
    assert (summary.count("seed"), summary.count("model"), summary.tests_passed) == (1, 2, 3)
    assert summary.log_path.is_file()
    assert {node.unique_id for node in finished} == {node.unique_id for node in summary.nodes}
    # dbt-duckdb keeps its connection open by default; the read-only open below fails if it still does.
    with duckdb.connect(str(tiny_project.warehouse_path), read_only=True) as con:
        assert con.execute("select distinct run_date from main.daily").fetchall() == [("2025-03-31",)]


@pytest.mark.slow  # dbt import and parse: seconds
def test_failed_test_names_the_node_its_files_and_the_log(tiny_project: Settings) -> None:
    with pytest.raises(RunFailed) as failed:
        dbt_build(tiny_project, run_date=FAILING_TEST_DATE)
    message = str(failed.value)
    assert not isinstance(failed.value, TransientRunError)
    assert "1 of 6 nodes failed" in message
    assert "test test.tiny.no_test_day (tests/no_test_day.sql): fail" in message
    assert "Got 2 results, configured to fail if != 0" in message
    compiled = next(line.split(": ", 1)[1] for line in message.splitlines() if "compiled SQL:" in line)
    assert Path(compiled).is_file()
    assert f"Full dbt log: {DbtPaths.for_settings(tiny_project).log_file}" in message


@pytest.mark.slow  # dbt import and parse: seconds
def test_failed_model_names_the_error_and_counts_skipped_nodes(tiny_project: Settings) -> None:
    with pytest.raises(RunFailed) as failed:
        dbt_build(tiny_project, run_date=BROKEN_MODEL_DATE)
    message = str(failed.value)
    assert "model model.tiny.summary (models/summary.sql): error" in message
    assert "no_such_column" in message


@pytest.mark.slow  # dbt import and parse: seconds
def test_warehouse_locked_by_another_process_is_transient(tiny_project: Settings) -> None:
    """A BI tool or analyst holding the file is passing trouble: the flow retries it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(tiny_project.warehouse_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(TransientRunError) as failed:
            dbt_build(tiny_project, run_date=date(2025, 3, 31))
    finally:
        holder.kill()
        holder.wait()
    assert is_transient(failed.value)
    assert "Could not set lock on file" in str(failed.value)
    assert "will retry" in str(failed.value)
