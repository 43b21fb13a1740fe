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
