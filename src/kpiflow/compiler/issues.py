"""Validation issues: collected, not raised, so an analyst sees every problem in one run."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kpiflow.errors import UserInputError

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    file: Path
    line: int | None
    field: str  # dotted path inside the file, e.g. metrics[3].kpi.unit

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where} ({self.field})" if self.field else where


@dataclass(frozen=True)
class ValidationIssue:
    location: Location
    message: str
    suggestion: str | None = None
    severity: Severity = "error"

    def render(self, root: Path | None = None) -> str:
        file = self.location.file
        if root is not None:
            with contextlib.suppress(ValueError):
                file = file.relative_to(root)
        where = f"{file}:{self.location.line}" if self.location.line else str(file)
        field = f"{self.location.field}: " if self.location.field else ""
        text = f"{where}: {self.severity}: {field}{self.message}"
        if self.suggestion:
            text += f" {self.suggestion}"
        return text


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> str | None:
    """'Did you mean ...?' text for an unknown name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=limit, cutoff=0.6)
    if not matches:
        return None
    return "Did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


class SpecInvalid(UserInputError):
    """Raised after validation when any error-severity issue was found. Exit code 2."""

    def __init__(self, issues: list[ValidationIssue], root: Path | None = None) -> None:
        self.issues = issues
        errors = [i for i in issues if i.severity == "error"]
        lines = [i.render(root) for i in errors]
        super().__init__(
            f"{len(errors)} problem(s) in the metric definitions; nothing was written.\n" + "\n".join(lines)
        )
