"""Small sqlglot building blocks shared by the renderers: data types built once (sqlglot parses a type given as a
string on every cast) and a SELECT builder that neither copies nor parses."""

from __future__ import annotations

from sqlglot import exp

from kpiflow.compiler.sqlbuild import col

BIGINT = exp.DataType.build("bigint")
DATE = exp.DataType.build("date")
DOUBLE = exp.DataType.build("double")
VARCHAR = exp.DataType.build("varchar")


def adopting_select(*expressions: exp.Expression | str) -> exp.Select:
    """A SELECT that adopts its arguments instead of copying them (copies dominate compile time); a string is a
    column name or '*', never SQL to parse."""
    return exp.Select(
        expressions=[(exp.Star() if e == "*" else col(e)) if isinstance(e, str) else e for e in expressions]
    )
