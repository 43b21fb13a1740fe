"""Reserved words as identifiers: quoted in the SQL of every dialect kpiflow renders.

A metric's entity or column may be named like a keyword (`order`, `user`, `start`). sqlglot quotes such a name only
for dialects whose generator carries a reserved-word list (DuckDB, Trino, BigQuery); its PostgreSQL, Spark and
Snowflake generators write `AS order` as is, which those engines refuse. The generator asks its dialect's
`can_quote` about every identifier, so rendering through a dialect whose `can_quote` also says yes to a reserved word
fixes it for every identifier in one place, whichever part of the compiler built it. One list serves every dialect,
so a model reads the same on each engine.

The lists sqlglot keeps for Trino and BigQuery are copied below rather than read from their dialects: loading those
two dialects cost `kpiflow query --explain` about 50 ms of CPU on every run (issue 16).
tests/compiler/test_reserved_identifiers.py checks the copy against the installed sqlglot.
"""

from __future__ import annotations

import functools

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

# Reserved in PostgreSQL 15 (Appendix C: "reserved" and "reserved (can be function or type)").
_POSTGRES = """
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation
column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze
from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit
localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references
returning right select session_user similar some symmetric system_user table tablesample then to trailing true union
unique user using variadic verbose when where window with
"""
# Reserved in Spark SQL's ANSI mode (the default from Spark 4).
_SPARK = """
all and any as authorization both case cast check collate column constraint create cross current_date current_time
current_timestamp current_user distinct else end escape except false fetch filter for foreign from full grant group
having in inner intersect into is join lateral leading left natural not null offset on only or order outer overlaps
primary references right select session_user some table then time to trailing union unique unknown user using when
where with
"""
# Reserved in Snowflake ("Reserved & limited keywords": the reserved ones).
_SNOWFLAKE = """
account all alter and any as between by case cast check column connect connection constraint create cross current
current_date current_time current_timestamp current_user database delete distinct drop else exists false following
for from full grant group gscluster having ilike in increment inner insert intersect into is issue join lateral left
like localtime localtimestamp minus natural not null of on or order organization qualify regexp revoke right rlike
row rows sample schema select set some start table tablesample then to trigger true try_cast union unique update
using values view when whenever where window with
"""
# The union of sqlglot's Trino and BigQuery generators' RESERVED_KEYWORDS (sqlglot 30.30), copied.
SQLGLOT_TRINO_BIGQUERY = """
all alter and any array as asc assert_rows_modified at between by case cast collate constraint contains create cross
cube current current_time current_timestamp deallocate default define delete desc describe distinct drop else end
enum escape except exclude execute exists extract false fetch following for from full group grouping groups hash
having if ignore in inner insert intersect interval into is join lateral left like limit lookup merge natural new no
not null nulls of on or order outer over partition preceding prepare proto qualify range recursive respect right
rollup rows select set some struct table tablesample then to treat true unbounded union unnest using values when
where window with within
"""
SQLGLOT_COPIED = ("trino", "bigquery")  # the dialects SQLGLOT_TRINO_BIGQUERY copies
_SQLGLOT_LISTED = ("duckdb",)  # read from sqlglot: DuckDB is loaded anyway, it is the default dialect


@functools.cache
def reserved_words() -> frozenset[str]:
    """Every word reserved in at least one of the dialects kpiflow renders, lower case."""
    words = {word for text in (_POSTGRES, _SPARK, _SNOWFLAKE, SQLGLOT_TRINO_BIGQUERY) for word in text.split()}
    for name in _SQLGLOT_LISTED:
        words |= Dialect.get_or_raise(name).generator_class.RESERVED_KEYWORDS
    return frozenset(words)


@functools.cache
def quoting_dialect(name: str) -> Dialect:
    """The sqlglot dialect `name`, quoting every reserved word used as an identifier."""
    base = type(Dialect.get_or_raise(name))
    reserved = reserved_words()

    def can_quote(self: Dialect, identifier: exp.Identifier, identify: str | bool = "safe") -> bool:
        if identifier.name.lower() in reserved and not isinstance(identifier.parent, exp.Func):
            return True
        return base.can_quote(self, identifier, identify)

    return type(f"KpiflowQuoted{base.__name__}", (base,), {"can_quote": can_quote})()
