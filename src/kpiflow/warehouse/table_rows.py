"""Typed rows as text for bulk loading: exact decimals from their text, for any engine's CSV/COPY reader.

Decimals are rounded half-even to their column's scale (rule 17 keeps rounding out of the marts unless a card asks
for it); an infinite Decimal (an unbounded value) and None become NULL_MARK.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from kpiflow.warehouse.interface import Columns

NULL_MARK = "\\N"


def column_scale(column_type: str) -> int:
    """The scale of a `decimal(p,s)` column type."""
    return int(column_type.rstrip(")").split(",")[1])


def rounded_decimal(value: Any, scale: int) -> Decimal | None:
    """A Decimal rounded half-even to `scale`; None for None and for an infinite Decimal (an unbounded value)."""
    if value is None or not value.is_finite():
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_EVEN)


def _decimal_text(scale: int) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        rounded = rounded_decimal(value, scale)
        return NULL_MARK if rounded is None else str(rounded)

    return convert


def _plain_text(value: Any) -> str:
    return NULL_MARK if value is None else str(value)


def _converter(column_type: str) -> Callable[[Any], str]:
    if column_type.startswith("decimal"):
        return _decimal_text(column_scale(column_type))
    return _plain_text  # text, and dates (str(date) is ISO)


def text_rows(columns: Columns, rows: Sequence[Sequence[Any]]) -> Iterator[list[str]]:
    """Each row as the text of its cells, by the declared column types."""
    converters = [_converter(kind) for _, kind in columns]
    for row in rows:
        yield [convert(value) for convert, value in zip(converters, row, strict=True)]
