"""The generated retailer behaves like one: invariants that must always hold, and KPIs in plausible ranges."""

from __future__ import annotations

import duckdb
import pytest

# Each query counts rows that break a rule; all must be zero.
INVARIANTS: dict[str, str] = {
    "inventory is never negative": "select count(*) from raw.inventory_snapshots where units_on_hand < 0",
    "book balance = previous + received - sold": """
        with sold as (
            select o.store_id, l.product_id, o.order_ts::date as d, sum(l.quantity) as units
            from raw.orders o join raw.order_lines l using (order_id) group by all
        ), flows as (
            select s.*, lag(s.units_on_hand) over (partition by s.store_id, s.product_id order by s.snapshot_date)
                       as before,
                   coalesce(r.quantity, 0) as received, coalesce(sold.units, 0) as sold
            from raw.inventory_snapshots s
            left join raw.inventory_receipts r
              on r.store_id = s.store_id and r.product_id = s.product_id and r.received_on = s.snapshot_date
            left join sold on sold.store_id = s.store_id and sold.product_id = s.product_id and sold.d = s.snapshot_date
        )
        select count(*) from flows where before is not null and units_on_hand != before + received - sold""",
    "counts see the book of their day": """
        select count(*) from raw.inventory_counts c join raw.inventory_snapshots s
          on s.snapshot_date = c.count_date and s.store_id = c.store_id and s.product_id = c.product_id
        where s.units_on_hand != c.book_units""",
    "terminations come after hires": "select count(*) from raw.employees where termination_date <= hire_date",
    "termination reason iff terminated": """
        select count(*) from raw.employees
        where (termination_date is null) != (termination_reason is null)
           or termination_reason not in ('resignation', 'dismissal', 'retirement')""",
    "absences only while employed, within a day": """
        select count(*) from raw.absences a join raw.employees e using (employee_id)
        where a.absence_date < e.hire_date or a.absence_date >= coalesce(e.termination_date, date '9999-12-31')
           or a.hours <= 0 or a.hours > 8""",
    "trainings only while employed": """
        select count(*) from raw.trainings t join raw.employees e using (employee_id)
        where t.completed_on < e.hire_date or t.completed_on >= coalesce(e.termination_date, date '9999-12-31')""",
    "traffic exceeds the day's orders": """
        select count(*) from raw.store_traffic t
        left join (select store_id, order_ts::date as d, count(*) as n from raw.orders group by all) o
          on o.store_id = t.store_id and o.d = t.traffic_date
        where t.visitors <= coalesce(o.n, 0)""",
    "traffic only for physical stores, every day": """
        select (select count(*) from raw.store_traffic join raw.stores using (store_id) where store_type != 'physical')
             + abs((select count(*) from raw.store_traffic)
                   - (select count(*) from raw.stores where store_type = 'physical')
                     * (select count(distinct order_ts::date) from raw.orders))""",
    "selling area below total area; online has none": """
        select count(*) from raw.stores
        where (store_type = 'physical' and not selling_area_sqft < total_area_sqft)
           or (store_type = 'online' and (selling_area_sqft is not null or total_area_sqft is not null))""",
    "channel follows the store type": """
        select count(*) from raw.orders o join raw.stores s using (store_id)
        where (s.store_type = 'online') != (o.channel = 'online') or o.channel not in ('store', 'online')""",
    "returns come after the order, at most the line's quantity": """
        select count(*) from raw.returns r join raw.orders o using (order_id)
        join raw.order_lines l on l.order_id = r.order_id and l.line_no = r.line_no
        where r.return_ts <= o.order_ts or r.quantity < 1 or r.quantity > l.quantity
           or r.refund_amount > r.quantity * l.unit_price""",
    "line quantities are positive and discounts below the price": """
        select count(*) from raw.order_lines
        where quantity < 1 or discount_amount < 0 or discount_amount >= quantity * unit_price""",
    "sellers were employed when they sold": """
        select count(*) from raw.orders o join raw.employees e using (employee_id)
        where o.order_ts::date < e.hire_date or o.order_ts::date >= coalesce(e.termination_date, date '9999-12-31')""",
    "lead owners are sales managers and won orders exist": """
        select count(*) from raw.crm_leads l
        left join raw.employees e on e.employee_id = l.owner_employee_id
        left join raw.orders o on o.order_id = l.won_order_id
        where e.job_role is distinct from 'sales_manager'
           or (l.won_order_id is not null and (o.order_id is null or o.order_ts < l.first_response_ts))
           or l.first_response_ts < l.created_ts""",
    "activities refer to existing leads, not before them": """
        select count(*) from raw.crm_activities a left join raw.crm_leads l using (lead_id)
        where a.activity_ts < l.created_ts""",
    "agreement is an outcome of calls only": """
        select count(*) from raw.crm_activities a join raw.crm_leads l using (lead_id)
        where a.outcome = 'agreement' and a.activity_type != 'call'""",
    "assignments cover the employee's current store": """
        select count(*) from raw.employees e
        where not exists (select 1 from raw.employee_assignments a
                          where a.employee_id = e.employee_id and a.store_id = e.store_id
                            and a.valid_from >= e.hire_date)""",
    "hired applicants became employees on their hire day": """
        select count(*) from raw.job_applications a left join raw.employees e on e.employee_id = a.hired_employee_id
        where a.hired_on is not null and (e.hire_date is distinct from a.hired_on or not a.is_qualified)""",
}

