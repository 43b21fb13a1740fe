"""kpiflow uses sqlglot through its public API only, and leaves Python's garbage collector alone (issue 16): no hook
into the generator's dispatch table, no private attributes of sqlglot nodes, no pausing of the cycle collector."""

from __future__ import annotations

import re
from pathlib import Path

import kpiflow

SOURCES = sorted(Path(kpiflow.__file__).parent.rglob("*.py"))
FORBIDDEN = {
    "sqlglot's generator dispatch table": re.compile(r"\b_dispatch\b"),
    "a private attribute of a sqlglot node": re.compile(r"\.(_meta|_type|_hash|_dispatch|_copy)\b"),
    "a private sqlglot import": re.compile(r"from sqlglot[\w.]* import [^\n]*\b_\w+"),
    "pausing or freezing the garbage collector": re.compile(r"\bgc\.(disable|freeze)\b|^\s*import gc\b", re.MULTILINE),
    "the deleted tree-copy and gc-pause modules": re.compile(r"\b(treecopy|gcpause|gc_paused)\b"),
}


def test_no_module_reaches_into_private_internals():
    found = [
        f"{path.relative_to(Path(kpiflow.__file__).parent)}: {what} ({match.group(0).strip()!r})"
        for path in SOURCES
        for what, pattern in FORBIDDEN.items()
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)


def test_the_check_sees_the_package():
    assert any(path.name == "sqlgen.py" for path in SOURCES)
