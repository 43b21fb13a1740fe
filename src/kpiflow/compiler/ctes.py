"""The CTEs of one query (CteRegistry) and, per planner/renderer engine, the CTE chains it already built (CteMemo).

Compiling many queries over one graph builds the same chains over and over: every ratio over net_revenue needs the
net_revenue CTE. The memo builds a chain the first time as usual, records it the second time, and from then on
hands out copies, which cost less than building. Each recorded CTE carries a SqlMemo, so that sqlgen.py generates its
SQL text once per dialect, not once per query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from sqlglot import exp

from kpiflow.compiler.treecopy import copy_tree

MEMO_META_KEY = "kpiflow_sql_memo"


class SqlMemo:
    """The SQL text of one recorded CTE body, per dialect. Every copy of the body shares this object (copying a tree
    copies its meta, and this object copies as itself); sqlgen.py reuses a text only for a tree that is still the
    same as `tree`, the recorded body."""

    __slots__ = ("texts", "tree")

    def __init__(self, tree: exp.Expression) -> None:
        self.tree = tree
        self.texts: dict[Hashable, tuple[str, tuple[str, ...]]] = {}  # dialect -> (SQL, unsupported warnings)

    def __copy__(self) -> SqlMemo:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> SqlMemo:
        return self


def sql_memo(tree: exp.Expression) -> SqlMemo | None:
    """The SqlMemo of a recorded tree or of a copy of one (changed or not), else None."""
    meta = tree._meta
    return meta.get(MEMO_META_KEY) if meta else None


@dataclass
class CteRegistry:
    """CTEs in dependency order; a name always means the same query (names derive from what they compute)."""

    ctes: dict[str, exp.Query] = field(default_factory=dict)
    _logs: list[list[tuple[str, exp.Query]]] = field(default_factory=list)

    def add(self, name: str, query: exp.Query) -> str:
        existing = self.ctes.get(name)
        if existing is not None and existing != query:
            raise AssertionError(f"two different queries named {name}")
        self.ctes.setdefault(name, query)
        for log in self._logs:
            log.append((name, query))
        return name


@dataclass(frozen=True)
class _Chain:
    adds: tuple[tuple[str, SqlMemo], ...]
    result: str


class CteMemo:
    """CTE chains of one engine by what determines them (the plan node, CTE name, group-by and time range). A
    long-lived engine (the API) sees ever new time ranges: past `limit` chains, the memo starts over."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._seen: set[Hashable] = set()
        self._chains: dict[Hashable, _Chain] = {}

    def chain(self, key: Hashable, registry: CteRegistry, build: Callable[[], str]) -> str:
        """Add the chain for `key` to `registry` and return the name of its last CTE; `build` adds it to `registry`
        the way it would without a memo. Most chains are needed once, so only a second request records one."""
        chain = self._chains.get(key)
        if chain is not None:
            for name, memo in chain.adds:
                registry.add(name, _with_memo(copy_tree(memo.tree), memo))  # type: ignore[arg-type]
            return chain.result
        if key not in self._seen:
            if len(self._seen) >= 4 * self.limit or len(self._chains) >= self.limit:
                self._seen.clear()
                self._chains.clear()
            self._seen.add(key)
            return build()
        log: list[tuple[str, exp.Query]] = []
        registry._logs.append(log)
        try:
            result = build()
        finally:
            registry._logs.pop()
        # The recorded trees are copies (the ones just built belong to this query), without the memo in their meta.
        adds = tuple((name, SqlMemo(copy_tree(query))) for name, query in log)
        for (_, memo), (_, query) in zip(adds, log, strict=True):
            _with_memo(query, memo)
        self._chains[key] = _Chain(adds, result)
        return result


def _with_memo(query: exp.Query, memo: SqlMemo) -> exp.Query:
    query.meta[MEMO_META_KEY] = memo
    return query