# (name, query returning one number, low, high)
RANGES: list[tuple[str, str, float, float]] = [
    (
        "refunds / sales",
        """
        select (select sum(refund_amount) from raw.returns)
             / (select sum(quantity * unit_price - discount_amount) from raw.order_lines)""",
        0.005,
        0.10,
    ),
    (
        "gross margin",
        """
        select sum(quantity * unit_price - discount_amount - quantity * unit_cost)
             / sum(quantity * unit_price - discount_amount) from raw.order_lines""",
        0.30,
        0.50,
    ),
    (
        "conversion",
        """
        select (select count(*) from raw.orders where channel = 'store')
             / (select sum(visitors) from raw.store_traffic)""",
        0.10,
        0.40,
    ),
    (
        "stockout share of snapshots",
        """
        select avg((units_on_hand = 0)::int) from raw.inventory_snapshots""",
        0.005,
        0.15,
    ),
    (
        "shrinkage rate",
        """
        select sum((book_units - counted_units) * unit_cost) / sum(book_units * unit_cost)
        from raw.inventory_counts""",
        0.005,
        0.04,
    ),
    ("orders with a known customer", "select avg((customer_id is not null)::int) from raw.orders", 0.3, 0.9),
    ("lead win rate", "select avg((won_order_id is not null)::int) from raw.crm_leads", 0.05, 0.40),
]


@pytest.mark.parametrize("rule", sorted(INVARIANTS))
def test_invariant_holds(tiny_con: duckdb.DuckDBPyConnection, rule: str) -> None:
    broken = tiny_con.execute(INVARIANTS[rule]).fetchone()[0]
    assert broken == 0, f"{rule}: {broken} rows break it"


@pytest.mark.parametrize(("name", "query", "low", "high"), RANGES, ids=[r[0] for r in RANGES])
def test_kpi_is_plausible(tiny_con: duckdb.DuckDBPyConnection, name: str, query: str, low: float, high: float) -> None:
    value = float(tiny_con.execute(query).fetchone()[0])
    assert low <= value <= high, f"{name} = {value:.4f}, expected {low}..{high}"


@pytest.mark.parametrize(
    ("table", "day_column"),
    [
        ("orders", "order_ts"),
        ("store_traffic", "traffic_date"),
        ("inventory_snapshots", "snapshot_date"),
        ("expenses", "expense_date"),
        ("crm_leads", "created_ts"),
        ("absences", "absence_date"),
        ("inventory_receipts", "received_on"),
        ("inventory_counts", "count_date"),
    ],
)
def test_every_month_has_data(tiny_con: duckdb.DuckDBPyConnection, table: str, day_column: str) -> None:
    months = tiny_con.execute(f"select count(distinct date_trunc('month', {day_column})) from raw.{table}").fetchone()
    assert months[0] == 3  # the tiny warehouse spans January..March 2024


def test_weekends_are_busier_in_stores(tiny_con: duckdb.DuckDBPyConnection) -> None:
    saturday, tuesday = tiny_con.execute(
        "select count(*) filter (where dayofweek(order_ts) = 6), count(*) filter (where dayofweek(order_ts) = 2) "
        "from raw.orders where channel = 'store'"
    ).fetchone()
    assert saturday > 1.2 * tuesday


def test_enough_managers_and_staff_per_store(tiny_con: duckdb.DuckDBPyConnection) -> None:
    stores_without = tiny_con.execute(
        """
        select count(*) from raw.stores s
        where not exists (select 1 from raw.employees e where e.store_id = s.store_id and e.job_role = 'store_manager')
           or not exists (select 1 from raw.employees e where e.store_id = s.store_id and e.job_role = 'sales_manager')
        """
    ).fetchone()[0]
    assert stores_without == 0
    smallest_group = tiny_con.execute(
        "select min(n) from (select store_id, department, count(*) as n from raw.employees group by all)"
    ).fetchone()[0]
    assert smallest_group >= 5
    physical, online = tiny_con.execute(
        "select count(*) filter (where store_type = 'physical'), count(*) filter (where store_type = 'online') "
        "from raw.stores"
    ).fetchone()
    assert physical >= 4 and online == 1
