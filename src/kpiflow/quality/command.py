"""`kpiflow check`: run the input quality gate and print its summary (or JSON).

Exit codes: 0 when no error-severity check failed, 1 when one did (RunFailed), 2 for bad input (UserInputError).
Without `--quarantine` a row check that would quarantine in `kpiflow run` fails (or warns) like any other.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kpiflow.errors import RunFailed
from kpiflow.options import parse_date_option


def check(
    run_date: Annotated[
        str | None,
        typer.Option("--date", help="Run date YYYY-MM-DD (default: the latest order date in raw.orders)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing unless the gate fails.")] = False,
    no_data_docs: Annotated[bool, typer.Option("--no-data-docs", help="Skip writing GE Data Docs (faster).")] = False,
    quarantine: Annotated[
        bool,
        typer.Option(
            "--quarantine",
            help="Move the failing rows of `quarantine: true` checks to the quarantine schema (default: only report).",
        ),
    ] = False,
) -> None:
    """Check the raw warehouse tables (Great Expectations) before building; exit 1 if an error check fails.

    Reads only: failing rows are reported, never moved, unless --quarantine is given."""
    from kpiflow.config import Settings
    from kpiflow.quality.gate import run_gate

    report = run_gate(
        Settings.from_env(),
        parse_date_option(run_date, "--date") if run_date is not None else None,
        data_docs=not no_data_docs,
        quarantine=quarantine,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    elif not quiet or not report.passed:
        typer.echo(report.summary_text())
    if not report.passed:
        failed = [r.name for r in report.results if r.blocks_publishing]
        raise RunFailed(f"quality gate failed for {report.run_date.isoformat()}: {', '.join(failed[:10])}")
