"""The `kpiflow` command. Thin: each command lives in the module that owns its concept.

Command modules import heavy libraries (dbt, Prefect, Great Expectations) inside the command body,
so `kpiflow --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from kpiflow.errors import KpiflowError

app = typer.Typer(
    name="kpiflow",
    help="KPI pipeline: metric YAML -> validated SQL -> dbt marts, gated by data checks and published atomically.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (command name, module, function). The function's signature defines the command's options.
COMMANDS: list[tuple[str, str, str]] = [
    ("demo-data", "kpiflow.demo.command", "demo_data"),
    ("load-plans", "kpiflow.plans.command", "load_plans_command"),
    ("compile", "kpiflow.compiler.commands", "compile_command"),
    ("list", "kpiflow.compiler.commands", "list_command"),
    ("query", "kpiflow.compiler.commands", "query_command"),
    ("export", "kpiflow.compiler.commands", "export_command"),
    ("check", "kpiflow.quality.command", "check"),
    ("run", "kpiflow.orchestration.commands", "run"),
    ("backfill", "kpiflow.orchestration.commands", "backfill"),
    ("deploy", "kpiflow.orchestration.commands", "deploy"),
    ("serve", "kpiflow.orchestration.commands", "serve"),
    ("scorecard", "kpiflow.scorecards.command", "scorecard"),
    ("dashboard", "kpiflow.dashboard.command", "dashboard"),
]


def _register() -> None:
    for name, module_name, attr in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of kpiflow is not installed in this build
            raise
        app.command(name)(getattr(module, attr))


_register()


def _click_error_types() -> tuple[type[Exception], type[Exception]]:
    """(UsageError, ClickException) from click, and from the copy of click that newer typer vendors."""
    usage: list[type[Exception]] = []
    generic: list[type[Exception]] = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(module.UsageError)
        generic.append(module.ClickException)
    return tuple(usage), tuple(generic)  # type: ignore[return-value]


def main() -> None:
    """Entry point: user-facing errors become a message and an exit code, never a traceback."""
    usage_errors, click_errors = _click_error_types()
    try:
        app(standalone_mode=False)
    except KpiflowError as exc:
        # the message is text, not markup: `[orders.store_id, 1 failing row(s)]` in a gate summary must print as is
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except usage_errors as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(2)
    except click_errors as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
