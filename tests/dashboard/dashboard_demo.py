"""The small demo the browser tests publish: its dates and the privacy minimum its project copy configures."""

from __future__ import annotations

from datetime import date

# Fourteen months: the latest complete month has a month a year before it (vs last year, last year's line).
DEMO_START, RUN_DATE = date(2024, 1, 1), date(2025, 2, 28)
# Far above dbt's default of 5, so that the small demo's store and department HR cells (about 10 and 25 people) are
# hidden while the company total (about 55) is not; the pages must then say "fewer than 40".
PRIVACY_MINIMUM = 40
