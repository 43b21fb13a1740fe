"""Shared CTE chains (ctes.py) and their SQL text generated once per dialect (sqlgen.py) change no SQL: to_sql writes
what generating the whole tree at once writes (sqlglot's text, lowered: lowercase.py), the first time and every later
time, and leaves the tree as it was."""

from __future__ import annotations

import pytest
from sqlglot import exp

from kpiflow.compiler.ctes import Chains, CteRegistry, shared_cte
from kpiflow.compiler.lowercase import lowercase_generate
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.sqltext import build_query, to_sql

from .test_compiler_snapshots import CASES

RATIO = QueryRequest(("upt",), ("metric_time__month", "store__region"))


def _plain(tree: exp.Expression, dialect: str) -> str:
    return lowercase_generate(tree, dialect)


def _bodies(tree: exp.Expression) -> list[exp.Expression]:
    return [cte.this for cte in tree.find_all(exp.CTE)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_shared_sql_is_sqlglots(graph, relation, case):
    for _ in range(4):  # built, built and kept, then shared (twice: the texts are generated once, then reused)
        tree = build_query(graph, CASES[case], relation)
        for dialect in DIALECTS:
            assert to_sql(tree, dialect) == _plain(tree, dialect)


def test_a_later_query_holds_the_same_bodies(graph, relation):
    build_query(graph, RATIO, relation)  # a chain is kept from its second request on
    first = _bodies(build_query(graph, RATIO, relation))
    second = _bodies(build_query(graph, RATIO, relation))
    shared = [body for body in first if shared_cte(body)]
    assert len(shared) >= 2, "the numerator's and the denominator's chains"
    assert all(any(body is other for other in second) for body in shared), "shared, not copied"
    combined = [body for body in first if not shared_cte(body)]
    assert combined and not any(body is other for body in combined for other in second), "the ratio's own CTEs"


def test_shared_bodies_inside_a_larger_tree(graph, relation):
    """dbt models wrap queries as subqueries of a UNION ALL: the shared bodies of both parts get their text."""
    parts = [build_query(graph, RATIO, relation).subquery("q") for _ in range(3)][1:]
    union = exp.union(
        exp.select("*").from_(parts[0], copy=False), exp.select("*").from_(parts[1], copy=False), distinct=False
    )
    for dialect in DIALECTS:
        assert to_sql(union, dialect) == _plain(union, dialect)


def test_to_sql_leaves_the_tree_as_it_was(graph, relation):
    for _ in range(2):
        build_query(graph, RATIO, relation)
    tree = build_query(graph, RATIO, relation)
    bodies, before = [id(body) for body in _bodies(tree)], _plain(tree, "duckdb")
    for dialect in DIALECTS:
        to_sql(tree, dialect)
    assert [id(body) for body in _bodies(tree)] == bodies
    assert _plain(tree, "duckdb") == before


def test_a_placeholder_lookalike_in_user_text_stays_text(graph, relation):
    """A name that looks like sqlgen's placeholder is generated as sqlglot writes it, never swapped for a body."""
    tree = [build_query(graph, RATIO, relation) for _ in range(3)][-1]
    tree.select(exp.alias_(exp.Literal.string("x"), "__kpiflow_shared_cte_0"), copy=False)
    for dialect in DIALECTS:
        assert to_sql(tree, dialect) == _plain(tree, dialect)


def test_the_chains_are_bounded():
    chains = Chains(limit=2)
    for round_ in range(3):
        for key in range(10):
            registry = CteRegistry()
            assert chains.chain(key, registry, lambda k=key, r=registry: r.add(f"cte_{k}", exp.select(str(k)))) == (
                f"cte_{key}"
            )
            assert registry.ctes[f"cte_{key}"].sql() == f"SELECT {key}", round_
    assert len(chains._chains) <= 2 and len(chains._seen) <= 8


def test_a_chain_is_kept_from_its_second_request():
    chains = Chains()
    built = []
    for _ in range(4):
        registry = CteRegistry()
        chains.chain("k", registry, lambda r=registry: built.append(r.add("c", exp.select("1"))) or "c")
        assert registry.ctes["c"].sql() == "SELECT 1"
    assert len(built) == 2


def test_a_cleared_chain_is_no_longer_shared():
    chains = Chains()
    for _ in range(2):
        registry = CteRegistry()
        chains.chain("k", registry, lambda r=registry: r.add("c", exp.select("1")))
    body = registry.ctes["c"]
    assert shared_cte(body) is not None
    chains.clear()
    assert shared_cte(body) is None


def test_a_dropped_engine_no_longer_shares(graph, relation):
    """Engines are dropped past eight (sqltext._engine); their shared bodies must not stay alive with them."""
    for _ in range(3):
        tree = build_query(graph, RATIO, relation)
    kept = [body for body in _bodies(tree) if shared_cte(body)]
    assert kept
    for _ in range(8):
        build_query(graph, RATIO, lambda name: relation(name))  # a new relation each time: a new engine
    assert not any(shared_cte(body) for body in kept)
