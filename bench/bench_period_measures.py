"""How fast `measures__orders__per_period` can be on DuckDB: the generated SQL against hand-written alternatives.

The generated model (period_measures.py) places every order row in its period at each of 4 grains (a cross join, rows
x4) and then counts distinct customers under GROUPING SETS of 5 breakdowns; at demo scale 10 over 23 months it took
247.7 s of a full dbt build (docs/benchmarks.md); since then the compiler groups by customer before counting
(windowed_customer_first's form: --baseline-ref e4c254f times the count(distinct) form beside it). This script renders
the model as dbt would (the window start `kpiflow_window_start()` gives in a full build: 1900-01-01; --window-start for
a nightly), opens a built warehouse read-only, checks that each alternative returns exactly the same rows as the first
query (EXCEPT ALL both ways empty) and times them interleaved, best of N. The alternatives are full-build forms: they
keep every period of the rows read (no per-grain window filter), so with a later --window-start they hold more rows
than the model:
  grain_sets      no cross join: the month, quarter and year starts are columns and the grain goes into the
                  GROUPING SETS (4 grains x 5 breakdowns), `grouping()` naming grain and period;
  union_grains    one GROUPING SETS select per grain, UNION ALL;
  customer_first  grain_sets, but grouped by customer first (20 sets, no distinct aggregate), then the customers of
                  each period and breakdown counted: the distinct counts become plain counts;
  windowed_customer_first  the generated model's cross join and window filter kept, then customer_first's two
                  steps: comparable in a nightly too.
The alternatives are written for this model's columns (its dimensions and measures are listed below and checked
against the generated text). --copies-in-time T --copies-of-entities R inflate int_orders in memory (T copies shifted
by 4 months, R copies of every customer and employee) to approach scale 10 without building it.
Usage: nice -n 19 .venv/bin/python bench/bench_period_measures.py WAREHOUSE_DIR [--repeat 3] [--baseline-ref REF]
       [--copies-in-time 6 --copies-of-entities 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from pathlib import Path

import duckdb

MODEL = Path(__file__).resolve().parents[1] / "models" / "generated" / "measures__orders__per_period.sql"
FULL_BUILD_START = "1900-01-01"
DIMENSIONS = ["d__employee", "d__order__channel", "d__store", "d__store__region"]
SETS = {
    "employee": ["d__employee"],
    "order__channel": ["d__order__channel"],
    "overall": [],
    "store": ["d__store"],
    "store__region": ["d__store__region"],
}
PERIOD_COLUMNS = {"day": "__day", "month": "p__month", "quarter": "p__quarter", "year": "p__year"}
MEASURES = """count(distinct m__active_customers) as m__active_customers,
    count(distinct m__new_customers) as m__new_customers,
    count(m__new_customers__rows) as m__new_customers__rows,
    count(distinct m__repeat_customers) as m__repeat_customers,
    count(m__repeat_customers__rows) as m__repeat_customers__rows"""


def rendered(text: str, con: duckdb.DuckDBPyConnection, start: str) -> str:
    """The model's SQL as dbt would run it: config and set lines dropped, refs and the window start written out."""
    kept = [line for line in text.splitlines() if not line.startswith(("--", "{{ config", "{%"))]
    sql = "\n".join(kept)

    def relation(match: re.Match[str]) -> str:
        rows = con.execute(
            "select table_schema from information_schema.tables where table_name = ?", [match.group(1)]
        ).fetchall()
        return f'"{rows[0][0]}"."{match.group(1)}"'

    sql = re.sub(r"\{\{\s*ref\('([^']+)'\)\s*\}\}", relation, sql)
    sql = sql.replace("{{ kpiflow_window_start_value }}", f"cast('{start}' as date)")
    if "{{" in sql or "{%" in sql:
        raise SystemExit(f"{MODEL}: Jinja left after rendering; extend rendered() for it")
    return sql


def _set_label() -> str:
    whens = [
        "when " + " and ".join(f"grouping({d}) = {0 if d in dims else 1}" for d in DIMENSIONS) + f" then '{label}'"
        for label, dims in SETS.items()
    ]
    return "case " + " ".join(whens) + " end as __set"


def _grain_and_period() -> str:
    grain = " ".join(f"when grouping({c}) = 0 then '{g}'" for g, c in PERIOD_COLUMNS.items())
    period = " ".join(f"when grouping({c}) = 0 then {c}" for g, c in PERIOD_COLUMNS.items())
    return f"case {grain} end as grain, case {period} end as period_start"


def _with_periods(head: str) -> str:
    starts = ", ".join(
        f"cast(date_trunc('{g}', __day) as date) as {c}" for g, c in PERIOD_COLUMNS.items() if g != "day"
    )
    return f"{head}), rows_with_periods as (select source_rows.*, {starts} from source_rows)"


def _sets(extra: list[str]) -> str:
    listed = [[c, *dims, *extra] for c in PERIOD_COLUMNS.values() for dims in SETS.values()]
    return "grouping sets (" + ", ".join("(" + ", ".join(s) + ")" for s in listed) + ")"


