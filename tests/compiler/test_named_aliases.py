"""Aliases that say what they are (issue 16 style): no column aliased to its own name, and the tables a query joins
to its keys named after the metric or formula input they hold, unique in their select."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from kpiflow.compiler import generated_files
from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.render import KEYS, table_aliases
from kpiflow.compiler.sqlbuild import alias, col
from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
from kpiflow.compiler.validate import load_graph
from kpiflow.config import Settings

from .conftest import PROJECT
from .test_compiler_snapshots import CASES

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "models" / "generated"
# The wide marts' columns are written by dbt_writer._mart_query, which another change rewrites (marts read kpi_values).
MARTS = "mart_"
# A name that says nothing: one letter (`k`), a letter and a word (`q_b`), a counter (`in_0`, `m_1`). The rollups'
# own column prefixes (`d__store`, `m__units`) are names of columns, not aliases a reader must decode.
OPAQUE = re.compile(r"[a-z]|[a-z]_(?!_)\w*|[a-z]+_\d+")
SAME_METRIC_TWICE = """
  - {name: north_share, type: ratio, label: NS, description: x,
     numerator: {name: revenue, filter: "store__region = 'north'"}, denominator: revenue}
  - {name: revenue_minus_keys, type: derived, label: RK, description: x, expr: revenue - keys,
     metrics: [{name: revenue}, {name: units, alias: keys}]}
"""


def _tree(text: str) -> exp.Expression:
    """A generated model's SQL as a tree, its Jinja replaced by names."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith(("--", "{{ config", "{%- set")))
    body = re.sub(r"\{\{(.*?)\}\}", lambda m: "jinja_" + "_".join(re.findall(r"\w+", m.group(1))), body)
    return sqlglot.parse_one(body, read="duckdb")


def _opaque_aliases(text: str) -> list[tuple[int, str]]:
    """(line, alias) of every table, subquery or column alias in a model's text that says nothing (OPAQUE); Jinja
    kept on its line, string literals skipped by the tokenizer."""
    body = re.sub(r"\{\{(.*?)\}\}|\{%.*?%\}", "jinja", text)
    tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(body)
    found = []
    for keyword, name in itertools.pairwise(tokens):
        if keyword.token_type == TokenType.ALIAS and name.token_type == TokenType.VAR and OPAQUE.fullmatch(name.text):
            found.append((name.line, name.text))
    return found


def _self_aliases(tree: exp.Expression) -> list[str]:
    return [a.sql() for a in tree.find_all(exp.Alias) if isinstance(a.this, exp.Column) and a.this.name == a.alias]


def _joined_aliases(tree: exp.Expression) -> list[list[str]]:
    """Per select joining tables: the aliases of its FROM and JOIN tables."""
    found = []
    for select in tree.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if joins:
            sources = [select.args["from_"].this, *(join.this for join in joins)]
            found.append([source.alias_or_name for source in sources])
    return found


def test_alias_leaves_a_column_of_that_name_as_it_is():
    assert alias(col("period_start", "t"), "period_start").sql() == "t.period_start"
    assert alias(col("period_start"), "period_day").sql() == "period_start AS period_day"
    quoted = exp.column(exp.to_identifier("Period", quoted=True))
    assert alias(quoted, "Period").sql(dialect="postgres") == '"Period" AS Period', "a different name on Postgres"


@pytest.mark.parametrize("path", sorted(p.name for p in GENERATED.glob("*.sql") if not p.name.startswith(MARTS)))
def test_no_generated_model_aliases_a_column_to_its_own_name(path):
    assert _self_aliases(_tree((GENERATED / path).read_text(encoding="utf-8"))) == []


def test_no_generated_model_has_an_alias_that_says_nothing():
    """Every model `kpiflow compile` writes for the repository (built here, not read from disk): no table, subquery
    or column alias like `k`, `q_b` or `m_1` (issue 16); the failure names the model and line."""
    models = {f.path.name: f.content for f in generated_files(Settings.from_env(REPO)) if f.path.suffix == ".sql"}
    assert len(models) > 50
    found = [
        f"{name}:{line}: as {alias}" for name, text in sorted(models.items()) for line, alias in _opaque_aliases(text)
    ]
    assert found == []


def test_opaque_aliases_are_found_with_their_line_and_not_in_strings():
    text = "select\n  'counted as a share' as label,\n  x as q_b\nfrom {{ ref('m') }} as m\njoin days as days_2"
    assert _opaque_aliases(text) == [(3, "q_b"), (4, "m"), (5, "days_2")]
    assert _opaque_aliases("select d__store as store, m__units from r__x as rollup_rows") == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_query_tables_are_named_after_what_they_hold(graph, relation, case):
    tree = sqlglot.parse_one(to_sql(build_query(graph, CASES[case], relation)), read="duckdb")
    assert _self_aliases(tree) == []
    for aliases in _joined_aliases(tree):
        assert len(set(aliases)) == len(aliases)
        assert not [a for a in aliases if OPAQUE.fullmatch(a)], aliases
    assert _opaque_aliases(to_sql(build_query(graph, CASES[case], relation))) == []


def test_a_ratio_and_several_metrics_join_their_inputs_by_name(graph, relation):
    ratio = to_sql(build_query(graph, QueryRequest(("upt",), ("metric_time__month",)), relation))
    assert "left join metric_units as units" in ratio and "left join metric_order_count as order_count" in ratio
    assert "from metric_upt__keys as keys" in ratio
    both = to_sql(build_query(graph, QueryRequest(("revenue", "order_count"), ("metric_time__year",)), relation))
    assert "revenue.value as revenue" in both and "order_count.value as order_count" in both


def test_table_aliases_are_unique_and_never_the_keys():
    assert table_aliases(["revenue", "revenue", KEYS, "revenue_2"]) == ["revenue", "revenue_2", "keys_2", "revenue_2_2"]


@pytest.fixture(scope="module")
def twice_graph(tmp_path_factory):
    project = tmp_path_factory.mktemp("twice") / "project"
    shutil.copytree(PROJECT, project)
    metrics = project / "metrics" / "sales.yml"
    metrics.write_text(metrics.read_text(encoding="utf-8") + SAME_METRIC_TWICE, encoding="utf-8")
    return load_graph(project), warehouse_relation(load_dbt_models(project))


def test_the_same_metric_twice_and_an_input_called_keys_run(twice_graph, con):
    """A ratio of revenue to revenue (its numerator filtered) joins `revenue` and `revenue_2`; an input aliased
    `keys` does not take the keys' alias; both queries run and return the numbers of the facts."""
    graph, relation = twice_graph
    request = QueryRequest(("north_share", "revenue_minus_keys"), ("metric_time__year",))
    sql = to_sql(build_query(graph, request, relation))
    assert "as revenue_2" in sql and "as keys_2" in sql
    rows = {str(year)[:4]: (share, less) for year, share, less in con.execute(sql).fetchall()}
    by_year = con.execute(
        "select year(sold_on), sum(amount) filter (where region = 'north') / sum(amount), sum(amount) - sum(quantity)"
        " from intermediate.int_sales join intermediate.dim_stores using (store_id) group by 1"
    ).fetchall()
    want = {str(year): (float(share), float(less)) for year, share, less in by_year}
    assert {y: (pytest.approx(s), pytest.approx(d)) for y, (s, d) in want.items()} == rows
