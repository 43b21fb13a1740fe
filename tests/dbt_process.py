"""dbt and kpiflow in a subprocess with extra environment variables; the output's tail when they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_process(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command[:3])} failed:\n{output[-8000:]}")
    return output


def dbt(project: Path, env: dict[str, str], *args: str) -> str:
    """`dbt <args>` on `project` with its own profiles directory."""
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project)]
    return run_process([*command, "--profiles-dir", str(project / "profiles"), "--no-use-colors"], project, env)
