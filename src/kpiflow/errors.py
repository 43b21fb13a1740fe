"""Errors that reach a user. Each carries the exit code the CLI returns for it.

Exit codes: 0 ok, 1 the run failed (data, build, tests), 2 bad input or usage.
"""

from __future__ import annotations


class KpiflowError(Exception):
    """Base class: a message meant for a person, not a stack trace."""

    exit_code = 1


class UserInputError(KpiflowError):
    """Bad YAML, a bad option, an unknown name: the user must change something. Exit code 2."""

    exit_code = 2


class RunFailed(KpiflowError):
    """The pipeline ran and something failed (a check, a build, a test). Exit code 1."""

    exit_code = 1


class WarehouseBusy(RunFailed):
    """Another kpiflow run holds the warehouse lock."""
