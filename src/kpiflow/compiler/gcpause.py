"""Pause Python's cycle collector while loading builds a large structure that stays alive.

Loading 1,000 metric definitions creates some hundred thousand objects (YAML nodes, dicts, pydantic models), all
of them kept. The collector, run every 700 new objects, walks them again and again and finds nothing to free: a
third of the load time. Paused, they are walked once when it resumes. Nesting and threads share one pause, so the
collector comes back on only when the last user leaves, and only if it was on before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
