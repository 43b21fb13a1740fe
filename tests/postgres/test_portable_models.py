"""The hand-written models name no engine-specific type or function: the same SQL builds on DuckDB, PostgreSQL and
Spark, through dbt's cross-database macros and kpiflow's own (macros/kpiflow_portable.sql)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HAND_WRITTEN = [p for p in sorted((REPO / "models").rglob("*.sql")) if "generated" not in p.relative_to(REPO).parts]
# What one engine spells its own way: types, casts, weekday numbering, date arithmetic, engine-only functions.
FORBIDDEN = {
    "DuckDB/Spark type double (use kpiflow_type_double())": r"\bdouble\b",
    "type varchar/string/text (use dbt.type_string())": r"\bas\s+(varchar|string|text)\b",
    "engine-specific types": r"\b(hugeint|float64|float8|int64|struct|list)\b",
    "Postgres/DuckDB cast operator ::": r"::",
    "weekday numbers differ by engine (use kpiflow_is_weekend())": r"\b(dow|isodow|dayofweek|day_of_week|weekday)\b",
    "date arithmetic (use dbt.dateadd / dbt.datediff / dbt.date_trunc)": (
        r"(?<!dbt\.)\b(date_add|date_sub|date_diff|datediff|dateadd|interval|strftime|strptime|epoch)\b"
    ),
    "engine-only functions": (
        r"\b(list_\w+\s*\(|array_agg|string_agg|regexp_\w+\s*\(|ilike|qualify|ifnull|nvl|any_value|arg_max|arg_min|count_if|"
        r"generate_series|range\s*\()"
    ),
}


def sql_outside_jinja_and_comments(text: str) -> str:
    """The model's own SQL: Jinja blocks and comments removed (a macro call may name a type in its arguments)."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


def forbidden_uses(text: str) -> list[str]:
    sql = sql_outside_jinja_and_comments(text)
    return [f"{why}: {m.group(0)!r}" for why, pattern in FORBIDDEN.items() for m in re.finditer(pattern, sql, re.I)]


def test_hand_written_models_use_no_engine_specific_tokens() -> None:
    assert len(HAND_WRITTEN) > 20
    found = {str(p.relative_to(REPO)): forbidden_uses(p.read_text()) for p in HAND_WRITTEN}
    assert {path: uses for path, uses in found.items() if uses} == {}


def test_the_check_finds_what_it_forbids() -> None:
    assert forbidden_uses("select cast(x as double), cast(y as varchar), d::date from t") != []
    assert forbidden_uses("case when extract(dow from d) in (0, 6) then 0 end") != []
    assert forbidden_uses("select {{ kpiflow_type_double() }} -- a double comment") == []
    assert forbidden_uses("{{ dbt.datediff('a', 'b', 'day') }}") == []
