"""A measure's aggregation as SQL: one place for the renderers and the daily rollups (rollups.py)."""

from __future__ import annotations

from sqlglot import exp


def aggregate(agg: str, value: exp.Expression, percentile: float | None) -> exp.Expression:
    if agg == "sum":
        return exp.Sum(this=value)
    if agg == "sum_boolean":
        return exp.Sum(
            this=exp.Case(ifs=[exp.If(this=value, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        )
    if agg == "count":
        return exp.Count(this=value)
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if agg == "avg":
        return exp.Avg(this=value)
    if agg == "min":
        return exp.Min(this=value)
    if agg == "max":
        return exp.Max(this=value)
    fraction = 0.5 if agg == "median" else float(percentile or 0.5)
    return exp.WithinGroup(
        this=exp.PercentileCont(this=exp.Literal.number(fraction)),
        expression=exp.Order(expressions=[exp.Ordered(this=value)]),
    )
