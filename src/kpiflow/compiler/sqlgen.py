"""SQL text from sqlglot trees, through sqlglot's public generator, with the text of each shared CTE body (ctes.py)
generated once per dialect and reused.

A query's shared bodies are left out of generation: while the query is generated, each CTE holding one holds a
one-line placeholder instead (the tree is put back as it was before returning), and the placeholder's line in the
text is then replaced by the body's text, indented as the placeholder was. That is what sqlglot writes for the
whole tree: its pretty generator places a CTE body on lines of its own and indents it line by line.

All text is lowercase SQL (lowercase.py): each shared body's text is lowered once, when it is generated, and the
query around the placeholders once per query. For PostgreSQL, null-safe text joins are rewritten in the working
copies into a form it can hash (text_keys.py).
"""

from __future__ import annotations

import re

from sqlglot import exp

from kpiflow.compiler.ctes import SharedCte, shared_cte
from kpiflow.compiler.lowercase import lowercase_generate
from kpiflow.compiler.text_keys import hash_joinable

_PLACEHOLDER = "__kpiflow_shared_cte_"
_NESTING = (exp.Query, exp.Subquery, exp.From, exp.Join, exp.With)  # where a query can hold a CTE
_NESTING_ARGS = ("with_", "from_", "joins", "this", "expression", "expressions")
_PLACEHOLDER_LINE = re.compile(r"^([ \t]*)[\"`]?" + _PLACEHOLDER + r"(\d+)[\"`]?$", re.MULTILINE)


def generate(tree: exp.Expression, dialect: str) -> str:
    """Pretty, lowercase SQL for `tree` in `dialect`, as `lowercase_generate` writes the whole tree: sqlglot's text
    in lower case (lowercase.py), reserved words used as identifiers quoted (quoting.py)."""
    ctes: list[tuple[exp.CTE, SharedCte]] = []
    _find_shared(tree, ctes)
    try:
        for index, (cte, _) in enumerate(ctes):
            cte.set("this", exp.Table(this=exp.Identifier(this=f"{_PLACEHOLDER}{index}")))
        work = hash_joinable(tree.copy(), dialect)
    finally:
        for cte, shared in ctes:
            cte.set("this", shared.body)
    sql = lowercase_generate(work, dialect, copy=False)
    _unlink(work)
    if not ctes:
        return sql
    found = _PLACEHOLDER_LINE.findall(sql)
    if sorted(int(index) for _, index in found) != list(range(len(ctes))):
        # a placeholder not on a line of its own: generate it all
        return lowercase_generate(hash_joinable(tree.copy(), dialect), dialect, copy=False)
    bodies = [_text(shared, dialect) for _, shared in ctes]
    return _PLACEHOLDER_LINE.sub(lambda m: _indented(bodies[int(m.group(2))], m.group(1)), sql)


def _find_shared(node: exp.Expression, found: list[tuple[exp.CTE, SharedCte]]) -> None:
    """The CTEs holding a shared body, looked for where the compiler nests queries (WITH, FROM, JOIN, set operations,
    subqueries) and not inside the shared bodies; a CTE elsewhere is generated with the rest, which is only slower."""
    if isinstance(node, exp.CTE):
        shared = shared_cte(node.this)
        if shared is not None:
            found.append((node, shared))
            return
    elif not isinstance(node, _NESTING):
        return
    for key in _NESTING_ARGS:
        value = node.args.get(key)
        if isinstance(value, list):
            for item in value:
                _find_shared(item, found)
        elif value is not None:
            _find_shared(value, found)


def _unlink(tree: exp.Expression) -> None:
    """Drop the child -> parent references of a tree about to be discarded: without reference cycles, reference
    counting frees it at once, and Python's cycle collector has fewer objects to walk (it took a fifth of a
    compile when each query's working copy waited for it)."""
    for node in tree.walk():
        node.parent = None


def _text(shared: SharedCte, dialect: str) -> str:
    text = shared.texts.get(dialect)
    if text is None:
        work = hash_joinable(shared.body.copy(), dialect)
        text = shared.texts[dialect] = lowercase_generate(work, dialect, copy=False)
        _unlink(work)
    return text


def _indented(text: str, indent: str) -> str:
    return "\n".join(indent + line for line in text.split("\n"))
