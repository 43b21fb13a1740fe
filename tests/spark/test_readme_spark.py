"""README's "Run on Spark" block, without Spark: it exists, names the third engine, and every line is one the runner
of tests/spark/test_spark_run.py understands (which runs it); a line it does not understand fails, naming it."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from readme_commands import REPO, ReadmeCommandError, parse_block, readme_block

MARKER = "<!-- readme-spark"


def test_the_section_has_the_commands_the_spark_run_test_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert "\n## Run on Spark\n" in readme and readme.index("## Run on Spark") < readme.index(MARKER)
    commands = parse_block(readme_block(MARKER), {"PWD": "/the/project"})
    assert commands[0].exported == {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": "/the/project/warehouse/spark"}
    words = [command.args[0] for command in commands]
    assert words == ["demo-data", "run", "demo-data", "run", "query"]
    full, nightly = (date.fromisoformat(command.args[command.args.index("--date") + 1]) for command in commands[1:4:2])
    assert commands[2].args == ("demo-data", "--append-through", str(nightly)) and nightly == full + timedelta(days=1)
    assert "make run    #" in readme and "make test   #" in readme  # the quickstart stays as it was


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("spark-submit job.py", r"line 3 of the block, `spark-submit job.py`: the test runs only"),
        ("kpiflow run --date $DAY", r"line 3 .*without variables"),
        ("cd $HOME && kpiflow run", r"line 3 .*the test runs only"),
        ("export KPIFLOW_SPARK_DIR", r"line 3 .*`KPIFLOW_SPARK_DIR` is not NAME=VALUE"),
        ("export KPIFLOW_SPARK_DIR=$SPARK_HOME/w", r"line 3 .*\$SPARK_HOME is not set"),
        ("kpiflow run --date 2024-01-31 \\", r"line 3 .*No escaped character"),
        ("kpiflow query --where 'x = 1", r"line 3 .*No closing quotation"),
    ],
)
def test_a_line_the_runner_does_not_understand_fails_naming_it(line: str, message: str) -> None:
    block = f"export KPIFLOW_TARGET=spark KPIFLOW_SPARK_DIR=$PWD/w\nkpiflow run --date 2024-01-31\n{line}\n"
    with pytest.raises(ReadmeCommandError, match=message):
        parse_block(block, {"PWD": "/p"})
