"""Comparing a table built on two engines row by row: the same rows, doubles within 1e-9 relative."""

from __future__ import annotations

import math
from decimal import Decimal

REL_TOL = 1e-9


def sort_key(row: tuple) -> tuple:
    """Rows ordered by their exact values; floats rounded, so last-digit differences do not reorder them."""
    return tuple(
        (0, "") if v is None else (1, round(float(v), 6)) if isinstance(v, float | Decimal) else (2, str(v))
        for v in row
    )


def same_value(a: object, b: object) -> bool:
    if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)  # type: ignore[arg-type]
    return a == b


def assert_same_rows(
    label: str, expected_columns: list[str], expected_rows: list[tuple], columns: list[str], rows: list[tuple]
) -> None:
    """The same columns in the same order and the same rows in any order (doubles within REL_TOL relative)."""
    assert columns == expected_columns, label
    assert len(rows) == len(expected_rows) > 0, label
    for expected, row in zip(sorted(expected_rows, key=sort_key), sorted(rows, key=sort_key), strict=True):
        differing = [(name, e, r) for name, e, r in zip(columns, expected, row, strict=True) if not same_value(e, r)]
        assert differing == [], f"{label} row {expected}: {differing} (doubles within {REL_TOL} relative)"
