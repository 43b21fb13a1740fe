"""From sqlglot trees to SQL text: for the warehouse directly, or as a dbt model with ref() calls."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL, DbtModel
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.inert import jinja_inert
from kpiflow.compiler.plan import RUNTIME_DATE_PREFIX, Planner, QueryRequest
from kpiflow.compiler.render import QueryRenderer
from kpiflow.compiler.resolve import Resolver
from kpiflow.compiler.rollups import RollupCatalog
from kpiflow.compiler.sqlbuild import table
from kpiflow.compiler.sqlgen import generate

REF_PREFIX = "__dbt_ref__"
_VAR_PREFIX = "__dbt_var__"
_REF_PATTERN = re.compile(r'"?' + REF_PREFIX + r'(\w+)"?')
_VAR_PATTERN = re.compile(r'"?' + _VAR_PREFIX + r'(\w+)__default_(\w+)"?')
_MACRO_PATTERN = re.compile(r'["`]?' + RUNTIME_DATE_PREFIX + r'(\w+)["`]?')

Relation = Callable[[str], exp.Table]


def warehouse_relation(dbt_models: dict[str, DbtModel]) -> Relation:
    """Address dbt models as <schema>.<name>, as they are built in the warehouse."""

    def relation(name: str) -> exp.Table:
        model = dbt_models.get(name)
        schema = model.schema if model else ("intermediate" if name == TIME_SPINE_MODEL else "main")
        return table(name, db=schema)

    return relation


def dbt_ref_relation(name: str) -> exp.Table:
    """A placeholder table that `to_dbt_sql` turns into {{ ref('name') }}."""
    return table(f"{REF_PREFIX}{name}")


def dbt_var(name: str, default: int) -> exp.Column:
    """A placeholder column that `to_dbt_sql` turns into {{ var('name', default) }}."""
    return exp.column(f"{_VAR_PREFIX}{name}__default_{default}")


def to_sql(tree: exp.Expression, dialect: str = "duckdb") -> str:
    """Pretty SQL in `dialect`, as tree.sql(dialect=dialect, pretty=True) writes it (shared CTE bodies: sqlgen.py)."""
    return generate(tree, dialect)


def to_dbt_sql(tree: exp.Expression, dialect: str = "duckdb") -> str:
    """SQL text for a dbt model: placeholders become ref(), var() and macro values, the only text substitution made
    besides making every `{` of the SQL print as itself (inert.py: text in string literals is data, never Jinja).

    A runtime-date macro is called once, into a Jinja variable set before the SQL, and the SQL reads the variable:
    in an incremental build the macro queries the warehouse, and a KPI model names it 10 to 80 times."""
    text = jinja_inert(to_sql(tree, dialect))
    text = _REF_PATTERN.sub(lambda m: "{{ ref('" + m.group(1) + "') }}", text)
    macros = sorted(set(_MACRO_PATTERN.findall(text)))
    text = _MACRO_PATTERN.sub(lambda m: "{{ " + macro_value(m.group(1)) + " }}", text)
    text = _VAR_PATTERN.sub(lambda m: "{{ var('" + m.group(1) + "', " + m.group(2) + ") }}", text)
    return "".join(f"{{%- set {macro_value(name)} = {name}() %}}\n" for name in macros) + text


def macro_value(macro: str) -> str:
    """The Jinja variable a generated model keeps a runtime-date macro's value in."""
    return f"{macro}_value"


_ENGINES: dict[tuple[int, int, int], tuple[SemanticGraph, Relation, RollupCatalog | None, Planner, QueryRenderer]] = {}


def _engine(graph: SemanticGraph, relation: Relation, rollups: RollupCatalog | None) -> tuple[Planner, QueryRenderer]:
    """One planner and renderer per (graph, relation, rollups), sharing a resolver: names resolve once per graph.
    The tuple keeps the graph, relation and rollups alive, so their ids stay theirs."""
    key = (id(graph), id(relation), id(rollups))
    if key not in _ENGINES:
        if len(_ENGINES) >= 8:
            for *_, dropped in _ENGINES.values():
                dropped.chains.clear()  # its shared bodies leave the generator's lookup with it
            _ENGINES.clear()
        resolver = rollups.resolver if rollups is not None and rollups.graph is graph else Resolver(graph)
        renderer = QueryRenderer(graph, relation, resolver, rollups)
        _ENGINES[key] = (graph, relation, rollups, Planner(graph, resolver), renderer)
    _, _, _, planner, renderer = _ENGINES[key]
    return planner, renderer


def build_query(
    graph: SemanticGraph, request: QueryRequest, relation: Relation, rollups: RollupCatalog | None = None
) -> exp.Select:
    """The query for `request`; with `rollups` (generated dbt models), additive measures are read from daily rollups
    that the catalog collects."""
    planner, renderer = _engine(graph, relation, rollups)
    return renderer.render(planner.plan(request))
