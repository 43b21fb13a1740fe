"""Find the system Chromium for the browser tests, installing Debian's `chromium` package where it is missing.

Playwright's own browser download needs a CDN this project never calls, so the tests drive the system
browser through `executable_path`. A browser that cannot be found or installed fails the tests (never a skip):
the dashboard's promises are only checked in a real browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_TIMEOUT_SECONDS = 900


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine and no way to install one."""


def find_chromium() -> Path | None:
    """KPIFLOW_CHROMIUM if set, else the first Chromium-family browser on PATH."""
    explicit = os.environ.get("KPIFLOW_CHROMIUM")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def ensure_chromium() -> Path:
    """The Chromium executable, installed with apt-get (as root) the first time it is missing."""
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            "no Chromium found (tried KPIFLOW_CHROMIUM and " + ", ".join(CANDIDATES) + " on PATH) and cannot install "
            "one (needs root and apt-get): install Debian's `chromium` package or set KPIFLOW_CHROMIUM"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    done = _run(install, env)
    if done.returncode != 0:  # a fresh machine has no package lists yet
        _run(["apt-get", "update"], env)
        done = _run(install, env)
    found = find_chromium()
    if done.returncode != 0 or found is None:
        raise BrowserUnavailable(f"`{' '.join(install)}` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return found


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT_SECONDS
    )
