"""Package attributes imported on first use, so importing a package (and so any `kpiflow` command) stays cheap.

A package's public names often live in modules that pull in duckdb, sqlglot or pydantic models; a command that
needs none of them should not pay for them (`kpiflow query --explain` runs in a fraction of a second).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, locations: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` (PEP 562) that imports each name of `locations` from its module when first read."""

    def __getattr__(name: str) -> Any:
        module = locations.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
