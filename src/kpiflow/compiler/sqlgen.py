"""SQL text from sqlglot trees, through sqlglot's public generator, with the text of each shared CTE body (ctes.py)
generated once per dialect and reused.

A query's shared bodies are left out of generation: while the query is generated, each CTE holding one holds a
one-line placeholder instead (the tree is put back as it was before returning), and the placeholder's line in the
text is then replaced by the body's text, indented as the placeholder was. That is what sqlglot writes for the
whole tree: its pretty generator places a CTE body on lines of its own and indents it line by line.
"""

from __future__ import annotations

import re

from sqlglot import exp

from kpiflow.compiler.ctes import SharedCte, shared_cte
from kpiflow.compiler.quoting import quoting_dialect

_PLACEHOLDER = "__kpiflow_shared_cte_"
_PLACEHOLDER_LINE = re.compile(r"^([ \t]*)[\"`]?" + _PLACEHOLDER + r"(\d+)[\"`]?$", re.MULTILINE)


def generate(tree: exp.Expression, dialect: str) -> str:
    """Pretty SQL for `tree` in `dialect`, as tree.sql(dialect=dialect, pretty=True) writes it, except that reserved
    words used as identifiers are quoted (quoting.py)."""
    quoted = quoting_dialect(dialect)
    ctes = [
        (node, shared)
        for node in tree.walk(prune=lambda node: shared_cte(node) is not None)
        if isinstance(node, exp.CTE) and (shared := shared_cte(node.this)) is not None
    ]
    if not ctes:
        return quoted.generate(tree, pretty=True)
    try:
        for index, (cte, _) in enumerate(ctes):
            cte.set("this", exp.Table(this=exp.Identifier(this=f"{_PLACEHOLDER}{index}")))
        sql = quoted.generate(tree, pretty=True)
    finally:
        for cte, shared in ctes:
            cte.set("this", shared.body)
    found = _PLACEHOLDER_LINE.findall(sql)
    if sorted(int(index) for _, index in found) != list(range(len(ctes))):
        return quoted.generate(tree, pretty=True)  # a placeholder not on a line of its own: generate it all
    bodies = [_text(shared, dialect) for _, shared in ctes]
    return _PLACEHOLDER_LINE.sub(lambda m: _indented(bodies[int(m.group(2))], m.group(1)), sql)


def _text(shared: SharedCte, dialect: str) -> str:
    text = shared.texts.get(dialect)
    if text is None:
        text = shared.texts[dialect] = quoting_dialect(dialect).generate(shared.body, pretty=True)
    return text


def _indented(text: str, indent: str) -> str:
    return "\n".join(indent + line for line in text.split("\n"))
