"""Copying and comparing sqlglot trees, for the CTE memo (ctes.py) and SQL generation (sqlgen.py).

The pure-Python Expression.copy() builds each node through its constructor and `set`, which walk parents and
clear hashes; copying node by node directly is about a third cheaper, and the compile copies every tree at least
once. With sqlglot's compiled build (sqlglotc) its own copy is the faster one, and `copy_tree` uses it. `same_tree`
is an exact comparison: sqlglot's own equality compares hashes that ignore the case of some names (variables such
as the MONTH in DATE_TRUNC, function names).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from copy import deepcopy

from sqlglot import exp

Swap = Callable[[exp.Expression], exp.Expression | None]
COMPILED_SQLGLOT = not isinstance(exp.Expression.copy, types.FunctionType)
_TOP = (exp.With, exp.CTE)  # where a memoised CTE body can be, below the root
_LEAVES = frozenset({exp.Identifier, exp.Literal, exp.Var, exp.Null, exp.Boolean})  # args never hold a node


def copy_tree(node: exp.Expression, swap: Swap | None = None) -> exp.Expression:
    """A copy of `node`, as node.copy() makes it. `swap`, asked about each node that has meta, may return a node to
    put in the copy instead of copying that subtree. With compiled sqlglot, `swap` sees only `node`, the WITH and
    its CTEs and their children (where the memoised CTE bodies are), and the rest is copied by sqlglot."""
    if not COMPILED_SQLGLOT:
        return _copy(node, None, None, None, swap)
    if swap is None:
        return node.__deepcopy__({})  # what node.copy() runs, without copy.deepcopy's Python-level bookkeeping
    return _copy_top(node, None, None, None, swap)


def _copy(
    node: exp.Expression, parent: exp.Expression | None, arg_key: str | None, index: int | None, swap: Swap | None
) -> exp.Expression:
    if swap is not None and node._meta is not None:
        swapped = swap(node)
        if swapped is not None:
            swapped.parent, swapped.arg_key, swapped.index = parent, arg_key, index
            return swapped
    cls = node.__class__
    new = cls.__new__(cls)
    if cls in _LEAVES:  # a third of all nodes are identifiers
        new.args = node.args.copy()
    else:
        args = {}
        for key, value in node.args.items():
            if isinstance(value, exp.Expr):
                args[key] = _copy(value, new, key, None, swap)
            elif type(value) is list:
                args[key] = [
                    _copy(item, new, key, i, swap) if isinstance(item, exp.Expr) else item
                    for i, item in enumerate(value)
                ]
            else:
                args[key] = value
        new.args = args
    _copy_attributes(node, new, parent, arg_key, index)
    return new


def _copy_attributes(
    node: exp.Expression, new: exp.Expression, parent: exp.Expression | None, arg_key: str | None, index: int | None
) -> None:
    new.parent = parent
    new.arg_key = arg_key
    new.index = index
    new.comments = None if node.comments is None else list(node.comments)
    new._type = None if node._type is None else copy_tree(node._type)  # type: ignore[assignment]
    new._meta = None if node._meta is None else deepcopy(node._meta)
    new._hash = None


def _copy_top(
    node: exp.Expression, parent: exp.Expression | None, arg_key: str | None, index: int | None, swap: Swap
) -> exp.Expression:
    if node._meta is not None:
        swapped = swap(node)
        if swapped is not None:
            swapped.parent, swapped.arg_key, swapped.index = parent, arg_key, index
            return swapped
    if parent is not None and node._meta is None and not isinstance(node, _TOP):
        new = node.__deepcopy__({})
        new.parent, new.arg_key, new.index = parent, arg_key, index
        return new
    cls = node.__class__
    new = cls.__new__(cls)
    args = {}
    for key, value in node.args.items():
        if isinstance(value, exp.Expr):
            args[key] = _copy_top(value, new, key, None, swap)
        elif type(value) is list:
            args[key] = [
                _copy_top(item, new, key, i, swap) if isinstance(item, exp.Expr) else item
                for i, item in enumerate(value)
            ]
        else:
            args[key] = value
    new.args = args
    _copy_attributes(node, new, parent, arg_key, index)
    return new


def release(tree: exp.Expression) -> None:
    """Unlink every node from its parent, for a tree about to be dropped: without the child -> parent references
    it has no reference cycles, so reference counting frees it at once instead of Python's cycle collector, whose
    passes over thousands of discarded trees took a fifth of the compile."""
    for node in tree.walk():
        node.parent = None


def same_tree(a: exp.Expression, b: exp.Expression) -> bool:
    """Whether two trees are the same, names' case and comments included (what generating SQL reads)."""
    if a.__class__ is not b.__class__ or a.comments != b.comments or a._type != b._type:
        return False
    args_a, args_b = a.args, b.args
    if args_a.keys() != args_b.keys():
        return False
    for key, value in args_a.items():
        other = args_b[key]
        if isinstance(value, exp.Expr):
            if not isinstance(other, exp.Expr) or not same_tree(value, other):
                return False
        elif type(value) is list:
            if type(other) is not list or len(value) != len(other):
                return False
            for item, other_item in zip(value, other, strict=True):
                if isinstance(item, exp.Expr):
                    if not isinstance(other_item, exp.Expr) or not same_tree(item, other_item):
                        return False
                elif type(item) is not type(other_item) or item != other_item:
                    return False
        elif type(value) is not type(other) or value != other:
            return False
    return True
