"""The compile-speed memos (CTE chains per engine, SQL text per CTE body) change no SQL: whatever they reuse, to_sql
writes what sqlglot itself writes for the tree, also after a caller changed the tree. And the load's pause of the
cycle collector leaves it as it was."""

from __future__ import annotations

import gc

import pytest
from sqlglot import exp

from kpiflow.compiler.ctes import CteMemo, CteRegistry, sql_memo
from kpiflow.compiler.gcpause import gc_paused
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.sqltext import build_query, to_sql
from kpiflow.compiler.treecopy import copy_tree, same_tree

from .test_compiler_snapshots import CASES

RATIO = QueryRequest(("upt",), ("metric_time__month", "store__region"))


def _plain(tree: exp.Expression, dialect: str) -> str:
    return tree.sql(dialect=dialect, pretty=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_memoised_sql_is_sqlglots(graph, relation, case):
    for _ in range(4):  # built fresh, then recorded, then copied from the memo
        tree = build_query(graph, CASES[case], relation)
        for dialect in DIALECTS:
            assert to_sql(tree, dialect) == _plain(tree, dialect)


def _memoised_tree(graph, relation) -> exp.Select:
    for _ in range(3):
        tree = build_query(graph, RATIO, relation)
    assert any(sql_memo(cte.this) for cte in tree.find_all(exp.CTE)), "the third build should reuse recorded CTEs"
    to_sql(tree)  # the recorded bodies now have their text
    return tree


def test_a_changed_body_is_generated_again(graph, relation):
    tree = _memoised_tree(graph, relation)
    before = to_sql(tree)
    body = next(cte.this for cte in tree.find_all(exp.CTE) if sql_memo(cte.this))
    name = body.find(exp.Identifier)
    name.set("this", name.name.upper())
    assert to_sql(tree) == _plain(tree, "duckdb") != before


def test_a_comment_added_to_a_body_is_kept(graph, relation):
    tree = _memoised_tree(graph, relation)
    body = next(cte.this for cte in tree.find_all(exp.CTE) if sql_memo(cte.this))
    body.find(exp.Column).add_comments(["note"])
    assert to_sql(tree) == _plain(tree, "duckdb")


def test_to_sql_leaves_the_tree_as_it_was(graph, relation):
    tree = _memoised_tree(graph, relation)
    before = copy_tree(tree)
    for dialect in DIALECTS:
        to_sql(tree, dialect)
    assert same_tree(tree, before)


def test_same_tree_sees_the_case_of_names():
    assert same_tree(exp.column("a", "t"), exp.column("a", "t"))
    assert not same_tree(exp.column("a", "t"), exp.column("A", "t"))
    assert not same_tree(exp.var("MONTH"), exp.var("month"))
    assert exp.var("MONTH") == exp.var("month")  # why sqlglot's equality cannot key the memo


def test_the_chain_memo_is_bounded():
    memo = CteMemo(limit=2)
    for round_ in range(3):
        for key in range(10):
            registry = CteRegistry()
            assert memo.chain(key, registry, lambda k=key, r=registry: r.add(f"cte_{k}", exp.select(str(k)))) == (
                f"cte_{key}"
            )
            assert registry.ctes[f"cte_{key}"].sql() == f"SELECT {key}", round_
    assert len(memo._chains) <= 2 and len(memo._seen) <= 8


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
