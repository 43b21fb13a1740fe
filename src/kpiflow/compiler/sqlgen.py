"""SQL text from sqlglot trees: sqlglot's generator, except that the text of a recorded CTE body (ctes.py) is
generated once per dialect and reused wherever the same body comes again.

The generator works on a copy of the tree (sqlglot's generator may change what it is given). A body gets its
recorded text only while it is still exactly the recorded body; such a body is not even copied: the copy has an
empty SELECT carrying the text in its place (with compiled sqlglot, only the bodies of the top WITH are looked at
while copying, the rest being copied by sqlglot itself, and any other is checked when generated). A recorded body
without a text for the dialect yet gets it generated and kept.

The hook is the generator's dispatch table (expression type -> handler), the one place where both the pure-Python
and the compiled sqlglot look a handler up; sqlglot is pinned to one minor version.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from sqlglot import exp
from sqlglot.generator import Generator

from kpiflow.compiler.ctes import MEMO_META_KEY, SqlMemo, sql_memo
from kpiflow.compiler.quoting import quoting_dialect
from kpiflow.compiler.treecopy import copy_tree, release, same_tree

Handler = Callable[[Generator, exp.Expression], str]
Text = tuple[str, tuple[str, ...]]  # SQL and the generator's unsupported-feature warnings
_TEXT_META_KEY = "kpiflow_sql_text"
_BODY_TYPES = (exp.Select, exp.Union)  # what a CTE body is
_DISPATCH: dict[Hashable, dict[type[exp.Expression], Handler]] = {}


def generate(tree: exp.Expression, dialect: str) -> str:
    """Pretty SQL for `tree` in `dialect`, as tree.sql(dialect=dialect, pretty=True) writes it, except that reserved
    words used as identifiers are quoted (quoting.py); `tree` is left as it is."""
    generator = quoting_dialect(dialect).generator(pretty=True)
    key = (type(generator), dialect)
    dispatch = _DISPATCH.get(key)
    if dispatch is None:
        dispatch = _DISPATCH[key] = _memoising(generator._dispatch, key)
    generator._dispatch = dispatch

    def known_text(node: exp.Expression) -> exp.Expression | None:
        memo = sql_memo(node)
        text = memo.texts.get(key) if memo else None
        if text is None or not same_tree(node, memo.tree):  # type: ignore[union-attr]
            return None
        stand_in = exp.Select()
        stand_in.meta[_TEXT_META_KEY] = text
        return stand_in

    work = copy_tree(tree, known_text)
    sql = generator.generate(work, copy=False)
    release(work)
    return sql


def _memoising(dispatch: dict[type[exp.Expression], Handler], key: Hashable) -> dict[type[exp.Expression], Handler]:
    patched = dict(dispatch)
    for body_type in _BODY_TYPES:
        if body_type in patched:
            patched[body_type] = _memoised(patched[body_type], key)
    return patched


def _memoised(original: Handler, key: Hashable) -> Handler:
    def handler(generator: Generator, node: exp.Expression) -> str:
        meta = node._meta
        if not meta:
            return original(generator, node)
        text: Text | None = meta.get(_TEXT_META_KEY)
        if text is None:
            memo: SqlMemo | None = meta.get(MEMO_META_KEY)
            if memo is None or not same_tree(node, memo.tree):
                return original(generator, node)
            text = memo.texts.get(key)
            if text is None:
                before = len(generator.unsupported_messages)
                sql = original(generator, node)
                memo.texts[key] = (sql, tuple(generator.unsupported_messages[before:]))
                return sql
        generator.unsupported_messages.extend(text[1])
        return text[0]

    return handler
