"""What `kpi__customer_retention_rate` costs a night: the model before the activity model against the two models now.

Before (the model at --baseline-ref), the KPI read int_orders from the window's year start minus a year every night,
placed each order in its month, quarter and year and kept each customer once per period and breakdown before joining
a period's customers to the previous one's. Now `activity__customer_retention_rate` keeps those customers per period
(incremental: a night recomputes the periods from each grain's floor on) and the KPI joins its rows. This script
renders the models as dbt would (--window-start as `kpiflow_window_start()` gives it in a night; 1900-01-01 in a full
build), builds the activity table of a full build once (not timed), checks that the old model and the new KPI over
that table return exactly the same rows from the window start (EXCEPT ALL both ways empty), and times, interleaved,
best of N: the old model; the night's activity query; the new KPI model. --copies-in-time T --copies-of-entities R
inflate int_orders in memory as bench_period_measures.py does (with dim_customers' customers copied too).
Usage: nice -n 19 .venv/bin/python bench/bench_retention.py WAREHOUSE_DIR --baseline-ref b900e1a
       --window-start 2025-04-28 [--repeat 3] [--copies-in-time 6 --copies-of-entities 3]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import duckdb
from bench_period_measures import FULL_BUILD_START, rendered

REPO = Path(__file__).resolve().parents[1]
GENERATED = REPO / "models" / "generated"
KPI = "kpi__customer_retention_rate"
ACTIVITY = "activity__customer_retention_rate"


def connect(warehouse: Path, copies_in_time: int, copies_of_entities: int) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of the models' inputs (int_orders inflated, dim_customers' customers copied) and a schema
    for the activity table."""
    con = duckdb.connect()
    con.execute(f"attach '{warehouse / 'kpiflow.duckdb'}' as built (read_only)")
    con.execute("create schema intermediate")
    con.execute(
        "create table intermediate.int_orders as select order_date + to_months(4 * t) as order_date, "
        "customer_id || '-' || r as customer_id from built.intermediate.int_orders, range(?) as copies_in_time(t), "
        "range(?) as copies_of_entities(r)",
        [copies_in_time, copies_of_entities],
    )
    con.execute(
        "create table intermediate.dim_customers as select customer_id || '-' || r as customer_id, region "
        "from built.intermediate.dim_customers, range(?) as copies_of_entities(r)",
        [copies_of_entities],
    )
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path, help="a built warehouse folder (holds kpiflow.duckdb)")
    parser.add_argument("--baseline-ref", required=True, help="a commit whose KPI model reads int_orders (b900e1a)")
    parser.add_argument("--window-start", required=True, help="the night's window start, as kpiflow_window_start()")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies-in-time", type=int, default=1)
    parser.add_argument("--copies-of-entities", type=int, default=1)
    args = parser.parse_args()
    con = connect(args.warehouse, args.copies_in_time, args.copies_of_entities)
    rows, last = con.execute("select count(*), max(order_date) from intermediate.int_orders").fetchall()[0]
    print(f"int_orders rows: {rows:,} (to {last}); duckdb {duckdb.__version__}; window start {args.window_start}")
    old_text = subprocess.run(
        ["git", "show", f"{args.baseline_ref}:models/generated/{KPI}.sql"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    activity_text = (GENERATED / f"{ACTIVITY}.sql").read_text()
    full_activity = rendered(activity_text, con, FULL_BUILD_START)
    con.execute(f"create table intermediate.{ACTIVITY} as {full_activity}")
    queries = {
        "old kpi model": rendered(old_text, con, args.window_start),
        "night's activity": rendered(activity_text, con, args.window_start),
        "new kpi model": rendered((GENERATED / f"{KPI}.sql").read_text(), con, args.window_start),
    }
    old, new = queries["old kpi model"], queries["new kpi model"]
    only_old = con.execute(f"select count(*) from (({old}) except all ({new}))").fetchall()[0][0]
    only_new = con.execute(f"select count(*) from (({new}) except all ({old}))").fetchall()[0][0]
    kept = con.execute(f"select count(*) from ({new})").fetchall()[0][0]
    print(f"KPI rows from the window: {kept}; only in the old model {only_old}, only in the new {only_new}")
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(args.repeat):
        for name, sql in queries.items():
            started = time.perf_counter()
            con.execute(f"create or replace temp table timed as {sql}")
            best[name] = min(best[name], time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name:18} best of {args.repeat}: {seconds:7.3f} s  {seconds / best['old kpi model']:.2f}x")
    both = best["night's activity"] + best["new kpi model"]
    print(f"{'new, both models':18}               {both:7.3f} s  {both / best['old kpi model']:.2f}x")


if __name__ == "__main__":
    main()
