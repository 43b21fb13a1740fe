"""Display formats from `kpi_catalog.format`: the d3-format subset the metric YAML uses (`$,.2f`, `.1%`, `,d`).

The same string is handed to plotly (whose hover and axis formats are d3-format), so a chart and the table under
it show a number the same way. Marts keep full precision; only the page rounds.
"""

from __future__ import annotations

import math

DASH = "—"
DEFAULT_FORMAT = ",.2f"


def format_value(value: float | None, spec: str | None) -> str:
    """`value` as `spec` says: `$` prefixes, `,` groups thousands, `.Nf` / `.N%` / `d` as in d3-format."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    spec = spec or DEFAULT_FORMAT
    currency = spec.startswith("$")
    python_spec = spec[1:] if currency else spec
    if python_spec.endswith("d"):
        value = round(value)
    try:
        text = format(value, python_spec)
    except ValueError:  # a format Python does not know: plain, never an error on the page
        text = format(value, DEFAULT_FORMAT)
    if currency:
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return text


def is_rate(spec: str | None) -> bool:
    return bool(spec) and str(spec).endswith("%")


def format_change(current: float | None, previous: float | None, spec: str | None) -> str:
    """Rates change in percentage points; everything else in percent of the previous value."""
    if current is None or previous is None:
        return DASH
    if is_rate(spec):
        return f"{(current - previous) * 100:+.1f} pp"
    if previous == 0:
        return DASH
    return f"{(current - previous) / abs(previous) * 100:+.1f}%"


def change_direction(current: float | None, previous: float | None, direction: str | None) -> str:
    """`better`, `worse` or `flat` for the KPI's direction (a CSS class; within-band KPIs are never judged here)."""
    if current is None or previous is None or current == previous or direction not in _SIGN:
        return "flat"
    return "better" if (current - previous) * _SIGN[direction] > 0 else "worse"


_SIGN = {"higher_is_better": 1, "lower_is_better": -1}
