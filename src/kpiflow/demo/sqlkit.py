"""The small SQL toolkit every generator module shares: parameter substitution and seeded randomness.

Randomness is `hash(seed, stream, keys...)`: a row's values depend only on the seed and on what the row is
(a day, a store, an order), never on how many rows came before it or on thread scheduling. That is what
makes the output identical for the same seed and makes appending a day equal to generating it in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import duckdb

from kpiflow.demo.spec import DemoSpec, GenerationWindow

# Volume model at scale 1: orders per day before trend, season and weekday effects.
ANONYMOUS_ORDERS_PER_DAY = 300.0
CUSTOMER_SIGNUPS_PER_DAY = 95.0
EXPECTED_CUSTOMER_ORDERS_PER_DAY = 400.0
ONLINE_HOME_SHARE = 0.40
EXPECTED_LINES_PER_ORDER = 2.08


@dataclass(frozen=True)
class Step:
    """One CREATE TABLE: a work table (temp, covers the replayed days) or a raw table emitted to the warehouse.

    Emitted tables are leaves: no step reads them, so an append can emit only its new days.
    """

    table: str
    sql: str
    emitted: bool = False
    order_by: str = ""


def render(sql: str, spec: DemoSpec, window: GenerationWindow) -> str:
    """Fill $placeholders with SQL literals for this build."""

    def day(value: object) -> str:
        return f"DATE '{value}'"

    return Template(sql).substitute(
        seed=str(spec.seed),
        scale=repr(float(spec.scale)),
        meta_start=day(spec.start),
        origin=day(spec.history_origin),
        first_day=day(window.first_day),
        last_day=day(window.last_day),
        work_start=day(window.work_start),
        n_physical=str(spec.physical_store_count),
        n_products=str(spec.product_count),
        anonymous_orders=repr(ANONYMOUS_ORDERS_PER_DAY),
        signups=repr(CUSTOMER_SIGNUPS_PER_DAY),
        customer_orders=repr(EXPECTED_CUSTOMER_ORDERS_PER_DAY),
        online_home_share=repr(ONLINE_HOME_SHARE),
        lines_per_order=repr(EXPECTED_LINES_PER_ORDER),
    )


MACROS = """
create or replace temp macro rnd(stream, a, b, c) as
    ((hash($seed, stream, a, b, c) >> 11)::double / 9007199254740992.0);
create or replace temp macro rnorm(stream, a, b, c) as
    (sqrt(-2.0 * ln(1.0 - rnd(stream || '#1', a, b, c))) * cos(2.0 * pi() * rnd(stream || '#2', a, b, c)));
create or replace temp macro day_key(d) as ((year(d) * 10000 + month(d) * 100 + day(d))::bigint);
create or replace temp macro event_id(d, seq) as (day_key(d) * 10000000 + seq);
create or replace temp macro month_season(d) as
    ([0.86, 0.82, 0.95, 0.97, 1.00, 0.92, 0.86, 0.89, 0.97, 1.02, 1.15, 1.50][month(d)]);
create or replace temp macro season(d) as
    (month_season(d) * case
        when month(d) = 11 and day(d) >= 24 then 1.25
        when month(d) = 12 and day(d) between 18 and 23 then 1.15
        when month(d) = 12 and day(d) in (25, 26) then 0.6
        else 1.0 end);
create or replace temp macro weekday_factor(d, is_online) as (case when is_online
    then [1.05, 1.10, 1.05, 1.00, 0.98, 0.92, 0.90][dayofweek(d) + 1]
    else [1.15, 0.80, 0.80, 0.85, 0.90, 1.10, 1.40][dayofweek(d) + 1] end);
create or replace temp macro trend(d) as (pow(1.10, datediff('day', $meta_start, d) / 365.25));
create or replace temp macro cycle_start(d, delivery_dow) as
    (greatest($meta_start, (d - ((dayofweek(d) - delivery_dow + 7) % 7)::int)::date));
create or replace temp macro stock_level(weekly_units, cycle_day) as
    (greatest(2, ceil(weekly_units * trend(cycle_day)))::int);
create or replace temp macro promo_share(d) as (case
    when month(d) = 11 and day(d) >= 24 then 0.55
    when month(d) = 1 and day(d) between 2 and 20 then 0.40
    when month(d) = 8 and day(d) <= 15 then 0.30
    else 0.14 end);
"""


def install_macros(con: duckdb.DuckDBPyConnection, spec: DemoSpec, window: GenerationWindow) -> None:
    """Define the seeded random and calendar macros on this connection."""
    con.execute(render(MACROS, spec, window))
