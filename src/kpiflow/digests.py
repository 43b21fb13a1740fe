"""One content digest of a set of files, shared by the compile cache and the build fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """sha256 over each existing file's path (relative to `root`) and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
