"""Plotly figures for the pages, as HTML fragments that need `plotly.min.js` loaded once by the page.

plotly draws (and its hover and axis formats are d3-format, the language of `kpi_catalog.format`); this module
only decides what goes on each chart. Text from the catalog is set as plain data and shown by plotly as text.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from kpiflow.dashboard.marts import CatalogEntry
from kpiflow.dashboard.pages import Breakdown, Series

PLOTLY_JS = "plotly.min.js"
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}
LINE, LAST_YEAR, BAND = "#1f5f99", "#9aa5b1", "rgba(46, 160, 67, 0.15)"


def write_plotly_js(folder: Path) -> Path:
    """The plotly.js bundle that ships inside the plotly package, copied once for every page to load."""
    target = folder / PLOTLY_JS
    target.write_bytes(resources.files("plotly").joinpath("package_data", PLOTLY_JS).read_bytes())
    return target


def fragment(figure: go.Figure, div_id: str) -> str:
    figure.update_layout(template="none")  # plotly's default theme would be embedded in every chart (~10 kB each)
    return pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id, config=CONFIG)


def _labels(months: tuple) -> list[str]:
    return [f"{m:%Y-%m}" for m in months]


def sparkline(entry: CatalogEntry, series: Series) -> str:
    figure = go.Figure(
        go.Scatter(
            x=_labels(series.months), y=[v.raw for v in series.values], mode="lines+markers",
            line={"color": LINE, "width": 2}, marker={"size": 3}, name=entry.label, hoverinfo="x+y",
        )
    )  # fmt: skip
    figure.update_layout(
        height=70, margin={"l": 0, "r": 0, "t": 4, "b": 4}, showlegend=False,
        xaxis={"visible": False}, yaxis={"visible": False, "hoverformat": entry.format},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )  # fmt: skip
    return fragment(figure, f"spark-{entry.kpi}")


def trend(entry: CatalogEntry, series: Series) -> str:
    """This KPI month by month, last year's line and, where targets exist, the band minimum..stretch."""
    months = _labels(series.months)
    figure = go.Figure()
    if series.has_targets:
        low = [_band_edge(t, low=True) for t in series.targets]
        high = [_band_edge(t, low=False) for t in series.targets]
        figure.add_trace(go.Scatter(x=months, y=low, mode="lines", line={"width": 0}, name="band low",
                                    showlegend=False, hoverinfo="skip"))  # fmt: skip
        figure.add_trace(go.Scatter(x=months, y=high, mode="lines", line={"width": 0}, fill="tonexty",
                                    fillcolor=BAND, name="target band", hoverinfo="skip"))  # fmt: skip
        targets = [None if t is None else t.target for t in series.targets]
        figure.add_trace(go.Scatter(x=months, y=targets, mode="lines", line={"dash": "dash", "color": "#2ea043"},
                                    name="target"))  # fmt: skip
    figure.add_trace(go.Scatter(x=months, y=[v.raw for v in series.last_year], mode="lines",
                                line={"dash": "dot", "color": LAST_YEAR}, name="last year"))  # fmt: skip
    figure.add_trace(go.Scatter(x=months, y=[v.raw for v in series.values], mode="lines+markers",
                                line={"color": LINE}, name=entry.label))  # fmt: skip
    figure.update_layout(
        height=300, margin={"l": 60, "r": 10, "t": 10, "b": 40}, legend={"orientation": "h", "y": -0.2},
        yaxis={"tickformat": entry.format, "hoverformat": entry.format, "automargin": True}, hovermode="x unified",
    )  # fmt: skip
    return fragment(figure, f"trend-{entry.kpi}")


def _band_edge(target: object, *, low: bool) -> float | None:
    if target is None:
        return None
    band = (target.band_low, target.band_high) if target.band_low is not None else (target.minimum, target.stretch)
    edge = band[0] if low else band[1]
    return edge if edge is not None else target.target


def breakdown(entry: CatalogEntry, table: Breakdown) -> str:
    """One bar trace per month, the latest shown; the chart's own menu is the period selector."""
    figure = go.Figure()
    latest = len(table.months) - 1
    for index, month in enumerate(table.months):
        figure.add_trace(
            go.Bar(
                x=list(table.members), y=[row[index].raw for row in table.cells], name=f"{month:%Y-%m}",
                visible=index == latest, marker={"color": LINE},
            )
        )  # fmt: skip
    buttons = [
        {"label": f"{month:%Y-%m}", "method": "update",
         "args": [{"visible": [i == index for i in range(len(table.months))]}]}
        for index, month in enumerate(table.months)
    ]  # fmt: skip
    figure.update_layout(
        height=300, margin={"l": 60, "r": 10, "t": 40, "b": 60}, showlegend=False,
        yaxis={"tickformat": entry.format, "hoverformat": entry.format, "automargin": True}, xaxis={"type": "category"},
        updatemenus=[{"buttons": list(reversed(buttons)), "active": 0, "x": 0, "xanchor": "left", "y": 1.15,
                      "yanchor": "top", "showactive": True}],
    )  # fmt: skip
    return fragment(figure, f"breakdown-{entry.kpi}-{table.dimension_set}")
