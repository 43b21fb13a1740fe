"""A README shell block that a test runs as written, without a shell: the ```sh block after a marker, each line split
with shlex and understood as `export NAME=VALUE ...` or a `kpiflow ...` command; any other line is an error, so the
README cannot show a command the test does not run."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


class ReadmeCommandError(ValueError):
    """A line of the block that the runner does not understand."""


@dataclass(frozen=True)
class Command:
    """One `kpiflow` line: its arguments and the variables the block's `export` lines set before it."""

    line: str
    args: tuple[str, ...]
    exported: dict[str, str]


def readme_block(marker: str, readme: Path = REPO / "README.md") -> str:
    """The ```sh block that follows `marker` in the README."""
    text = readme.read_text()
    assert marker in text, f"{readme.name} lost its {marker!r} marker"
    found = re.search(r"```sh\n(.*?)```", text.split(marker, 1)[1], re.DOTALL)
    assert found is not None, f"{readme.name}: no ```sh block after {marker!r}"
    return found.group(1)


def parse_block(block: str, variables: dict[str, str]) -> list[Command]:
    """The block's kpiflow commands, `$NAME` in export values taken from `variables` and earlier exports."""
    exported: dict[str, str] = {}
    commands = []
    for number, line in enumerate(block.splitlines(), 1):
        where = f"line {number} of the block, `{line.strip()}`"
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise ReadmeCommandError(f"{where}: {exc}") from exc
        if not words:
            continue
        if words[0] == "export" and len(words) > 1:
            for word in words[1:]:
                name, equals, value = word.partition("=")
                if not equals or not _NAME.fullmatch(name):
                    raise ReadmeCommandError(f"{where}: `{word}` is not NAME=VALUE")
                exported[name] = _expand(value, {**variables, **exported}, where)
        elif words[0] == "kpiflow" and not any("$" in word for word in words):
            commands.append(Command(shlex.join(words), tuple(words[1:]), dict(exported)))
        else:
            raise ReadmeCommandError(
                f"{where}: the test runs only `export NAME=VALUE` lines and `kpiflow` commands without variables"
            )
    return commands


def _expand(value: str, variables: dict[str, str], where: str) -> str:
    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise ReadmeCommandError(f"{where}: ${name} is not set")
        return variables[name]

    return _VARIABLE.sub(variable, value)
