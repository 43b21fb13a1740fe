"""Parsing shared by the CLI commands, so every command reports a bad option the same way (exit code 2)."""

from __future__ import annotations

import os
from datetime import date

from kpiflow.errors import UserInputError


def parse_date_option(value: str, option: str) -> date:
    """`value` of `option` as a date, or a UserInputError naming the option and the expected form."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-31") from None


def non_negative_env(name: str, default: float, example: str) -> float:
    """The number in environment variable `name` (`default` when unset), or a UserInputError saying what to write."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserInputError(f"{name}={raw!r} is not a number; use e.g. {example}") from None
    if value < 0 or value != value:
        raise UserInputError(f"{name}={raw!r} must be 0 or more; use e.g. {example}")
    return value
