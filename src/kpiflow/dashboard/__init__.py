"""`kpiflow dashboard`: a static KPI site built from the published marts (read-only), viewable offline.

marts.py reads, definitions.py groups and explains (metric YAML), pages.py computes page data, charts.py and
render.py write HTML, build.py puts the site in place, serve.py serves it, command.py is the CLI.
"""

from __future__ import annotations

from kpiflow.dashboard.build import DashboardSite, build_dashboard

__all__ = ["DashboardSite", "build_dashboard"]
