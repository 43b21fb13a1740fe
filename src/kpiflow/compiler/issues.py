"""Validation issues: collected, not raised, so an analyst sees every problem in one run."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kpiflow.errors import UserInputError
from kpiflow.yamlsource import closest

__all__ = ["Location", "Severity", "SpecInvalid", "ValidationIssue", "closest"]  # closest: shared with the YAML loader

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


class SpecInvalid(UserInputError):
    """Raised after validation when any error-severity issue was found. Exit code 2."""

    def __init__(self, issues: list[ValidationIssue], root: Path | None = None) -> None:
        self.issues = issues
        errors = [i for i in issues if i.severity == "error"]
        lines = [i.render(root) for i in errors]
        super().__init__(
            f"{len(errors)} problem(s) in the metric definitions; nothing was written.\n" + "\n".join(lines)
        )
