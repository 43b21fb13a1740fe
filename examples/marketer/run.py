"""The article's internet marketer, end to end: `python examples/marketer/run.py`.

Builds a small DuckDB warehouse from the CSVs in data/ and seeds/ (the tables kpiflow's dbt models
and seeds would produce), runs `build_scorecards` with the cards in metrics/scorecards/, then prints
each card's explanation: 113.70% and 832.88 with the article's rounding, 113.75% and 833.00 in exact
decimals, and 920.00 with the step table. The warehouse is kept, so `kpiflow scorecard` can read it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kpiflow.scorecards import build_scorecards
from kpiflow.scorecards.inputs import create_input_tables, load_csv
from kpiflow.scorecards.periods import parse_period
from kpiflow.scorecards.report import render
from kpiflow.warehouse.duckdb import DuckDBWarehouse, attached_session

HERE = Path(__file__).resolve().parent
TABLES = {
    "marts.kpi_catalog": HERE / "data" / "kpi_catalog.csv",
    "marts.kpi_values": HERE / "data" / "kpi_values.csv",
    "staging.stg_employees": HERE / "data" / "employees.csv",
    "seeds.kpi_targets": HERE / "seeds" / "kpi_targets.csv",
}
CARDS = ("marketer_article", "marketer_exact", "marketer_step_table")
PERIOD = "2025-06"


def build_warehouse(path: Path) -> None:
    """Load the example's inputs and compute its scorecards into `path`."""
    path.unlink(missing_ok=True)
    with DuckDBWarehouse.for_file(path).connect() as con:
        create_input_tables(con)
        for table, csv_path in TABLES.items():
            load_csv(con, table, csv_path)
        summary = build_scorecards(con, HERE)
    for warning in summary.warnings:
        print(f"warning: {warning}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="DuckDB file to write (default: a temporary folder)")
    args = parser.parse_args()
    warehouse = args.warehouse or Path(tempfile.mkdtemp(prefix="kpiflow-marketer-")) / "marketer.duckdb"
    build_warehouse(warehouse)
    with attached_session(warehouse, "published") as con:
        for card in CARDS:
            print(render(con, card, parse_period(PERIOD), explain=True))
    print(f"Warehouse: {warehouse}")
    command = f"kpiflow scorecard --card marketer_article --period {PERIOD} --explain"
    print(f"Try: KPIFLOW_MARTS={warehouse} {command}")


if __name__ == "__main__":
    main()
