"""The nightly flow's dashboard step: rebuild the site from what was just published, never fail the run.

The marts are already published when this runs; a dashboard that cannot be built is reported as a warning
(in the run summary and the flow's artifacts) and leaves the published marts, and the previous site, as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kpiflow.config import Settings
from kpiflow.dashboard.command import default_out_dir


@dataclass(frozen=True)
class DashboardOutcome:
    index: Path | None
    summary: str
    error: str | None = None

    def headline(self) -> str:
        return self.summary if self.error is None else "not built (see warning)"

    @property
    def warnings(self) -> tuple[str, ...]:
        return () if self.error is None else (f"dashboard not built: {self.error}; the marts are published",)

    def markdown(self) -> str:
        if self.index is None:
            return f"## Dashboard\n\nNot built: `{self.error}`. The marts were published.\n"
        return f"## Dashboard\n\n[Open the KPI dashboard]({self.index.as_uri()}) ({self.summary})\n"

    def to_dict(self) -> dict[str, str | None]:
        return {"index": None if self.index is None else str(self.index), "error": self.error}


def build_after_publish(settings: Settings) -> DashboardOutcome:
    from kpiflow.dashboard.build import build_dashboard  # plotly, Jinja2 and the YAML loader: only when it runs
    from kpiflow.warehouse import warehouse_for

    try:
        site = build_dashboard(warehouse_for(settings), default_out_dir(settings.marts_path), settings.project_dir)
    except Exception as exc:  # reported, never raised: the publish it follows has already succeeded
        return DashboardOutcome(None, "not built", f"{type(exc).__name__}: {exc}")
    return DashboardOutcome(site.index, site.headline())
