"""Data types built once: sqlglot parses a type given as a string on every cast."""

from __future__ import annotations

from sqlglot import exp

DATE = exp.DataType.build("date")
DOUBLE = exp.DataType.build("double")
VARCHAR = exp.DataType.build("varchar")
