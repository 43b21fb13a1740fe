"""Parsing shared by the CLI commands, so every command reports a bad option the same way (exit code 2)."""

from __future__ import annotations

from datetime import date

from kpiflow.errors import UserInputError


def parse_date_option(value: str, option: str) -> date:
    """`value` of `option` as a date, or a UserInputError naming the option and the expected form."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-31") from None
