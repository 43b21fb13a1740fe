"""Entry point for Prefect tooling: `prefect deploy` (see flows/prefect.yaml) and `python flows/nightly.py`.

The flow itself lives in the kpiflow package (kpiflow.orchestration.flow) so that it is importable
wherever kpiflow is installed; this file re-exports it, after pointing Prefect at kpiflow's settings.
"""

from __future__ import annotations

from kpiflow.config import Settings
from kpiflow.orchestration.prefect_env import configure_prefect

configure_prefect(Settings.from_env())

from kpiflow.orchestration.flow import nightly  # noqa: E402  (Prefect reads its settings on first import)

__all__ = ["nightly"]

if __name__ == "__main__":
    from kpiflow.orchestration.commands import serve

    serve()  # same as `kpiflow serve`: 02:00 Europe/Warsaw, local Prefect server unless PREFECT_API_URL is set
