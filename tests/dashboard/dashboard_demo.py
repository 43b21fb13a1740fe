"""The small demo the browser tests publish: its dates and the privacy minimum its project copy configures."""

from __future__ import annotations

from datetime import date

# Fourteen months: the latest complete month has a month a year before it (vs last year, last year's line).
DEMO_START, RUN_DATE = date(2024, 1, 1), date(2025, 2, 28)
# Above dbt's default of 5, so that the small demo's store-level HR cells are hidden (and the page must say 12).
PRIVACY_MINIMUM = 12
