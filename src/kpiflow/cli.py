"""The `kpiflow` command. Thin: each command lives in the module that owns its concept.

Only the module of the command being run is imported (every one for `kpiflow --help`), and command modules
import heavy libraries (dbt, Prefect, Great Expectations, duckdb, rich) inside the command body, so
`kpiflow query --explain` loads what it needs and nothing else (tests/compiler/test_query_imports.py).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Collection

import typer

from kpiflow.errors import KpiflowError

_app = typer.Typer(
    name="kpiflow",
    help="KPI pipeline: metric YAML -> validated SQL -> dbt marts, gated by data checks and published atomically.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@_app.callback()
def _kpiflow() -> None:
    """Keeps `kpiflow <command>` a command group when only the requested command is registered."""


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
    ("rollback", "kpiflow.orchestration.commands", "rollback"),
    ("deploy", "kpiflow.orchestration.commands", "deploy"),
    ("serve", "kpiflow.orchestration.commands", "serve"),
    ("scorecard", "kpiflow.scorecards.command", "scorecard"),
    ("grants", "kpiflow.warehouse_roles", "grants_command"),
    ("dashboard", "kpiflow.dashboard.command", "dashboard"),
]
_registered: set[str] = set()


def register(names: Collection[str]) -> None:
    """Add these commands to the app (importing their modules), once each."""
    for name, module_name, attr in COMMANDS:
        if name not in names or name in _registered:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of kpiflow is not installed in this build
            raise
        _app.command(name)(getattr(module, attr))
        _registered.add(name)


def __getattr__(name: str) -> typer.Typer:
    """`kpiflow.cli.app`: the app with every command (for typer's CliRunner and other embedders)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    register([command for command, _, _ in COMMANDS])
    return _app


def requested_commands(argv: list[str]) -> set[str]:
    """The command the arguments name (its first word), or every command (for help and for mistakes)."""
    names = {name for name, _, _ in COMMANDS}
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return {first} if first in names else names


def _click_error_types() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(UsageError, ClickException) from the copy of click that newer typer vendors, and from click itself when
    something loaded it (looked up after the command ran, so no command imports click just for this)."""
    usage: list[type[Exception]] = []
    generic: list[type[Exception]] = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        if name.startswith("click.") and "click" not in sys.modules:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(module.UsageError)
        generic.append(module.ClickException)
    return tuple(usage), tuple(generic)


def main() -> None:
    """Entry point: user-facing errors become a message and an exit code, never a traceback."""
    register(requested_commands(sys.argv[1:]))
    try:
        _app(standalone_mode=False)
    except KpiflowError as exc:
        from rich.console import Console
        from rich.markup import escape

        # the message is text, not markup: `[orders.store_id, 1 failing row(s)]` in a gate summary must print as is
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:
        usage_errors, click_errors = _click_error_types()
        if isinstance(exc, usage_errors):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(2)
        if isinstance(exc, click_errors):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


if __name__ == "__main__":
    main()
