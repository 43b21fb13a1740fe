"""The CTEs of one query (CteRegistry) and the CTE chains a renderer already built, shared by later queries (Chains).

Compiling many queries over one graph needs the same chains over and over: every ratio over net_revenue needs the
net_revenue CTEs. What a chain computes is determined by frozen, hashable plan values (the plan node, the CTE name,
the group-by and the time range), so a chain built for such a key can serve every later query that asks for it: the
same CTE body trees, not copies. Most chains are asked for once, so a chain is kept from its second request on
(whatever is kept stays alive, and Python's cycle collector walks live objects again and again). A shared body is
never changed after it is built (the renderers build new nodes around it), and sqlgen.py generates its SQL text once
per dialect and reuses that text (SharedCte).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlglot import exp


@dataclass(eq=False)
class SharedCte:
    """A CTE body that several queries hold, and its SQL text per dialect once generated (sqlgen.py)."""

    body: exp.Query
    texts: dict[str, str] = field(default_factory=dict)


# The shared bodies of every live Chains, by identity: the SQL generator looks a CTE body up here. An entry holds its
# body, so the id stays that body's for as long as the entry exists.
_SHARED: dict[int, SharedCte] = {}


def shared_cte(body: exp.Expression) -> SharedCte | None:
    """The SharedCte of a body that Chains handed out (the same object, not an equal tree), else None."""
    shared = _SHARED.get(id(body))
    return shared if shared is not None and shared.body is body else None


@dataclass
class CteRegistry:
    """CTEs in dependency order; a name always means the same query (names derive from what they compute)."""

    ctes: dict[str, exp.Query] = field(default_factory=dict)
    _recordings: list[list[tuple[str, exp.Query]]] = field(default_factory=list)

    def add(self, name: str, query: exp.Query) -> str:
        existing = self.ctes.get(name)
        if existing is not None and existing is not query and existing != query:
            raise AssertionError(f"two different queries named {name}")
        self.ctes.setdefault(name, query)
        for recording in self._recordings:
            recording.append((name, query))
        return name

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, exp.Query]]]:
        """Every CTE added inside the block, in order, including those the registry already had (a chain needs
        them wherever it is added again)."""
        recording: list[tuple[str, exp.Query]] = []
        self._recordings.append(recording)
        try:
            yield recording
        finally:
            self._recordings.remove(recording)


@dataclass(frozen=True)
class _Chain:
    adds: tuple[tuple[str, exp.Query], ...]
    result: str


class Chains:
    """CTE chains of one renderer by the plan values that determine them. A long-lived renderer (the API) sees ever
    new time ranges: past `limit` chains, it starts over."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._chains: dict[Hashable, _Chain] = {}
        self._seen: set[Hashable] = set()

    def chain(self, key: Hashable, registry: CteRegistry, build: Callable[[], str]) -> str:
        """Add the chain for `key` to `registry` and return the name of its last CTE; `build` adds it to `registry`
        the first two times, and the bodies it built the second time are shared from then on."""
        chain = self._chains.get(key)
        if chain is None:
            if len(self._chains) >= self.limit or len(self._seen) >= 4 * self.limit:
                self.clear()
            if key not in self._seen:
                self._seen.add(key)
                return build()
            with registry.recording() as adds:
                result = build()
            chain = self._chains[key] = _Chain(tuple(adds), result)
            for _, body in adds:
                _SHARED.setdefault(id(body), SharedCte(body))
            return result
        for name, body in chain.adds:
            registry.add(name, body)
        return chain.result

    def clear(self) -> None:
        for chain in self._chains.values():
            for _, body in chain.adds:
                _SHARED.pop(id(body), None)
        self._chains.clear()
        self._seen.clear()
