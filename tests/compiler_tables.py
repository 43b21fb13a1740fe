"""The compiler test project's tables (tests/compiler/project), for the compiler tests and the run's checks of them.

A plain module rather than a conftest: tests outside tests/compiler (orchestration's declared-date checks) build the
same tables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

PROJECT = Path(__file__).parent / "compiler" / "project"

FIXTURE_SQL = """
create schema intermediate;
create table intermediate.int_sales as select * from (values
  ('l1', 'o1', 's1', 'c1', date '2024-01-05', 10.00::decimal(12,2), 2),
  ('l2', 'o1', 's1', 'c1', date '2024-01-05', 5.00, 1),
  ('l3', 'o2', 's2', 'c2', date '2024-02-10', 20.00, 3),
  ('l4', 'o3', 's1', 'c1', date '2025-01-07', 30.00, 1),
  ('l5', 'o4', 's2', 'c2', date '2024-02-11', 7.00, 1),
  ('l6', 'o5', 's3', 'c3', date '2024-03-31', 12.50, 4),
  ('l7', 'o6', 's2', null, date '2025-02-14', 40.00, 2),
  ('l8', 'o7', 's3', 'c2', date '2025-03-01', 8.00, 1)
) t(line_id, order_id, store_id, customer_id, sold_on, amount, quantity);
create table intermediate.dim_stores as select * from (values
  ('s1', 'north', 100), ('s2', 'south', 200), ('s3', 'north', 50)
) t(store_id, region, selling_area_sqft);
create table intermediate.int_inventory as select * from (values
  (date '2024-01-30', 's1', 100.0), (date '2024-01-31', 's1', 50.0), (date '2024-01-31', 's2', 70.0),
  (date '2024-01-30', 's2', 10.0), (date '2024-02-28', 's1', 60.0), (date '2024-02-29', 's1', 65.0),
  (date '2024-02-29', 's2', 5.0)
) t(snapshot_date, store_id, value);
create table intermediate.metricflow_time_spine as
  select cast(range as date) as date_day from range(date '2023-01-01', date '2026-12-31', interval 1 day);
"""


def sales_at_times_of_day(until: date | None = None) -> str:
    """int_sales.sold_on turned into timestamps: 23:59 on three lines, 00:15 on the others; rows from `until` on
    stay midnight (days)."""
    keep = f"sold_on >= date '{until}'" if until else "false"
    return f"""
create or replace table intermediate.int_sales as
  select * replace (
    case when {keep} then cast(sold_on as timestamp)
         else cast(sold_on as timestamp)
           + case when line_id in ('l1', 'l4', 'l6') then interval '23 hours 59 minutes' else interval '15 minutes' end
    end as sold_on
  )
  from intermediate.int_sales;
"""
