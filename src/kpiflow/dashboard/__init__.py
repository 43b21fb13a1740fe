"""`kpiflow dashboard`: a static KPI site built from the published marts (read-only), viewable offline.

marts.py reads, definitions.py groups and explains (metric YAML), pages.py computes page data, charts.py and
render.py write HTML, build.py puts the site in place (`build_dashboard`), after_publish.py is the nightly flow's
step, serve.py serves the site, command.py is the CLI. This file imports nothing, so the flow can import its step
without loading plotly until the step runs.
"""