def alternatives(current: str) -> dict[str, str]:
    """Each alternative over the same `source_rows` import CTE as the generated model."""
    missing = [name for name in [*DIMENSIONS, "m__active_customers", "m__new_customers__rows"] if name not in current]
    if missing or "), rows_in_periods as (" not in current:
        raise SystemExit(f"{MODEL} no longer has the columns this bench is written for: {missing}")
    head = current.split("), rows_in_periods as (")[0]
    dims = ", ".join(DIMENSIONS)
    grain_sets = (
        f"{_with_periods(head)}, period_values as (select {_grain_and_period()}, {_set_label()}, {dims}, {MEASURES} "
        f"from rows_with_periods group by {_sets([])}) select * from period_values"
    )
    parts = []
    for grain in PERIOD_COLUMNS:
        period = "__day" if grain == "day" else f"cast(date_trunc('{grain}', __day) as date)"
        by = ", ".join("(" + ", ".join(["period_start", *d]) + ")" for d in SETS.values())
        parts.append(
            f"select '{grain}' as grain, period_start, {_set_label()}, {dims}, {MEASURES} "
            f"from (select {period} as period_start, * from source_rows) as placed group by grouping sets ({by})"
        )
    union_grains = f"{head}), period_values as ({' union all '.join(parts)}) select * from period_values"
    customer_first = (
        f"{_with_periods(head)}, per_customer as (select {_grain_and_period()}, {_set_label()}, {dims}, "
        "m__active_customers as customer, bool_or(m__new_customers is not null) as is_new, "
        "bool_or(m__repeat_customers is not null) as is_repeat, count(m__new_customers__rows) as new_rows, "
        "count(m__repeat_customers__rows) as repeat_rows "
        f"from rows_with_periods group by {_sets(['m__active_customers'])}), "
        f"period_values as (select grain, period_start, __set, {dims}, count(customer) as m__active_customers, "
        "count(case when is_new then customer end) as m__new_customers, "
        "cast(sum(new_rows) as bigint) as m__new_customers__rows, "
        "count(case when is_repeat then customer end) as m__repeat_customers, "
        "cast(sum(repeat_rows) as bigint) as m__repeat_customers__rows "
        f"from per_customer group by grain, period_start, __set, {dims}) select * from period_values"
    )
    placed, rest = current.split("), period_values as (")
    window = rest[rest.index("  where\n") : rest.index("  group by")]
    per_grain_set = ", ".join(
        "(" + ", ".join(["grain", "period_start", *d, "m__active_customers"]) + ")" for d in SETS.values()
    )
    windowed_customer_first = (
        f"{placed}), per_customer as (select grain, period_start, {_set_label()}, {dims}, "
        "m__active_customers as customer, bool_or(m__new_customers is not null) as is_new, "
        "bool_or(m__repeat_customers is not null) as is_repeat, count(m__new_customers__rows) as new_rows, "
        "count(m__repeat_customers__rows) as repeat_rows "
        f"from rows_in_periods {window} group by grouping sets ({per_grain_set})), "
        + customer_first[customer_first.index("period_values as (") :]
    )
    return {
        "grain_sets": grain_sets,
        "union_grains": union_grains,
        "customer_first": customer_first,
        "windowed_customer_first": windowed_customer_first,
    }


def connect(warehouse: Path, copies_in_time: int, copies_of_entities: int) -> duckdb.DuckDBPyConnection:
    """The warehouse read-only, or an in-memory copy of the model's inputs with int_orders inflated."""
    path = str(warehouse / "kpiflow.duckdb")
    if copies_in_time * copies_of_entities == 1:
        return duckdb.connect(path, read_only=True)
    con = duckdb.connect()
    con.execute(f"attach '{path}' as built (read_only)")
    con.execute("create schema intermediate")
    con.execute("create table intermediate.dim_stores as select * from built.intermediate.dim_stores")
    con.execute(
        "create table intermediate.int_orders as select order_date + to_months(4 * t) as order_date, store_id, "
        "channel, customer_id || '-' || r as customer_id, employee_id || '-' || r as employee_id, is_first_order, "
        "is_repeat_order from built.intermediate.int_orders, range(?) as copies_in_time(t), "
        "range(?) as copies_of_entities(r)",
        [copies_in_time, copies_of_entities],
    )
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path, help="a built warehouse folder (holds kpiflow.duckdb)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies-in-time", type=int, default=1)
    parser.add_argument("--copies-of-entities", type=int, default=1)
    parser.add_argument("--baseline-ref", help="also time the model as generated at this git commit (e.g. 2aa4e86)")
    parser.add_argument("--window-start", default=FULL_BUILD_START, help="as kpiflow_window_start() renders")
    args = parser.parse_args()
    con = connect(args.warehouse, args.copies_in_time, args.copies_of_entities)
    rows = con.execute("select count(*) from intermediate.int_orders").fetchall()[0][0]
    threads = con.execute("select current_setting('threads')").fetchall()[0][0]
    print(f"int_orders rows: {rows:,}; duckdb {duckdb.__version__}; threads {threads}")
    current = rendered(MODEL.read_text(), con, args.window_start)
    queries = {}
    if args.baseline_ref:
        relative = MODEL.relative_to(MODEL.parents[2])
        old = subprocess.run(
            ["git", "show", f"{args.baseline_ref}:{relative}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=MODEL.parents[2],
        ).stdout
        queries[f"at {args.baseline_ref}"] = rendered(old, con, args.window_start)
    queries["generated"] = current
    queries.update(alternatives(queries[f"at {args.baseline_ref}"] if args.baseline_ref else current))
    first = next(iter(queries))
    for name, sql in queries.items():
        if name != first:
            reference = queries[first]
            only_first = con.execute(f"select count(*) from (({reference}) except all ({sql}))").fetchall()[0][0]
            only_here = con.execute(f"select count(*) from (({sql}) except all ({reference}))").fetchall()[0][0]
            print(f"{name}: rows only in {first} {only_first}, only in {name} {only_here}", flush=True)
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(args.repeat):
        for name, sql in queries.items():
            started = time.perf_counter()
            con.execute(f"select count(*) from ({sql})").fetchall()
            best[name] = min(best[name], time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name:24} best of {args.repeat}: {seconds:7.3f} s  {seconds / best[first]:.2f}x")


if __name__ == "__main__":
    main()
