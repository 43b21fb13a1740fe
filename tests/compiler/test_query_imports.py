"""`kpiflow query --explain` imports what it needs and nothing else: a query stays interactive (issue 16).

Behavioural, not timed: a child process runs the real entry point and reports the modules it loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from kpiflow.cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import json, sys
from kpiflow.cli import main
sys.argv = ["kpiflow", *sys.argv[1:]]
main()
report = {"modules": sorted(sys.modules)}
print(json.dumps(report), file=sys.stderr)
"""
# Heavy libraries and the kpiflow modules that load them; none is needed to print a query's SQL.
NOT_NEEDED = {
    "dbt",
    "prefect",
    "great_expectations",
    "duckdb",
    "pandas",
    "sqlalchemy",
    "rich",
    "urllib.request",
    "sqlglot.dialects.trino",  # quoting.py copies its reserved words; only the rendered dialect is loaded
    "sqlglot.dialects.bigquery",
    "kpiflow.warehouse",  # running a query, not printing its SQL
    "kpiflow.compiler.dbt_writer",
    "kpiflow.compiler.dbt_docs",
    "kpiflow.compiler.mart_models",
    "kpiflow.demo.warehouse",
    "kpiflow.orchestration.deployment",
    "kpiflow.orchestration.execution",
    "kpiflow.quality.gate",
    "kpiflow.scorecards.build",
}


QUERY_EXPLAIN = ("query", "--metrics", "net_revenue", "--group-by", "metric_time__month", "--explain")


def _run(*args: str, project: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
        KPIFLOW_PROJECT_DIR=str(project),
    )
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def test_query_explain_loads_no_heavy_module():
    done = _run(*QUERY_EXPLAIN)
    assert done.returncode == 0, done.stderr
    assert "metric_time__month" in done.stdout.lower()
    loaded = set(_child_report(done)["modules"])
    assert {"sqlglot", "kpiflow.compiler.plan"} <= loaded  # the check below looks at the real query path
    assert not {name for name in loaded if name in NOT_NEEDED or name.split(".")[0] in NOT_NEEDED}


def _child_report(done: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_query_does_not_read_the_generated_models_docs(tmp_path):
    """models/generated/_generated.yml is the compiler's output (a third of the model YAML): a query neither reads it
    nor depends on it, so a stale or broken copy changes nothing in its SQL."""
    shutil.copy(REPO / "dbt_project.yml", tmp_path)
    shutil.copytree(REPO / "metrics", tmp_path / "metrics")
    shutil.copytree(REPO / "models", tmp_path / "models", ignore=shutil.ignore_patterns("*.sql"))
    (tmp_path / "models" / "generated" / "_generated.yml").write_text("models: [{name: broken\n", encoding="utf-8")
    done = _run(*QUERY_EXPLAIN, project=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _run(*QUERY_EXPLAIN).stdout


def test_help_still_lists_every_command():
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name, _, _ in COMMANDS)


def test_the_app_object_has_every_command():
    """`from kpiflow.cli import app` (typer's CliRunner, embedders) gets every command, not just the requested one."""
    from typer.main import get_command

    from kpiflow.cli import app

    assert set(get_command(app).commands) == {name for name, _, _ in COMMANDS}  # type: ignore[attr-defined]
