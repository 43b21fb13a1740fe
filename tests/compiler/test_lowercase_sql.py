"""Generated models and `kpiflow query` SQL are lowercase (lowercase.py): keywords, types and functions lowered,
identifiers and literals as generated, and the text means what sqlglot's upper-case text means in every dialect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from kpiflow.compiler import generated_files
from kpiflow.compiler import sqlgen as sqlgen_module
from kpiflow.compiler.quoting import quoting_dialect
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.sqltext import build_query, to_dbt_sql, to_sql
from kpiflow.config import Settings

from .test_compiler_snapshots import CASES

REPO = Path(__file__).resolve().parents[2]
_JINJA_LINE = ("--", "{{ config", "{%- set")
_JINJA = re.compile(r"\{\{(.*?)\}\}")
_QUOTED = (TokenType.STRING, TokenType.IDENTIFIER)


def _models(dialect: str) -> dict[str, str]:
    """The repository's generated models in `dialect`, from a graph of their own (no SQL text cached from before)."""
    settings = Settings.from_env(REPO)
    return {f.path.name: f.content for f in generated_files(settings, dialect) if f.path.suffix == ".sql"}


def _upper_case_generate(tree: exp.Expression, dialect: str, copy: bool = True) -> str:
    """What sqlglot writes by default: upper-case keywords and functions."""
    return quoting_dialect(dialect).generate(tree, copy=copy, pretty=True)


def _split(text: str) -> tuple[list[str], str]:
    """A model's Jinja-only lines, and its SQL with each Jinja expression replaced by a name made of its words."""
    lines = text.splitlines()
    jinja = [line for line in lines if line.startswith(_JINJA_LINE)]
    sql = "\n".join(line for line in lines if not line.startswith(_JINJA_LINE)).replace('{{ "{" }}', "{")
    return jinja, _JINJA.sub(lambda m: "jinja_" + "_".join(re.findall(r"\w+", m.group(1))), sql)


def _upper_words(sql: str, dialect: str) -> list[str]:
    """Words written in upper case outside string literals and quoted identifiers."""
    tokens = quoting_dialect(dialect).tokenize(sql)
    words = [sql[t.start : t.end + 1] for t in tokens if t.token_type not in _QUOTED]
    return [word for word in words if re.search("[A-Z]", word)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_generated_model_is_lowercase_and_means_the_same(dialect, monkeypatch):
    """Each generated model of the repository, in each dialect: no upper-case word left (the project names
    everything in lower case), Jinja untouched, and the SQL parses back to the tree of sqlglot's upper-case text.
    sqlglot's tree equality tells identifiers and literals by their case (a lowered name or string would differ)
    and keywords regardless of case; its canonical text would not do: it keeps a window frame's words as read."""
    lower = _models(dialect)
    with monkeypatch.context() as patch:
        patch.setattr(sqlgen_module, "lowercase_generate", _upper_case_generate)
        upper = _models(dialect)
    assert lower.keys() == upper.keys() and len(lower) > 50
    changed = 0
    for name, text in lower.items():
        lower_jinja, lower_sql = _split(text)
        upper_jinja, upper_sql = _split(upper[name])
        assert lower_jinja == upper_jinja, name
        assert _upper_words(lower_sql, dialect) == [], name
        changed += lower_sql != upper_sql
        lower_tree = sqlglot.parse_one(lower_sql, read=dialect)
        upper_tree = sqlglot.parse_one(upper_sql, read=dialect)
        assert lower_tree == upper_tree, name
    assert changed == len(lower), "every model had upper-case SQL to lower"


@pytest.mark.parametrize("case", sorted(CASES))
def test_query_sql_is_lowercase(graph, relation, case):
    """What `kpiflow query` prints, in every dialect."""
    tree = build_query(graph, CASES[case], relation)
    for dialect in DIALECTS:
        sql = to_sql(tree, dialect)
        assert _upper_words(sql, dialect) == [], dialect
        assert sql.startswith(("with ", "select")) and "\nfrom " in sql, dialect


def _tree_with_names_and_text() -> exp.Select:
    """A quoted mixed-case name, an unquoted upper-case name, a keyword-like string literal and a function."""
    return exp.select(
        exp.column(exp.to_identifier("MixedCase", quoted=True)),
        exp.column("AMOUNT"),
        exp.alias_(exp.Literal.string("SELECT from WHERE"), "label"),
        exp.alias_(exp.Coalesce(this=exp.column("x"), expressions=[exp.Literal.number(0)]), "filled"),
        exp.alias_(exp.cast(exp.column("y"), "double"), "y_double"),
    ).from_(exp.to_table("Orders"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_names_and_literals_keep_their_case(dialect):
    tree = _tree_with_names_and_text()
    sql = to_sql(tree, dialect)
    quote = quoting_dialect(dialect).IDENTIFIER_START
    assert f"{quote}MixedCase{quote}" in sql
    assert "AMOUNT" in sql and "Orders" in sql
    assert "'SELECT from WHERE'" in sql
    assert "coalesce(" in sql and re.search(r"cast\(y as [a-z0-9 ]+\)", sql) and "\nfrom Orders" in sql
    assert sqlglot.parse_one(sql, read=dialect) == sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect)


def test_jinja_of_a_model_is_untouched():
    """The Jinja kpiflow adds after generating (ref(), macro values, inert braces) is written as before."""
    tree = exp.select(exp.alias_(exp.Literal.string("{ SELECT }"), "label")).from_("__dbt_ref__kpi__sales")
    assert to_dbt_sql(tree) == "select\n  '{{ \"{\" }} SELECT }' as label\nfrom {{ ref('kpi__sales') }}"
